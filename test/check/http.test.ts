import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { checkHttp } from '../../src/check/http.ts';
import type { HttpCheck, HttpUrl } from '../../src/config/model.ts';
import { httpCheck, pos } from './model.ts';
import { blackholePort, close, closedPort, listen } from './servers.ts';

const never = new AbortController().signal;
const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const url = (over: Partial<HttpUrl> = {}): HttpUrl => ({ path: '/health', statusCodes: [{ from: 200, to: 299 }], pos, ...over });

/** An HTTP server answering every request with `handler`; records the requests it saw. */
async function serve(t: { after: (fn: () => Promise<void>) => void }, handler: http.RequestListener) {
  const seen: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req);
    handler(req, res);
  });
  const port = await listen(server);
  t.after(() => close(server));
  return { port, seen };
}

/** A raw TCP server that writes what `onConnection` decides, for responses node:http would refuse to produce. */
async function serveRaw(t: { after: (fn: () => Promise<void>) => void }, onConnection: (s: net.Socket) => void) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.once('data', () => onConnection(s));
  });
  const port = await listen(server);
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await close(server);
  });
  return port;
}

const check = (port: number, over: Partial<HttpCheck> = {}) => httpCheck({ connectPort: port, urls: [url()], connectTimeoutMs: 1_000, ...over });

test('HTTP_GET passes on each 2xx status and fails on the others with the status in the reason', async (t) => {
  let status = 200;
  const { port } = await serve(t, (_req, res) => {
    res.statusCode = status;
    res.end('x');
  });
  for (const s of [200, 204, 299]) {
    status = s;
    assert.equal((await checkHttp(check(port), never)).ok, true, `status ${s}`);
  }
  for (const s of [301, 404, 500, 503]) {
    status = s;
    const r = await checkHttp(check(port), never);
    assert.equal(r.code, 'HTTP_STATUS', `status ${s}`);
    assert.equal(r.reason, `/health: status ${s} not in 200-299`);
  }
});

test('status_code lists and ranges are honoured', async (t) => {
  let status = 302;
  const { port } = await serve(t, (_req, res) => {
    res.statusCode = status;
    res.end();
  });
  const codes = [{ from: 200, to: 200 }, { from: 301, to: 302 }];
  assert.equal((await checkHttp(check(port, { urls: [url({ statusCodes: codes })] }), never)).ok, true);
  status = 201;
  assert.equal((await checkHttp(check(port, { urls: [url({ statusCodes: codes })] }), never)).reason, '/health: status 201 not in 200,301-302');
});

test('digest: the right body passes, a wrong body fails with both MD5s in the reason', async (t) => {
  const { port } = await serve(t, (_req, res) => res.end('hello world'));
  assert.equal((await checkHttp(check(port, { urls: [url({ digest: md5('hello world') })] }), never)).ok, true);
  const r = await checkHttp(check(port, { urls: [url({ digest: md5('something else') })] }), never);
  assert.equal(r.code, 'HTTP_DIGEST');
  assert.match(r.reason, new RegExp(md5('hello world')));
});

test('digest over a chunked body', async (t) => {
  const { port } = await serve(t, (_req, res) => {
    res.write('part one, ');
    setTimeout(() => res.end('part two'), 20);
  });
  assert.equal((await checkHttp(check(port, { urls: [url({ digest: md5('part one, part two') })] }), never)).ok, true);
});

test('every url must pass, in order', async (t) => {
  const { port, seen } = await serve(t, (req, res) => {
    res.statusCode = req.url === '/bad' ? 500 : 200;
    res.end();
  });
  const r = await checkHttp(check(port, { urls: [url({ path: '/a' }), url({ path: '/bad' }), url({ path: '/c' })] }), never);
  assert.equal(r.reason, '/bad: status 500 not in 200-299');
  assert.deepEqual(seen.map((q) => q.url), ['/a', '/bad']);
});

test('Host header: url virtualhost > checker virtualhost > ip:port', async (t) => {
  const { port, seen } = await serve(t, (_req, res) => res.end());
  await checkHttp(check(port), never);
  await checkHttp(check(port, { virtualhost: 'www.example.test' }), never);
  await checkHttp(check(port, { virtualhost: 'www.example.test', urls: [url({ virtualhost: 'url.example.test' })] }), never);
  assert.deepEqual(seen.map((q) => q.headers.host), [`127.0.0.1:${port}`, 'www.example.test', 'url.example.test']);
  assert.equal(seen[0]!.headers.connection, 'close');
});

test('IPv6 targets get a bracketed Host header', async (t) => {
  const seen: (string | undefined)[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers.host);
    res.end();
  });
  let port: number;
  try {
    port = await listen(server, '::1');
  } catch {
    t.skip('no IPv6 loopback on this host');
    return;
  }
  t.after(() => close(server));
  const r = await checkHttp(check(port, { connectIp: '::1' }), never);
  assert.equal(r.ok, true, r.reason);
  assert.deepEqual(seen, [`[::1]:${port}`]);
});

