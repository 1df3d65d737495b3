// The daemon's end of the control socket: a unix stream socket, mode 0600 so only root (the daemon's user) can
// ask for a status or a reload.
import { chmodSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { setImmediate as turn } from 'node:timers/promises';
import { dirname } from 'node:path';
import type { DirectorStatus } from '../director/status.ts';
import { drained } from './drain.ts';
import { ControlError } from './errors.ts';
import { type ControlReply, parseRequest, type ReloadOutcome, selectStatus } from './protocol.ts';

export interface ControlHandler {
  /** `summary`: the daemon may summarise as it builds (cheaper at scale); the reply is summarised either way. */
  status(opts: { readonly summary?: boolean }): Promise<DirectorStatus>;
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
      void answer(handler, buf.slice(0, nl < 0 ? MAX_REQUEST : nl)).then((reply) => send(conn, reply));
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
    return req.cmd === 'status' ? { ok: true, status: selectStatus(await handler.status({ ...(req.summary && { summary: true }) }), req) } : { ok: true, reload: await handler.reload() };
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

/**
 * Writes a reply a virtual server at a time, waiting for the reader to drain: at 100,000 destinations a status is
 * ~45 MB of JSON, which as one JSON.stringify held the event loop (and the memory) for about a second.
 */
async function send(conn: Socket, reply: ControlReply): Promise<void> {
  let pending = '';
  for (const piece of statusReply(reply)) {
    pending += piece;
    if (pending.length < SEND_CHUNK) continue;
    const full = !conn.write(pending);
    pending = '';
    if (conn.destroyed) return;
    if (full) await drained(conn);
    else await turn();
  }
  conn.end(`${pending}\n`);
}

const SEND_CHUNK = 1 << 20;

/** A reply's JSON text in pieces (a status: one piece per virtual server), which joined are JSON.stringify's. */
export function* statusReply(reply: ControlReply | DirectorStatus): Generator<string> {
  const s = 'ok' in reply ? ('status' in reply ? reply.status : undefined) : reply;
  if (!s || s.virtualServers.length === 0) {
    yield JSON.stringify(reply);
    return;
  }
  // JSON.stringify escapes every quote inside a string value, so the key below occurs once: as the key.
  const outer = JSON.stringify('ok' in reply ? { ...reply, status: { ...s, virtualServers: [] } } : { ...s, virtualServers: [] });
  const at = outer.indexOf(EMPTY_LIST) + EMPTY_LIST.length - 1;
  yield outer.slice(0, at);
  for (let i = 0; i < s.virtualServers.length; i++) yield `${i ? ',' : ''}${JSON.stringify(s.virtualServers[i])}`;
  yield outer.slice(at);
}

const EMPTY_LIST = '"virtualServers":[]';
