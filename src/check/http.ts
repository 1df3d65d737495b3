// HTTP_GET and SSL_GET: request each url in order; pass when every status is in its status_code ranges and, where
// a digest is set, the MD5 of the body equals it. Each request (connect, headers, body) must finish within
// connect_timeout as a whole, so a server that trickles bytes forever fails instead of holding the checker, and the
// body is read only up to a cap. genhash fetches through the same function, so its MD5 is what the check compares.
// HTTP_GET speaks HTTP itself on a bare non-blocking socket (http-plain.ts), as keepalived does; SSL_GET goes
// through undici over node:tls, where the TLS handshake, not the client, is most of a check's cost.
import { createHash } from 'node:crypto';
import net from 'node:net';
import type { buildConnector } from 'undici';
import type { HttpCheck, HttpUrl, StatusRange } from '../config/model.ts';
import { errnoName } from '../sys/native.ts';
import { CheckError, type CheckFailureCode } from './errors.ts';
import { HttpExchange, plainRequest } from './http-plain.ts';
import { failed, passed } from './result.ts';
import { hostPort } from '../sys/inet.ts';
import { ABORTED, CONNECTED, type ConnectTarget, connectTarget, TIMED_OUT, tcpExchange } from './tcp-connect.ts';
import type { CheckResult } from './types.ts';

