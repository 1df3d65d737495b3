// GET /metrics on 127.0.0.1:9650 by default (the port gen2brain/keepalived_exporter used, so existing scrape
// configs find it). Anything else is 404.
import type { Server, ServerResponse } from 'node:http';
import { setImmediate as turn } from 'node:timers/promises';
import { DirectorError } from '../director/errors.ts';
import { drained } from './drain.ts';
import type { DirectorMetrics } from './metrics.ts';

export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:9650';

// Not an ESM import: importing node:http builds its module facade, whose getters (WebSocket and friends) load
// Node's bundled undici — 40 ms on the host and seconds in the emulated VM at every daemon start, for nothing used.
const { createServer } = process.getBuiltinModule('node:http');

/** "HOST:PORT", "[v6]:PORT" or ":PORT" (all addresses); "off" disables. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port > 65_535) throw new DirectorError('DIRECTOR_OPTION', `--metrics "${text}": expected HOST:PORT, e.g. ${DEFAULT_METRICS_ADDRESS}`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export async function listenMetrics(address: string, metrics: DirectorMetrics): Promise<Server> {
  const { host, port } = parseListen(address);
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('see /metrics\n');
      return;
    }
    void send(res, metrics);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/**
 * Streams the scrape a part at a time (chunked encoding), waiting for the client to drain each: at 100,000
 * destinations the text is ~88 MB, and between parts the event loop runs the checkers' timers.
 */
async function send(res: ServerResponse, metrics: DirectorMetrics): Promise<void> {
  try {
    for await (const part of metrics.stream()) {
      if (!res.headersSent) res.writeHead(200, { 'content-type': metrics.registry.contentType });
      for (const c of part) if (!res.write(c)) await drained(res);
      if (res.destroyed) return;
      await turn();
    }
    res.end();
  } catch (err) {
    if (res.headersSent) res.destroy(err as Error);
    else res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`);
  }
}
