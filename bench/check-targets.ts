// The bench's real servers, in their own process so their CPU is not counted as the checker's: `tcp` TCP
// listeners spread over 127.0.1.x addresses (accept and close) and `http` HTTP servers answering a small page.
// Started by check-scale.ts through fork(); reports its targets over IPC and exits when the parent disconnects.
import http from 'node:http';
import net from 'node:net';

const [tcpCount, httpCount] = process.argv.slice(2).map(Number) as [number, number];
export const PAGE = 'ok\n'.repeat(20);

async function listenOn(server: net.Server, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host, backlog: 512 }, resolve);
  });
  return (server.address() as net.AddressInfo).port;
}

const host = (i: number) => `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
const tcp: [string, number][] = [];
const web: [string, number][] = [];
for (let i = 0; i < tcpCount; i++) {
  const server = net.createServer((s) => s.on('error', () => {}).destroy());
  tcp.push([host(i), await listenOn(server, host(i))]);
}
for (let i = 0; i < httpCount; i++) {
  const server = http.createServer((_req, res) => res.end(PAGE));
  server.on('clientError', (_e, s) => s.destroy());
  web.push([host(i), await listenOn(server, host(i))]);
}
process.send!({ tcp, http: web });
process.on('disconnect', () => process.exit(0));
