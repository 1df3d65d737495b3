// Runs a script the way MISC_CHECK and the notify scripts need: without a shell, as the given user, in its own
// process group (a new session), so a timeout can kill everything it started — SIGTERM to the group, SIGKILL 2 s
// later. Node reaps the direct child; anything the script leaves behind in its group is terminated the same way
// once the script exits, so no strays accumulate check after check.
import { spawn } from 'node:child_process';
import { splitCommandLine } from './command-line.ts';
import { CheckError } from './errors.ts';
import type { Credentials } from './users.ts';

export const KILL_GRACE_MS = 2_000;

export interface ScriptRun {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly aborted: boolean;
}

export interface ScriptOptions {
  /** Absent: the script runs until it exits or `signal` aborts it (a notify FIFO's reader). */
  readonly timeoutMs?: number;
  readonly credentials?: Credentials;
  readonly signal?: AbortSignal;
  readonly killGraceMs?: number;
}

export function runScript(command: string, options: ScriptOptions): Promise<ScriptRun> {
  const [file, ...args] = splitCommandLine(command);
  const grace = options.killGraceMs ?? KILL_GRACE_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(file!, args, {
      detached: true,
      stdio: 'ignore',
      ...(options.credentials ? { uid: options.credentials.uid, gid: options.credentials.gid } : {}),
    });
    let timedOut = false;
    let aborted = false;
    const pgid = child.pid;
    const terminate = () => {
      if (pgid === undefined) return;
      signalGroup(pgid, 'SIGTERM');
      setTimeout(() => signalGroup(pgid, 'SIGKILL'), grace);
    };
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            terminate();
          }, options.timeoutMs);
    const onAbort = () => {
      aborted = true;
      terminate();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    const done = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      done();
      reject(new CheckError('SCRIPT_SPAWN', `cannot run ${file}: ${err.code ?? err.message}`));
    });
    child.once('exit', (exitCode, signal) => {
      done();
      // Children the script left in its group would otherwise outlive it (and pile up on every check).
      if (!timedOut && !aborted && pgid !== undefined && groupAlive(pgid)) terminate();
      resolve({ exitCode, signal, timedOut, aborted });
    });
  });
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is already gone
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
