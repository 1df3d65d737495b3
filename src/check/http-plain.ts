// HTTP_GET over plain TCP, the way keepalived's check_http.c does it: one GET on a bare non-blocking socket (the
// connect TCP_CHECK uses, tcp-connect.ts), the response read through the same epoll set into one shared buffer, the
// status line and headers parsed once, the body streamed into the MD5. One HttpExchange per request holds the
// parser's state; nothing else is allocated per check but the socket, its promise and, for a body that arrives in
// more than one read, a Hash. The whole exchange is bounded by connect_timeout through the connects' own deadline
// heap. Bodies: Content-Length (hashed over exactly that many bytes), chunked (a 1.1 server may send it) and
// close-delimited; 1xx, 204 and 304 responses have none.
import { createHash, hash, type Hash } from 'node:crypto';
import type { CheckFailureCode } from './errors.ts';
import type { Conversation } from './tcp-connect.ts';

/** Response headers beyond this fail the check: no health page needs more, and the buffer must stay bounded. */
export const MAX_HEADER_BYTES = 16 * 1024;
const MAX_CHUNK_LINE = 1024;
const LF = 10;
const HEADER_END = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/\d\.\d (\d{3})(?:[ \r]|$)/;
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)[ \t]*\r/i;
const CHUNKED = /\r\ntransfer-encoding:[^\r]*\bchunked\b/i;

const HEADERS = 0;
const LENGTH_BODY = 1;
const CLOSE_BODY = 2;
const CHUNK_SIZE = 3;
const CHUNK_DATA = 4;
const CHUNK_END = 5;
const DONE = 6;

/**
 * The request line is `GET path HTTP/1.0` for http_protocol 1.0 and 1.0C and `HTTP/1.1` for 1.1, as keepalived
 * sends it; every request carries `Connection: close` (what 1.0C and 1.1 add in keepalived, and what a 1.0 request
 * means anyway), so the server closes after one response.
 */
export function plainRequest(path: string, host: string, protocol: '1.0' | '1.0C' | '1.1'): Buffer {
  const version = protocol === '1.1' ? '1.1' : '1.0';
  return Buffer.from(`GET ${path} HTTP/${version}\r\nUser-Agent: ipvs-ts-check\r\nConnection: close\r\nHost: ${host}\r\n\r\n`);
}

export type HttpPhase = 'no connection' | 'no response headers' | 'body not complete';

export class HttpExchange implements Conversation {
  /** How far the exchange got: the timeout message names the part that did not arrive. */
  phase: HttpPhase = 'no connection';
  status = 0;
  /** Body bytes read (after chunk decoding). */
  bytes = 0;
  /** MD5 of the body, lower-case hex; set once the whole body has been read. */
  digest: string | undefined;
  /** Set when the response itself was at fault (malformed, cut short, too large). */
  failure: CheckFailureCode | undefined;
  message = '';
  private state: number = HEADERS;
  /** Header bytes of earlier reads, when the headers span more than one. */
  private head: Buffer | null = null;
  /** Body bytes (LENGTH_BODY) or chunk bytes (CHUNK_DATA) still to come. */
  private remaining = 0;
  private chunkLine = '';
  private md5: Hash | null = null;
  private readonly request: Uint8Array;
  private readonly readBody: (status: number) => boolean;
  private readonly maxBodyBytes: number;

  /** `readBody(status)` says whether the body is needed; if not, the exchange ends after the headers. */
  constructor(request: Uint8Array, readBody: (status: number) => boolean, maxBodyBytes: number) {
    this.request = request;
    this.readBody = readBody;
    this.maxBodyBytes = maxBodyBytes;
  }

  connected(): Uint8Array {
    this.phase = 'no response headers';
    return this.request;
  }

  received(data: Buffer, length: number): boolean {
    let at = 0;
    if (this.state === HEADERS) {
      at = this.headers(data, length);
      if (at < 0) return this.over;
    }
    while (at < length && !this.over) at = this.body(data, at, length);
    return this.over;
  }

  /** Read through a method: TypeScript would otherwise keep `state` narrowed across the calls that change it. */
  private get over(): boolean {
    return this.state === DONE;
  }

  ended(): void {
    if (this.state === CLOSE_BODY) return this.complete();
    if (this.state !== DONE) this.fail('HTTP_ERROR', 'connection closed before a complete response');
  }

