// What both backends (bird.ts, gobgp.ts) do the same way: the prefixes they may send, stopping a daemon left by an
// earlier ipvs-ts, and the supervisor that runs their own (stop, restart back-off, one-at-a-time queue of changes).
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { BgpError } from './errors.ts';

/** Only host routes: a VIP is one address. */
export function checkPrefix(prefix: string): void {
  const [addr = '', len] = prefix.split('/');
  if ((isIPv4(addr) && len === '32') || (isIPv6(addr) && len === '128')) return;
  throw new BgpError('BGP_PREFIX', `'${prefix}' is not ADDRESS/32 or ADDRESS/128`);
}

export function alive(pid: number): boolean {
  try {
    // The state follows the parenthesised command name: Z is a zombie, which holds no files or sockets.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** How long a daemon asked to stop (SIGTERM, or SIGKILL for a leftover) gets before the next step. */
export const STOP_TIMEOUT_MS = 5000;

/**
 * A daemon left running by an ipvs-ts that was killed -9 still holds its control socket and the BGP port: the pid
 * file names it, and it is killed only if `isOurs` recognises its command line (pids are reused). Resolves once it
 * is dead: its sockets and port are free only then (a zombie holds none of them).
 */
export async function stopLeftover(name: string, pidFile: string, isOurs: (argv: readonly string[]) => boolean, say: (line: string) => void): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1) return;
    if (!isOurs(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'))) return;
  } catch {
    return;
  }
  say(`stopping a ${name} left running by an earlier ipvs-ts (pid ${pid})`);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (Date.now() < deadline && alive(pid)) await new Promise((r) => setTimeout(r, 20));
}

/** SIGTERM (the daemon closes its sessions with a Cease notification), SIGKILL if it has not exited in time. */
export async function stopChild(child: ChildProcess | undefined, exited: Promise<void>): Promise<void> {
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/** Restart delays for a daemon that exits on its own: 1 s doubling to 30 s, back to 1 s after a minute up. */
export class RestartBackoff {
  static readonly FIRST_MS = 1000;
  static readonly MAX_MS = 30_000;
  static readonly RESET_AFTER_MS = 60_000;
  #delayMs = RestartBackoff.FIRST_MS;
  #startedAt = 0;

  started(): void {
    this.#startedAt = Date.now();
  }

  next(): number {
    if (Date.now() - this.#startedAt > RestartBackoff.RESET_AFTER_MS) this.#delayMs = RestartBackoff.FIRST_MS;
    const delay = this.#delayMs;
    this.#delayMs = Math.min(delay * 2, RestartBackoff.MAX_MS);
    return delay;
  }
}

/** Runs the given functions one at a time, in call order, whether the previous one failed or not. */
export function serialQueue(): { run<T>(fn: () => Promise<T>): Promise<T>; idle(): Promise<unknown> } {
  let queue: Promise<unknown> = Promise.resolve();
  return {
    run<T>(fn: () => Promise<T>): Promise<T> {
      const r = queue.then(fn, fn);
      queue = r.catch(() => undefined);
      return r;
    },
    idle: () => queue,
  };
}

export interface SupervisorHooks {
  /** Starts the daemon (with DaemonSupervisor.spawn) and resolves once it answers; throws when it does not. */
  readonly launch: () => Promise<void>;
  /** The daemon exited or is being stopped: drop what talks to it. */
  readonly lost: () => void;
  /** It exited on its own; a restart comes after `restartInMs`. */
  readonly exited: (e: { readonly pid: number; readonly code: number | null; readonly signal: string | null; readonly restartInMs: number }) => void;
  /** It could not be run, or a restart failed (the next exit, if any, tries again). */
  readonly error: (message: string) => void;
}

/**
 * Runs a backend's daemon as a child: a daemon that exits on its own is reported and restarted after the back-off,
 * and the backend's changes go through the same queue as the (re)starts, so a restart never sees a half-applied
 * change.
 */
export class DaemonSupervisor {
  readonly #hooks: SupervisorHooks;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #closing = false;
  #restartTimer: NodeJS.Timeout | undefined;
  readonly #backoff = new RestartBackoff();
  readonly #queue = serialQueue();
  #restarts = 0;

  constructor(hooks: SupervisorHooks) {
    this.#hooks = hooks;
  }

  /** The latest child, running or not. */
  get child(): ChildProcess | undefined {
    return this.#child;
  }

  /** Restarts after exits on their own. */
  get restarts(): number {
    return this.#restarts;
  }

  start(): Promise<void> {
    return this.#queue.run(() => this.#launch());
  }

  /** Runs `fn` once the changes and (re)starts before it are done. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.#queue.run(fn);
  }

  /** Spawns the daemon (from `launch`), watched for its exit; `exited()` tells the start-up wait to give up. */
  spawn(program: string, args: readonly string[], stdio: StdioOptions): { readonly child: ChildProcess; exited(): boolean } {
    const child = spawn(program, args, { stdio });
    this.#child = child;
    let exited = false;
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        exited = true;
        this.#onExit(child, code, signal);
        resolve();
      });
      child.once('error', (err) => {
        exited = true;
        this.#hooks.error(`cannot run ${program}: ${err.message}`);
        resolve();
      });
    });
    return { child, exited: () => exited };
  }

  /** No more restarts; waits for the queued changes, then stops the daemon (stopChild). */
  async close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#restartTimer);
    await this.#queue.idle();
    this.#hooks.lost();
    await stopChild(this.#child, this.#exited);
  }

  async #launch(): Promise<void> {
    if (this.#closing) return;
    await this.#hooks.launch();
    this.#backoff.started();
  }

  #onExit(child: ChildProcess, code: number | null, signal: string | null): void {
    if (this.#child !== child) return;
    this.#hooks.lost();
    if (this.#closing) return;
    const delay = this.#backoff.next();
    this.#hooks.exited({ pid: child.pid ?? 0, code, signal, restartInMs: delay });
    this.#restartTimer = setTimeout(() => {
      this.#restarts++;
      this.#queue.run(() => this.#launch()).catch((err: Error) => this.#hooks.error(err.message));
    }, delay);
    this.#restartTimer.unref();
  }
}
