// keepalived's dump signals, for every ipvs-ts process: SIGUSR1 writes the state (keepalived: /tmp/keepalived.data)
// and SIGUSR2 the statistics (/tmp/keepalived.stats), here as JSON. Node gives both signals a dangerous meaning in a
// root daemon: with no listener, SIGUSR1 opens the inspector on 127.0.0.1:9229 (any local user could then run code
// as root) and SIGUSR2 kills the process. A listener replaces both, and removing the last one would hand the signal
// back to the kernel's default (kill), so guardSignals() installs one listener per signal at start-up
// (bin/ipvs-ts.js) and never removes it; a long-running command only swaps in what its dumps contain.
import inspector from 'node:inspector';
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { dumpWritten } from '../director/events.ts';

export type DumpKind = 'data' | 'stats';

const SIGNALS: Readonly<Record<DumpKind, NodeJS.Signals>> = { data: 'SIGUSR1', stats: 'SIGUSR2' };

/** keepalived's file names with our prefix, in $TMPDIR when it is set (/tmp otherwise). */
export function defaultDumpFile(kind: DumpKind): string {
  return join(tmpdir(), `ipvs-ts.${kind}`);
}

export interface Dump {
  readonly file: string;
  /** The JSON object to write; `writtenAt` and `pid` are added. */
  readonly build: () => object | Promise<object>;
}

export interface DumpReport {
  readonly kind: DumpKind;
  readonly file: string;
  /** Set when the dump could not be built or written. */
  readonly error?: string;
}

export interface DumpProvider {
  readonly data: Dump;
  readonly stats: Dump;
  readonly report: (r: DumpReport) => void;
}

/** The log line for a dump. */
export function dumpLine(r: DumpReport): string {
  return r.error === undefined ? dumpWritten(r.kind, r.file) : `cannot write ${r.file}: ${r.error}`;
}

/** What a process that registered nothing writes: enough to tell which ipvs-ts it is and what it costs. */
const processFacts: DumpProvider = {
  data: { file: defaultDumpFile('data'), build: () => ({ title: process.title, argv: process.argv.slice(2), uptimeS: process.uptime() }) },
  stats: { file: defaultDumpFile('stats'), build: () => ({ memory: process.memoryUsage(), resources: process.resourceUsage() }) },
  report: (r) => process.stderr.write(`ipvs-ts: ${dumpLine(r)}\n`),
};

let provider: DumpProvider | undefined;
let guarded = false;
const busy = new Set<DumpKind>();

/** Installs the SIGUSR1/SIGUSR2 listeners once for the life of the process. */
export function guardSignals(): void {
  if (guarded) return;
  guarded = true;
  for (const kind of ['data', 'stats'] as const) process.on(SIGNALS[kind], () => void dump(kind));
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (inspector.url() === undefined || args.some((a) => /^--inspect(-brk|-wait)?(=|$)/.test(a))) return;
  // No listener can exist while Node itself starts (a tenth of a second on a busy host), and a SIGUSR1 then opens
  // the inspector. Node asks twice, by a V8 interrupt (it is open by the first line of JavaScript) and by a wake-up
  // of the event loop, handled on the loop's next poll: closed now, and again after that poll. Not when the command
  // line asked for it (--inspect, --inspect-brk, --inspect-wait: someone is debugging on purpose).
  inspector.close();
  setImmediate(() => inspector.close());
  process.stderr.write('ipvs-ts: closed the Node inspector that a SIGUSR1 opened during start-up\n');
}

/** Makes SIGUSR1/SIGUSR2 write this command's dumps; the returned function goes back to the process facts. */
export function provideDumps(p: DumpProvider): () => void {
  // Also guards a command run without bin/ipvs-ts.js (a test calling its run function).
  guardSignals();
  provider = p;
  return () => {
    if (provider === p) provider = undefined;
  };
}

async function dump(kind: DumpKind): Promise<void> {
  // A signal repeated while a dump is being written gets that dump: it is as fresh as the signal.
  if (busy.has(kind)) return;
  busy.add(kind);
  const p = provider ?? processFacts;
  const { file, build } = p[kind];
  try {
    const body = await build();
    await writeAtomically(file, `${JSON.stringify({ writtenAt: new Date().toISOString(), pid: process.pid, ...body }, null, 2)}\n`);
    p.report({ kind, file });
  } catch (err) {
    p.report({ kind, file, error: err instanceof Error ? err.message : String(err) });
  } finally {
    busy.delete(kind);
  }
}

/**
 * Written under a fresh random name beside the target, mode 0600, then renamed over it: a reader never sees half a
 * dump. The name must not exist (O_EXCL), so a symlink planted in /tmp is never written through; rename replaces
 * a symlink at the target instead of following it.
 */
async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    try {
      await fh.writeFile(text);
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