  /** Parses the headers once they are all in; returns where the body starts in `data`, or -1 if not yet (or failed). */
  private headers(data: Buffer, length: number): number {
    const start = this.head === null ? 0 : Math.max(0, this.head.length - 3);
    const buf = this.head === null ? data.subarray(0, length) : Buffer.concat([this.head, data.subarray(0, length)]);
    const end = buf.indexOf(HEADER_END, start);
    if ((end < 0 ? buf.length : end) > MAX_HEADER_BYTES) {
      this.fail('HTTP_ERROR', `response headers larger than ${MAX_HEADER_BYTES} bytes`);
      return -1;
    }
    if (end < 0) {
      // `data` is the shared read buffer: what stays must be a copy.
      this.head = this.head === null ? Buffer.from(buf) : buf;
      return -1;
    }
    const text = buf.toString('latin1', 0, end + 2);
    const status = STATUS_LINE.exec(text);
    if (status === null) {
      this.fail('HTTP_ERROR', `malformed status line: ${JSON.stringify(text.slice(0, text.indexOf('\r')).slice(0, 80))}`);
      return -1;
    }
    this.status = Number(status[1]);
    if (!this.readBody(this.status)) {
      this.state = DONE;
      return -1;
    }
    this.phase = 'body not complete';
    const bodyAt = end + 4 - (this.head === null ? 0 : this.head.length);
    this.head = null;
    const length_ = CONTENT_LENGTH.exec(text);
    if (this.status < 200 || this.status === 204 || this.status === 304) this.complete();
    else if (CHUNKED.test(text)) this.state = CHUNK_SIZE;
    else if (length_ === null) this.state = CLOSE_BODY;
    else if ((this.remaining = Number(length_[1])) > this.maxBodyBytes) this.tooLarge();
    else if (this.remaining === 0) this.complete();
    else this.state = LENGTH_BODY;
    return bodyAt;
  }

  /** Consumes body bytes from `at`; returns where it stopped. */
  private body(data: Buffer, at: number, length: number): number {
    switch (this.state) {
      case LENGTH_BODY: {
        const n = Math.min(this.remaining, length - at);
        this.remaining -= n;
        this.take(data, at, n, this.remaining === 0);
        if (this.remaining === 0 && !this.over) this.complete();
        return at + n;
      }
      case CLOSE_BODY:
        this.take(data, at, length - at, false);
        return length;
      case CHUNK_DATA: {
        const n = Math.min(this.remaining, length - at);
        this.remaining -= n;
        this.take(data, at, n, false);
        if (this.remaining === 0) this.state = CHUNK_END;
        return at + n;
      }
      case CHUNK_END:
        // The CRLF after a chunk's data.
        if (data[at] === LF) this.state = CHUNK_SIZE;
        return at + 1;
      case CHUNK_SIZE:
        return this.chunkSize(data, at, length);
      default:
        return length;
    }
  }

  /** A chunk-size line (hex, maybe `;extensions`); size 0 ends the body (trailers are not read). */
  private chunkSize(data: Buffer, at: number, length: number): number {
    const lf = data.indexOf(LF, at);
    const end = lf < 0 || lf >= length ? length : lf;
    this.chunkLine += data.toString('latin1', at, end);
    if (end === length) {
      if (this.chunkLine.length > MAX_CHUNK_LINE) this.fail('HTTP_ERROR', 'malformed chunked body');
      return length;
    }
    const line = this.chunkLine;
    this.chunkLine = '';
    const size = parseInt(line, 16);
    if (!/^[0-9a-fA-F]+[ \t]*(;|\r?$)/.test(line) || !Number.isSafeInteger(size)) {
      this.fail('HTTP_ERROR', 'malformed chunked body');
    } else if (size === 0) {
      this.complete();
    } else {
      this.remaining = size;
      this.state = CHUNK_DATA;
    }
    return end + 1;
  }

  /** Hashes `n` body bytes at `at`; a body that arrives whole in one read is hashed in one call, without a Hash. */
  private take(data: Buffer, at: number, n: number, last: boolean): void {
    this.bytes += n;
    if (this.bytes > this.maxBodyBytes) return this.tooLarge();
    if (this.md5 === null && last) {
      this.digest = hash('md5', data.subarray(at, at + n), 'hex');
      return;
    }
    (this.md5 ??= createHash('md5')).update(data.subarray(at, at + n));
  }

  private complete(): void {
    this.state = DONE;
    this.digest ??= this.md5 === null ? hash('md5', '', 'hex') : this.md5.digest('hex');
  }

  private tooLarge(): void {
    this.fail('HTTP_BODY_TOO_LARGE', `body larger than ${this.maxBodyBytes} bytes`);
  }

  private fail(code: CheckFailureCode, message: string): void {
    this.state = DONE;
    this.failure = code;
    this.message = message;
  }
}
