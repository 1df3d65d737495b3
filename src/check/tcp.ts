// TCP_CHECK: the server is up when a TCP connection to connect_ip:connect_port completes within connect_timeout.
// Like keepalived, nothing is sent; the connection is closed as soon as it is established.
import net from 'node:net';
import type { TcpCheck } from '../config/model.ts';
import { failed, passed } from './result.ts';
import type { CheckResult } from './types.ts';

export function checkTcp(checker: TcpCheck, signal: AbortSignal): Promise<CheckResult> {
  const startedAt = performance.now();
  const { connectIp, connectPort, bindTo, bindPort, connectTimeoutMs } = checker;
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(failed(startedAt, 'ABORTED', 'check cancelled'));
    const socket = net.connect({ host: connectIp, port: connectPort, localAddress: bindTo, localPort: bindPort });
    const finish = (result: CheckResult) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = () => finish(failed(startedAt, 'ABORTED', 'check cancelled'));
    const timer = setTimeout(() => finish(failed(startedAt, 'CONNECT_TIMEOUT', `no connection within ${connectTimeoutMs} ms`)), connectTimeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish(passed(startedAt, 'connected')));
    socket.once('error', (err: NodeJS.ErrnoException) => finish(connectFailure(startedAt, err)));
  });
}

/** Maps a socket error to a result; shared with the HTTP checker, whose connections fail the same ways. */
export function connectFailure(startedAt: number, err: NodeJS.ErrnoException): CheckResult {
  if (err.code === 'ECONNREFUSED') return failed(startedAt, 'CONNECT_REFUSED', 'connection refused');
  if (err.code === 'ECONNRESET') return failed(startedAt, 'CONNECT_RESET', 'connection reset by the server');
  if (err.code === 'ETIMEDOUT') return failed(startedAt, 'CONNECT_TIMEOUT', 'connection timed out');
  return failed(startedAt, 'CONNECT_ERROR', `connection failed: ${err.code ?? err.message}`);
}
