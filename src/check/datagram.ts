// One UDP request/reply exchange for UDP_CHECK and DNS_CHECK: a socket connected to the server (so the kernel
// hands it only that server's datagrams, and an ICMP error for it comes back as ECONNREFUSED or EHOSTUNREACH),
// one datagram sent, then replies offered to `onReply` until it returns a verdict, an error, the timeout or abort.
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { failed } from './result.ts';
import type { CheckResult } from './types.ts';

export interface Exchange<T> {
  readonly address: string;
  readonly port: number;
  readonly bindTo?: string | undefined;
  readonly bindPort?: number | undefined;
  readonly payload: Uint8Array;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** Each datagram from the server: a value ends the exchange, undefined waits for the next. */
  readonly onReply: (data: Buffer) => T | undefined;
}

export type ExchangeEnd<T> =
  | { readonly kind: 'reply'; readonly value: T }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'aborted' }
  | { readonly kind: 'error'; readonly error: NodeJS.ErrnoException };

export function exchange<T>(x: Exchange<T>): Promise<ExchangeEnd<T>> {
  return new Promise((resolve) => {
    if (x.signal.aborted) return resolve({ kind: 'aborted' });
    const socket = dgram.createSocket(isIPv6(x.address) ? 'udp6' : 'udp4');
    let done = false;
    const finish = (end: ExchangeEnd<T>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      x.signal.removeEventListener('abort', onAbort);
      socket.close();
      resolve(end);
    };
    const onAbort = () => finish({ kind: 'aborted' });
    const timer = setTimeout(() => finish({ kind: 'timeout' }), x.timeoutMs);
    x.signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (error: NodeJS.ErrnoException) => finish({ kind: 'error', error }));
    socket.on('message', (data) => {
      const value = x.onReply(data);
      if (value !== undefined) finish({ kind: 'reply', value });
    });
    const send = () =>
      socket.connect(x.port, x.address, () => {
        if (!done) socket.send(x.payload, (error) => error && finish({ kind: 'error', error }));
      });
    if (x.bindTo !== undefined || x.bindPort !== undefined) socket.bind({ address: x.bindTo, port: x.bindPort ?? 0 }, send);
    else send();
  });
}

/** What an ICMP error or a socket failure means for the check. */
export function datagramFailure(startedAt: number, port: number, err: NodeJS.ErrnoException): CheckResult {
  if (err.code === 'ECONNREFUSED') return failed(startedAt, 'CONNECT_REFUSED', `port unreachable: nothing listens on UDP port ${port}`);
  if (err.code === 'EHOSTUNREACH') return failed(startedAt, 'ICMP_UNREACHABLE', 'host unreachable');
  if (err.code === 'ENETUNREACH') return failed(startedAt, 'ICMP_UNREACHABLE', 'network unreachable');
  return failed(startedAt, 'SOCKET_ERROR', `${err.syscall ?? 'socket'} failed: ${err.code ?? err.message}`);
}
