// The CLI's end of the control socket: one request, one reply.
import { createConnection } from 'node:net';
import { ControlError } from './errors.ts';
import type { ControlReply, ControlRequest } from './protocol.ts';

export async function askDaemon(path: string, req: ControlRequest, timeoutMs = 30_000): Promise<Exclude<ControlReply, { ok: false }>> {
  const text = await new Promise<string>((resolve, reject) => {
    const conn = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new ControlError('CONTROL_TIMEOUT', `the daemon on ${path} did not answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    conn.setEncoding('utf8');
    conn.once('connect', () => conn.write(`${JSON.stringify(req)}\n`));
    conn.on('data', (chunk: string) => (buf += chunk));
    conn.once('end', () => {
      clearTimeout(timer);
      resolve(buf);
    });
    conn.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(connectError(path, err));
    });
  });
  let reply: ControlReply;
  try {
    reply = JSON.parse(text) as ControlReply;
  } catch {
    throw new ControlError('CONTROL_PROTOCOL', `the daemon on ${path} sent an unreadable reply`);
  }
  if (!reply.ok) throw new ControlError('CONTROL_FAILED', reply.error.message);
  return reply;
}

function connectError(path: string, err: NodeJS.ErrnoException): ControlError {
  if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
    return new ControlError('CONTROL_NO_DAEMON', `no ipvs-ts daemon is running (nothing listens on ${path}); start it with \`ipvs-ts daemon\``, { cause: err });
  }
  if (err.code === 'EACCES') return new ControlError('CONTROL_DENIED', `permission denied on ${path}: the control socket is root's; run as root`, { cause: err });
  return new ControlError('CONTROL_FAILED', `cannot reach the daemon on ${path}: ${err.message}`, { cause: err });
}
