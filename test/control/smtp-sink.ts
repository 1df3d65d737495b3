// Mail servers for the alert tests: a real one (aiosmtpd in its own process, writing what it accepts to a directory),
// one that accepts connections and never says a word, and a port nothing listens on.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Debian's python3-aiosmtpd installs for the system Python, not for one a version manager puts first on PATH. */
const PYTHON = '/usr/bin/python3';

/** Why the real-server tests cannot run here, or false. */
export const SMTP_SINK_SKIP: string | false =
  spawnSync(PYTHON, ['-c', 'import aiosmtpd'], { stdio: 'ignore' }).status === 0 ? false : `${PYTHON} has no aiosmtpd (apt-get install python3-aiosmtpd)`;

export interface Received {
  readonly helo: string;
  readonly mailFrom: string;
  readonly rcptTo: string[];
  /** Lower-case names. */
  readonly headers: Record<string, string>;
  readonly body: string;
}

export class SmtpSink {
  readonly port: number;
  readonly #child: ChildProcess;
  readonly #dir: string;

  private constructor(port: number, child: ChildProcess, dir: string) {
    this.port = port;
    this.#child = child;
    this.#dir = dir;
  }

  static async start(): Promise<SmtpSink> {
    const dir = mkdtempSync(join(tmpdir(), 'ipvs-ts-smtp-'));
    const port = await freePort();
    const child = spawn(PYTHON, ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'smtp_sink.JsonSink', dir], {
      env: { ...process.env, PYTHONPATH: dirname(fileURLToPath(import.meta.url)) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    const sink = new SmtpSink(port, child, dir);
    try {
      await waitForGreeting(port, child, () => stderr);
    } catch (err) {
      await sink.stop();
      throw err;
    }
    return sink;
  }

  /** Every message accepted so far, in order. */
  messages(): Received[] {
    return readdirSync(this.#dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => JSON.parse(readFileSync(join(this.#dir, f), 'utf8')) as Received);
  }

  async waitFor(count: number, timeoutMs = 5_000): Promise<Received[]> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const got = this.messages();
      if (got.length >= count) return got;
      if (Date.now() > until) throw new Error(`${got.length} of ${count} messages arrived within ${timeoutMs} ms: ${JSON.stringify(got.map((m) => m.headers['subject']))}`);
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      const exited = new Promise((resolve) => this.#child.once('exit', resolve));
      this.#child.kill();
      await exited;
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** A server that accepts every connection and never answers (a hung mail server). */
export async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A loopback port nothing listens on (connections are refused). */
export async function closedPort(): Promise<number> {
  return freePort();
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

async function waitForGreeting(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`aiosmtpd exited (${child.exitCode}): ${stderr()}`);
    if (await greets(port)) return;
    await sleep(50);
  }
  throw new Error(`aiosmtpd did not greet on 127.0.0.1:${port} within 10 s: ${stderr()}`);
}

function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.setTimeout(1_000, () => s.destroy());
    s.once('data', (b) => {
      s.end('QUIT\r\n');
      resolve(b.toString().startsWith('220'));
    });
    s.once('error', () => resolve(false));
    s.once('close', () => resolve(false));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
