// What both backends (bird.ts, gobgp.ts) do the same way: the prefixes they may send, stopping a daemon left by an
// earlier ipvs-ts, stopping their own, the restart back-off and the one-at-a-time queue of changes.
import type { ChildProcess } from 'node:child_process';
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