test('Content-Length shorter than the body: the digest covers Content-Length bytes', async (t) => {
  const port = await serveRaw(t, (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello world'));
  const r = await checkHttp(check(port, { urls: [url({ digest: md5('hello') })] }), never);
  assert.equal(r.ok, true, r.reason);
});

test('a body cut short of its Content-Length fails', async (t) => {
  const port = await serveRaw(t, (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nhello'));
  const r = await checkHttp(check(port, { urls: [url({ digest: md5('hello') })] }), never);
  assert.equal(r.code, 'HTTP_ERROR', r.reason);
});

test('a body that never ends fails at the body cap', async (t) => {
  const port = await serveRaw(t, (s) => {
    s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
    const chunk = `4000\r\n${'x'.repeat(0x4000)}\r\n`;
    const pump = () => {
      while (!s.destroyed && s.write(chunk));
      if (!s.destroyed) s.once('drain', pump);
    };
    pump();
  });
  const r = await checkHttp(check(port, { urls: [url({ digest: md5('x') })] }), never, { maxBodyBytes: 100_000 });
  assert.equal(r.code, 'HTTP_BODY_TOO_LARGE', r.reason);
  assert.equal(r.reason, '/health: body larger than 100000 bytes');
});

test('a body that trickles forever fails at connect_timeout', async (t) => {
  const port = await serveRaw(t, (s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n');
    const timer = setInterval(() => (s.destroyed ? clearInterval(timer) : s.write('x')), 20);
  });
  const r = await checkHttp(check(port, { connectTimeoutMs: 300, urls: [url({ digest: md5('x') })] }), never);
  assert.equal(r.code, 'HTTP_TIMEOUT', r.reason);
  assert.equal(r.reason, '/health: body not complete within 300 ms');
  assert.ok(r.latencyMs < 3_000);
});

test('headers that trickle forever fail at connect_timeout', async (t) => {
  const port = await serveRaw(t, (s) => {
    s.write('HTTP/1.1 200 OK\r\n');
    const timer = setInterval(() => (s.destroyed ? clearInterval(timer) : s.write('X-Slow: y\r\n')), 20);
  });
  const r = await checkHttp(check(port, { connectTimeoutMs: 300 }), never);
  assert.equal(r.code, 'HTTP_TIMEOUT', r.reason);
  assert.equal(r.reason, '/health: no response headers within 300 ms');
});

test('without a digest the body is not read, so an endless body still passes on its status', async (t) => {
  const port = await serveRaw(t, (s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n');
    const timer = setInterval(() => (s.destroyed ? clearInterval(timer) : s.write('x')), 20);
  });
  const r = await checkHttp(check(port, { connectTimeoutMs: 300 }), never);
  assert.equal(r.ok, true, r.reason);
});

test('connection refused', async () => {
  const r = await checkHttp(check(await closedPort()), never);
  assert.equal(r.code, 'CONNECT_REFUSED');
});

test('a server that closes without answering fails', async (t) => {
  const port = await serveRaw(t, (s) => s.end());
  const r = await checkHttp(check(port), never);
  assert.equal(r.code, 'HTTP_ERROR', r.reason);
});

test('HTTP_GET sends keepalived\'s request: GET with the http_protocol version, Connection: close, no body', async (t) => {
  const lines: string[] = [];
  const raw = net.createServer((s) => {
    s.once('data', (d) => {
      lines.push(d.toString('latin1'));
      s.end('HTTP/1.0 200 OK\r\n\r\n');
    });
  });
  const rawPort = await listen(raw);
  t.after(() => close(raw));
  assert.equal((await checkHttp(check(rawPort, { httpProtocol: '1.0' }), never)).ok, true);
  assert.equal((await checkHttp(check(rawPort, { httpProtocol: '1.1', virtualhost: 'v.test' }), never)).ok, true);
  assert.equal(lines[0], `GET /health HTTP/1.0\r\nUser-Agent: ipvs-ts-check\r\nConnection: close\r\nHost: 127.0.0.1:${rawPort}\r\n\r\n`);
  assert.match(lines[1]!, /^GET \/health HTTP\/1\.1\r\n.*Host: v\.test\r\n\r\n$/s);
});

test('HTTP_GET to a server that never accepts times out with "no connection"; aborting ends it at once', async (t) => {
  const hole = await blackholePort();
  t.after(() => hole.close());
  // The backlog of 1 fills first; later connects stay in SYN_SENT.
  const fillers = [checkHttp(check(hole.port, { connectTimeoutMs: 400 }), never), checkHttp(check(hole.port, { connectTimeoutMs: 400 }), never)];
  const r = await checkHttp(check(hole.port, { connectTimeoutMs: 400 }), never);
  await Promise.all(fillers);
  assert.equal(r.code, 'HTTP_TIMEOUT');
  assert.match(r.reason, /^\/health: (no connection|no response headers) within 400 ms$/);
  const ac = new AbortController();
  const pending = checkHttp(check(hole.port, { connectTimeoutMs: 10_000 }), ac.signal);
  setTimeout(() => ac.abort(), 50);
  const aborted = await pending;
  assert.equal(aborted.code, 'ABORTED');
  assert.ok(aborted.latencyMs < 5_000);
});

test('HTTP_GET: hundreds of checks in flight leave no descriptor behind', async (t) => {
  const { port } = await serve(t, (_req, res) => res.end('hello world'));
  const fds = () => readdirSync('/proc/self/fd').length;
  const before = fds();
  const results = await Promise.all(Array.from({ length: 300 }, () => checkHttp(check(port, { urls: [url({ digest: md5('hello world') })] }), never)));
  assert.deepEqual(results.filter((r) => !r.ok).map((r) => r.reason), []);
  assert.ok(fds() <= before + 2, `${before} → ${fds()} descriptors`);
});
