// HttpExchange, the plain HTTP_GET response parser, fed responses cut at every byte (reads split anywhere), and
// the request it writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { HttpExchange, MAX_HEADER_BYTES, plainRequest } from '../../src/check/http-plain.ts';

const md5 = (s: string | Buffer) => createHash('md5').update(s).digest('hex');
const always = () => true;

/** Feeds `response` in reads of the given sizes (cycled) as the engine does, through one shared buffer. */
function feed(response: string | Buffer, sizes: number[], options: { readBody?: (s: number) => boolean; max?: number; eof?: boolean } = {}) {
  const ex = new HttpExchange(Buffer.from('GET / HTTP/1.0\r\n\r\n'), options.readBody ?? always, options.max ?? 1 << 20);
  ex.connected();
  const bytes = Buffer.from(response);
  const shared = Buffer.alloc(1 << 16);
  let over = false;
  for (let at = 0, i = 0; at < bytes.length && !over; i++) {
    const n = Math.min(sizes[i % sizes.length]!, bytes.length - at);
    shared.fill(0xee);
    bytes.copy(shared, 0, at, at + n);
    over = ex.received(shared, n);
    at += n;
  }
  if (!over && options.eof !== false) ex.ended();
  return ex;
}

const splits = (len: number) => [[len], [1], [2], [3], [7], ...Array.from({ length: len }, (_, k) => [k + 1, len])];

test('Content-Length body: status and MD5 over exactly Content-Length bytes, however the reads fall', () => {
  const response = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello worldTRAILING';
  for (const sizes of splits(response.length)) {
    const ex = feed(response, sizes);
    assert.equal(ex.failure, undefined, `${sizes}: ${ex.message}`);
    assert.equal(ex.status, 200);
    assert.equal(ex.digest, md5('hello world'), String(sizes));
    assert.equal(ex.bytes, 11);
  }
});

test('chunked body is decoded (extensions and trailers ignored), however the reads fall', () => {
  const response = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\nA\r\n0123456789\r\n0\r\nX-Trailer: y\r\n\r\n';
  for (const sizes of splits(response.length)) {
    const ex = feed(response, sizes, { eof: false });
    assert.equal(ex.failure, undefined, `${sizes}: ${ex.message}`);
    assert.equal(ex.digest, md5('hello world0123456789'), String(sizes));
  }
});

test('close-delimited body ends at EOF; no body for 204; an empty Content-Length body', () => {
  const response = 'HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody until close';
  for (const sizes of splits(response.length)) assert.equal(feed(response, sizes).digest, md5('body until close'), String(sizes));
  assert.equal(feed('HTTP/1.1 204 No Content\r\n\r\n', [5], { eof: false }).digest, md5(''));
  assert.equal(feed('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', [5], { eof: false }).digest, md5(''));
});

test('without readBody the exchange ends after the headers; with it, cut-short and malformed responses fail', () => {
  const skip = feed('HTTP/1.1 503 Busy\r\nContent-Length: 99\r\n\r\nabc', [4], { readBody: () => false, eof: false });
  assert.equal(skip.status, 503);
  assert.equal(skip.digest, undefined);
  assert.equal(skip.failure, undefined);
  assert.equal(feed('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nhello', [9]).message, 'connection closed before a complete response');
  assert.equal(feed('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel', [9]).failure, 'HTTP_ERROR');
  assert.equal(feed('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', [9]).message, 'malformed chunked body');
  assert.equal(feed('HTTP/1.1 200 OK\r\nContent-', [9]).message, 'connection closed before a complete response');
  assert.match(feed('SSH-2.0-OpenSSH\r\n\r\n', [50]).message, /^malformed status line/);
  assert.equal(feed(`HTTP/1.1 200 OK\r\nX: ${'y'.repeat(MAX_HEADER_BYTES)}\r\n\r\n`, [4096]).message, `response headers larger than ${MAX_HEADER_BYTES} bytes`);
});

test('body cap: by Content-Length at once, by bytes for chunked and close-delimited bodies', () => {
  assert.equal(feed('HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n', [50], { max: 100 }).failure, 'HTTP_BODY_TOO_LARGE');
  const chunked = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${'10\r\n0123456789abcdef\r\n'.repeat(10)}`;
  assert.equal(feed(chunked, [33], { max: 100 }).message, 'body larger than 100 bytes');
  assert.equal(feed(`HTTP/1.0 200 OK\r\n\r\n${'x'.repeat(101)}`, [33], { max: 100 }).failure, 'HTTP_BODY_TOO_LARGE');
});

test('the request: keepalived\'s GET with the http_protocol version, Connection: close and the Host header', () => {
  assert.equal(plainRequest('/health', 'www.example.test', '1.0').toString(),
    'GET /health HTTP/1.0\r\nUser-Agent: ipvs-ts-check\r\nConnection: close\r\nHost: www.example.test\r\n\r\n');
  assert.match(plainRequest('/', '[::1]:80', '1.0C').toString(), /^GET \/ HTTP\/1\.0\r\n/);
  assert.match(plainRequest('/', '10.0.0.1:80', '1.1').toString(), /^GET \/ HTTP\/1\.1\r\n.*Host: 10\.0\.0\.1:80\r\n\r\n$/s);
});
