// Real servers for the checker tests: listeners on loopback port 0, closed by the caller (t.after).
import net from 'node:net';
import { Worker } from 'node:worker_threads';

export async function listen(server: net.Server, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return (server.address() as net.AddressInfo).port;
}

export function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    (server as net.Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    server.close(() => resolve());
  });
}

/** A port nothing listens on: bound then released, so connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await close(server);
  return port;
}

/**
 * A listener that never completes a handshake: a worker thread listens with backlog 1, the test fills the accept
 * queue, and the worker's event loop is then blocked so nothing is accepted; further SYNs are dropped by the kernel.
 */
export async function blackholePort(): Promise<{ port: number; close: () => Promise<void> }> {
  const code = `
    const net = require('node:net');
    const { parentPort } = require('node:worker_threads');
    const server = net.createServer();
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      parentPort.postMessage(server.address().port);
      parentPort.once('message', (buf) => Atomics.wait(new Int32Array(buf), 0, 0));
    });`;
  const worker = new Worker(code, { eval: true });
  const port = await new Promise<number>((resolve) => worker.once('message', resolve));
  const flag = new SharedArrayBuffer(4);
  worker.postMessage(flag);
  await new Promise((r) => setTimeout(r, 50));
  const fillers = [0, 1, 2].map(() => net.connect(port, '127.0.0.1').on('error', () => {}));
  await new Promise((r) => setTimeout(r, 100));
  return {
    port,
    close: async () => {
      for (const s of fillers) s.destroy();
      Atomics.store(new Int32Array(flag), 0, 1);
      Atomics.notify(new Int32Array(flag), 0);
      await worker.terminate();
    },
  };
}
