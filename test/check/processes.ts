// Real server processes for the checker tests: started by the test, ready once they print what the test waits
// for (or listen), and always killed when the test ends.
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import type { TestContext } from 'node:test';

export interface Started {
  readonly child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
}

/**
 * Starts `cmd` and resolves once `ready(output)` holds (checked at spawn and on each output); rejects if it exits
 * first or takes over `timeoutMs`.
 */
export function startProcess(t: TestContext, cmd: string, args: readonly string[], ready: (output: string) => boolean, timeoutMs = 15_000): Promise<Started> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} not ready within ${timeoutMs} ms: ${out}`)), timeoutMs);
    const check = (chunk: Buffer) => {
      out += chunk.toString();
      if (!ready(out)) return;
      clearTimeout(timer);
      resolve({ child, output: () => out });
    };
    child.once('spawn', () => check(Buffer.alloc(0)));
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // 'close', not 'exit': it comes once the output pipes are drained too, so the error carries the child's last
    // words ('exit' can come first, and dnsmasq's "Address already in use" was then missing from it).
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited (${code ?? signal}) before it was ready: ${out}`));
    });
  });
}

/** A port nothing uses right now, for servers that must be told their port. */
export async function freePort(kind: 'udp' | 'tcp', host = '127.0.0.1'): Promise<number> {
  if (kind === 'tcp') {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }
  const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

/** Resolves once a TCP connection to host:port succeeds (a server that prints nothing when ready). */
export async function waitForListener(host: string, port: number, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, host);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