/** What keepalived.conf cannot say: TLS verification and client identity, and the body cap. */
export interface HttpOptions {
  /** Bodies longer than this fail with HTTP_BODY_TOO_LARGE. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Verify the server certificate against `ca` (or the system store) and the SNI/virtualhost name. Default off,
   * as keepalived never verifies. */
  readonly verifyTls?: boolean;
  readonly ca?: string | Buffer;
  readonly clientCert?: { readonly cert: string | Buffer; readonly key: string | Buffer };
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface HttpTarget extends HttpOptions {
  readonly tls: boolean;
  readonly address: string;
  readonly port: number;
  readonly path: string;
  /** The Host header. */
  readonly host: string;
  /** TLS server name; absent = no SNI. */
  readonly sni?: string;
  readonly bindTo?: string;
  readonly bindPort?: number;
  readonly timeoutMs: number;
  /** http_protocol: the request line's version for plain HTTP (SSL_GET always sends 1.1). Default 1.0. */
  readonly protocol?: HttpCheck['httpProtocol'];
}

export interface FetchedUrl {
  readonly status: number;
  /** MD5 of the body, lower-case hex; absent when the body was not read. */
  readonly digest?: string;
  readonly bytes: number;
}

/** An HTTP_GET's per-url parts, built once per checker (the scheduler hands the same checker to every attempt). */
interface Plain {
  readonly connect: ConnectTarget;
  readonly requests: readonly Buffer[];
  readonly readBody: readonly ((status: number) => boolean)[];
}

const plains = new WeakMap<HttpCheck, Plain>();

export async function checkHttp(checker: HttpCheck, signal: AbortSignal, options: HttpOptions = {}): Promise<CheckResult> {
  if (checker.type === 'SSL_GET') return checkTls(checker, signal, options);
  const startedAt = performance.now();
  let plain = plains.get(checker);
  if (plain === undefined) {
    try {
      plain = preparePlain(checker);
    } catch (err) {
      return failed(startedAt, 'HTTP_ERROR', `${checker.urls[0]?.path ?? '/'}: connection failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    plains.set(checker, plain);
  }
  const max = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  for (let i = 0; i < checker.urls.length; i++) {
    const url = checker.urls[i]!;
    const exchange = new HttpExchange(plain.requests[i]!, plain.readBody[i]!, max);
    settle(exchange, await tcpExchange(plain.connect, checker.connectTimeoutMs, signal, exchange), checker.connectTimeoutMs);
    if (exchange.failure !== undefined) return failed(startedAt, exchange.failure, `${url.path}: ${exchange.message}`);
    const wrong = judge(url, exchange.status, exchange.digest);
    if (wrong) return failed(startedAt, wrong[0], wrong[1]);
  }
  return passedAll(startedAt, checker);
}

function preparePlain(checker: HttpCheck): Plain {
  return {
    connect: connectTarget(checker.connectIp, checker.connectPort, checker.bindTo, checker.bindPort),
    requests: checker.urls.map((url) => plainRequest(url.path, hostOf(checker, url), checker.httpProtocol)),
    readBody: checker.urls.map((url) => (status: number) => url.digest !== undefined && inRanges(status, url.statusCodes)),
  };
}

/** Turns the socket's outcome into the exchange's failure, where the exchange itself did not fail. */
function settle(exchange: HttpExchange, outcome: number, timeoutMs: number): void {
  if (outcome === CONNECTED || exchange.failure !== undefined) return;
  const [code, message]: [CheckFailureCode, string] =
    outcome === TIMED_OUT ? ['HTTP_TIMEOUT', `${exchange.phase} within ${timeoutMs} ms`]
    : outcome === ABORTED ? ['ABORTED', 'check cancelled']
    : errnoName(outcome) === 'ECONNREFUSED' ? ['CONNECT_REFUSED', 'connection refused']
    : errnoName(outcome) === 'ECONNRESET' ? ['CONNECT_RESET', 'connection reset by the server']
    : ['HTTP_ERROR', `${exchange.phase === 'no connection' ? 'connection failed' : exchange.phase}: ${errnoName(outcome)}`];
  exchange.failure = code;
  exchange.message = message;
}

/** The status and digest rules; a failure as [code, reason], or undefined when the url passes. */
function judge(url: HttpUrl, status: number, digest: string | undefined): [CheckFailureCode, string] | undefined {
  if (!inRanges(status, url.statusCodes)) return ['HTTP_STATUS', `${url.path}: status ${status} not in ${formatRanges(url.statusCodes)}`];
  if (url.digest !== undefined && digest !== url.digest) return ['HTTP_DIGEST', `${url.path}: body MD5 ${digest} differs from digest ${url.digest}`];
  return undefined;
}

function passedAll(startedAt: number, checker: HttpCheck): CheckResult {
  return passed(startedAt, checker.urls.length === 1 ? `${checker.urls[0]!.path} ok` : `${checker.urls.length} urls ok`);
}

async function checkTls(checker: HttpCheck, signal: AbortSignal, options: HttpOptions): Promise<CheckResult> {
  const startedAt = performance.now();
  for (const url of checker.urls) {
    try {
      const res = await fetchTls(httpTarget(checker, url, options), signal, (status) => url.digest !== undefined && inRanges(status, url.statusCodes));
      const wrong = judge(url, res.status, res.digest);
      if (wrong) return failed(startedAt, wrong[0], wrong[1]);
    } catch (err) {
      const { code, message } = asCheckError(err);
      return failed(startedAt, code === 'BAD_ARGUMENT' ? 'HTTP_ERROR' : code, `${url.path}: ${message}`);
    }
  }
  return passedAll(startedAt, checker);
}

function hostOf(checker: HttpCheck, url: HttpUrl): string {
  return url.virtualhost ?? checker.virtualhost ?? hostPort(checker.connectIp, checker.connectPort);
}

/**
 * Host header: url > checker (already resolved over real and virtual server by the loader) > ip:port. SNI, when
 * enabled, uses the same name without a port; an IP address is never sent as SNI.
 */
export function httpTarget(checker: HttpCheck, url: HttpUrl, options: HttpOptions): HttpTarget {
  const name = url.virtualhost ?? checker.virtualhost;
  const sni = checker.type === 'SSL_GET' && checker.enableSni && name !== undefined && net.isIP(name) === 0 ? name : undefined;
  return {
    ...options,
    tls: checker.type === 'SSL_GET',
    address: checker.connectIp,
    port: checker.connectPort,
    path: url.path,
    host: name ?? hostPort(checker.connectIp, checker.connectPort),
    ...(sni === undefined ? {} : { sni }),
    ...(checker.bindTo === undefined ? {} : { bindTo: checker.bindTo }),
    ...(checker.bindPort === undefined ? {} : { bindPort: checker.bindPort }),
    timeoutMs: checker.connectTimeoutMs,
    protocol: checker.httpProtocol,
  };
}

/**
 * One GET, as the checkers make it (genhash). `readBody(status)` says whether the body is needed; otherwise the
 * connection is dropped after the headers. Throws a CheckError carrying the check failure code.
 */
export async function fetchUrl(target: HttpTarget, signal: AbortSignal, readBody: (status: number) => boolean): Promise<FetchedUrl> {
  if (target.tls) return fetchTls(target, signal, readBody);
  let connect: ConnectTarget;
  try {
    connect = connectTarget(target.address, target.port, target.bindTo, target.bindPort);
  } catch (err) {
    throw new CheckError('HTTP_ERROR', `connection failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  const request = plainRequest(target.path, target.host, target.protocol ?? '1.0');
  const exchange = new HttpExchange(request, readBody, target.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
  settle(exchange, await tcpExchange(connect, target.timeoutMs, signal, exchange), target.timeoutMs);
  if (exchange.failure !== undefined) throw new CheckError(exchange.failure, exchange.message);
  return exchange.digest === undefined ? { status: exchange.status, bytes: 0 } : { status: exchange.status, digest: exchange.digest, bytes: exchange.bytes };
}

/**
 * One GET over TLS with undici. The request line is HTTP/1.1 for every http_protocol (undici speaks only 1.1) and
 * the connection is always closed after the response, which is what keepalived's 1.0, 1.0C and 1.1 modes all
 * amount to.
 */
async function fetchTls(target: HttpTarget, signal: AbortSignal, readBody: (status: number) => boolean): Promise<FetchedUrl> {
  // undici (~110 modules) serves SSL_GET only: a configuration whose HTTP checks are all plain HTTP_GET never loads
  // it (under TCG every module costs tens of ms of the daemon's start). Taken before the deadline starts: loading it
  // is the process's cost, not the server's.
  const { Client } = await import('undici');
  if (signal.aborted) throw new CheckError('ABORTED', 'check cancelled');
  const ac = new AbortController();
  let phase = 'no connection';
  let timedOut = false;
  let complete = false;
  const onAbort = () => ac.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const deadline = setTimeout(() => {
    timedOut = true;
    ac.abort();
  }, target.timeoutMs);
  const origin = `https://${hostPort(target.address, target.port)}`;
  const client = new Client(origin, {
    connect: connector(target, () => (phase = 'no response headers')),
    headersTimeout: target.timeoutMs,
    bodyTimeout: target.timeoutMs,
  });
  try {
    const { statusCode, body } = await client.request({
      method: 'GET',
      path: target.path,
      headers: { host: target.host, 'user-agent': 'ipvs-ts-check', connection: 'close' },
      signal: ac.signal,
    });
    // Dropping an unread body makes undici report the request aborted; that is the intent, not an error.
    body.on('error', () => {});
    if (!readBody(statusCode)) {
      body.destroy();
      return { status: statusCode, bytes: 0 };
    }
    phase = 'body not complete';
    const max = target.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const md5 = createHash('md5');
    let bytes = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > max) {
        body.destroy();
        throw new CheckError('HTTP_BODY_TOO_LARGE', `body larger than ${max} bytes`);
      }
      md5.update(chunk);
    }
    complete = true;
    return { status: statusCode, digest: md5.digest('hex'), bytes };
  } catch (err) {
    if (err instanceof CheckError) throw err;
    if (timedOut) throw new CheckError('HTTP_TIMEOUT', `${phase} within ${target.timeoutMs} ms`);
    if (signal.aborted) throw new CheckError('ABORTED', 'check cancelled');
    throw classify(err);
  } finally {
    clearTimeout(deadline);
    signal.removeEventListener('abort', onAbort);
    // A finished exchange closes quietly; destroy() would build (and capture a stack for) an error every check.
    (complete ? client.close() : client.destroy()).catch(() => {});
  }
}

/** Our own TLS connector, so SNI, verification, client certificate and source address are exactly as configured
 * (undici's default would derive SNI from the Host header). */
function connector(target: HttpTarget, onConnected: () => void): buildConnector.connector {
  return (_options, callback) => {
    const verifyName = target.sni ?? target.host.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
    // Taken here, not imported, for the reason undici is (and an ESM import of node:tls builds a module facade that
    // costs twice the module itself: 23 against 10 ms on the host).
    const tls = process.getBuiltinModule('node:tls');
    // tls.connect hands the socket options on to net.connect; its typings list only the TLS ones.
    const socketOptions = { host: target.address, port: target.port, localAddress: target.bindTo, localPort: target.bindPort };
    const socket = tls.connect({
      ...socketOptions,
      servername: target.sni,
      ALPNProtocols: ['http/1.1'],
      rejectUnauthorized: target.verifyTls ?? false,
      ca: target.ca,
      cert: target.clientCert?.cert,
      key: target.clientCert?.key,
      checkServerIdentity: (_host, cert) => tls.checkServerIdentity(verifyName, cert),
    });
    const onError = (err: Error) => {
      socket.destroy();
      callback(err, null);
    };
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      socket.off('error', onError);
      onConnected();
      callback(null, socket);
    });
  };
}

function classify(err: unknown): CheckError {
  const e = err as NodeJS.ErrnoException;
  const code = e.code ?? '';
  const failure = ((): [CheckFailureCode, string] => {
    if (code === 'ECONNREFUSED') return ['CONNECT_REFUSED', 'connection refused'];
    if (code === 'ECONNRESET') return ['CONNECT_RESET', 'connection reset by the server'];
    if (/^(ERR_SSL|ERR_TLS|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED)/.test(code)) return ['TLS_ERROR', `TLS: ${e.message}`];
    if (code === 'UND_ERR_SOCKET') return ['HTTP_ERROR', `connection closed before a complete response (${e.message})`];
    return ['HTTP_ERROR', e.message || String(err)];
  })();
  return new CheckError(...failure);
}

function asCheckError(err: unknown): CheckError {
  return err instanceof CheckError ? err : classify(err);
}

export function inRanges(status: number, ranges: readonly StatusRange[]): boolean {
  return ranges.some((r) => status >= r.from && status <= r.to);
}

function formatRanges(ranges: readonly StatusRange[]): string {
  return ranges.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`)).join(',');
}
