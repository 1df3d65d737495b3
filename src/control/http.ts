// GET /metrics on 127.0.0.1:9650 by default (the port gen2brain/keepalived_exporter used, so existing scrape
// configs find it). Anything else is 404.
import { createServer, type Server } from 'node:http';
import { DirectorError } from '../director/errors.ts';
import type { DirectorMetrics } from './metrics.ts';

export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:9650';

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
    void metrics.renderChunks().then(
      (chunks) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType, 'content-length': chunks.reduce((n, c) => n + c.length, 0) });
        for (const c of chunks) res.write(c);
        res.end();
      },
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
    );
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
