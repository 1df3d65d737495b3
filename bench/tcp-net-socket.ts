// The TCP_CHECK as it was before src/check/tcp-connect.ts: a net.Socket per check with its own setTimeout. Kept
// here only as check-scale.ts's baseline, so old and new paths are measured in one run on the same targets.
import net from 'node:net';
import type { TcpCheck } from '../src/config/model.ts';
import { failed, passed } from '../src/check/result.ts';
import { connectFailure } from '../src/check/tcp.ts';
import type { CheckResult } from '../src/check/types.ts';

export function checkTcpNetSocket(checker: TcpCheck, signal: AbortSignal): Promise<CheckResult> {
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
