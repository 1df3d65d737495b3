// The daemon's end of the control socket: a unix stream socket, mode 0600 so only root (the daemon's user) can
// ask for a status or a reload.
import { chmodSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { dirname } from 'node:path';
import type { DirectorStatus } from '../director/status.ts';
import { ControlError } from './errors.ts';
import { type ControlReply, parseRequest, type ReloadOutcome } from './protocol.ts';

export interface ControlHandler {
  status(): Promise<DirectorStatus>;
  reload(): Promise<ReloadOutcome>;
}

const MAX_REQUEST = 4096;

export async function listenControl(path: string, handler: ControlHandler): Promise<Server> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  await removeStale(path);
  const server = createServer((conn) => {
    let buf = '';
    conn.setEncoding('utf8');
    conn.on('error', () => undefined);
    conn.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0 && buf.length < MAX_REQUEST) return;
      conn.removeAllListeners('data');
      void answer(handler, buf.slice(0, nl < 0 ? MAX_REQUEST : nl)).then((reply) => conn.end(`${JSON.stringify(reply)}\n`));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  return server;
}

async function answer(handler: ControlHandler, line: string): Promise<ControlReply> {
  const req = parseRequest(line);
  if (!req) return { ok: false, error: { code: 'CONTROL_PROTOCOL', message: 'expected {"cmd":"status"} or {"cmd":"reload"}' } };
  try {
    return req.cmd === 'status' ? { ok: true, status: await handler.status() } : { ok: true, reload: await handler.reload() };
  } catch (err) {
    return { ok: false, error: { code: (err as { code?: string }).code ?? 'CONTROL_FAILED', message: err instanceof Error ? err.message : String(err) } };
  }
}

/** A socket file left by a killed daemon is removed; one a live daemon answers on is an error. */
async function removeStale(path: string): Promise<void> {
  const live = await new Promise<boolean>((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (live) throw new ControlError('CONTROL_IN_USE', `another ipvs-ts daemon is already running (it answers on ${path})`);
  try {
    unlinkSync(path);
  } catch {
    // nothing there
  }
}
