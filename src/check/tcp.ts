// TCP_CHECK: the server is up when a TCP connection to connect_ip:connect_port completes within connect_timeout.
// Like keepalived, nothing is sent; the connection is closed as soon as it is established. The connect itself is
// a bare non-blocking socket (tcp-connect.ts), the way keepalived makes it, not a net.Socket.
import type { TcpCheck } from '../config/model.ts';
import { errnoName } from '../sys/native.ts';
import { failed, passed } from './result.ts';
import { ABORTED, CONNECTED, type ConnectTarget, connectTarget, TIMED_OUT, tcpConnect } from './tcp-connect.ts';
import type { CheckResult } from './types.ts';

/** Encoded addresses per checker: the scheduler hands the same checker object to every attempt. */
const targets = new WeakMap<TcpCheck, ConnectTarget>();

export async function checkTcp(checker: TcpCheck, signal: AbortSignal): Promise<CheckResult> {
  const startedAt = performance.now();
  let target = targets.get(checker);
  if (!target) {
    try {
      target = connectTarget(checker.connectIp, checker.connectPort, checker.bindTo, checker.bindPort);
    } catch (err) {
      return failed(startedAt, 'CONNECT_ERROR', `connection failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    targets.set(checker, target);
  }
  const outcome = await tcpConnect(target, startedAt + checker.connectTimeoutMs, signal);
  if (outcome === CONNECTED) return passed(startedAt, 'connected');
  if (outcome === TIMED_OUT) return failed(startedAt, 'CONNECT_TIMEOUT', `no connection within ${checker.connectTimeoutMs} ms`);
  if (outcome === ABORTED) return failed(startedAt, 'ABORTED', 'check cancelled');
  return connectFailure(startedAt, { code: errnoName(outcome), message: errnoName(outcome) });
}

/** Maps a socket error to a result; shared with the SMTP checker, whose connections fail the same ways. */
export function connectFailure(startedAt: number, err: { readonly code?: string | undefined; readonly message: string }): CheckResult {
  if (err.code === 'ECONNREFUSED') return failed(startedAt, 'CONNECT_REFUSED', 'connection refused');
  if (err.code === 'ECONNRESET') return failed(startedAt, 'CONNECT_RESET', 'connection reset by the server');
  if (err.code === 'ETIMEDOUT') return failed(startedAt, 'CONNECT_TIMEOUT', 'connection timed out');
  return failed(startedAt, 'CONNECT_ERROR', `connection failed: ${err.code ?? err.message}`);
}
