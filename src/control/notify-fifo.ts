// keepalived's notify FIFOs (notify_fifo, vrrp_notify_fifo, lvs_notify_fifo and their _script): one line per
// notice (fifo-lines.ts) written to each FIFO that wants it. As keepalived (lib/notify.c fifo_open): a missing FIFO is
// created (mode 0600 — keepalived's 0644 under its umask 0177 — and given to its owner), the FIFO's script is started
// with the FIFO's path as its last argument, and the FIFO is opened read-write and non-blocking. Being a reader
// itself, the daemon never blocks on open and never gets EPIPE; nobody reading only fills the kernel's pipe buffer
// (64 KiB, about a thousand lines), after which lines are dropped whole (a line is one write under PIPE_BUF, so it is
// atomic) and counted. Director events come in synchronously and are written at once: a write never waits.
import { execFileSync } from 'node:child_process';
import { chownSync, closeSync, constants, lstatSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { quoteArgument, splitCommandLine } from '../check/command-line.ts';
import { runScript } from '../check/script.ts';
import { assertScriptSecure } from '../check/script-security.ts';
import { resolveUser } from '../check/users.ts';
import type { Config } from '../config/model.ts';
import { modelKey } from '../config/compare.ts';
import type { DirectorEvent, DirectorEventBody } from '../director/events.ts';
import { lexists } from '../sys/files.ts';
import { fifoSinks, lineKind, noticeLine, type FifoSink, type LineKind } from './fifo-lines.ts';
import { KeepalivedNotices } from './keepalived-notices.ts';

export interface NotifyFifosOptions {
  /** The configuration in force: a reload that changes a FIFO's settings closes it and opens the new one. */
  readonly config: () => Config;
  readonly report: (e: DirectorEventBody) => void;
  /** What this process runs: `ipvs-ts vrrp`, like keepalived --vrrp, writes no checker lines and opens no lvs_ FIFO. */
  readonly parts?: readonly LineKind[];
}

interface OpenFifo {
  readonly sink: FifoSink;
  readonly key: string;
  readonly fd: number;
  /** Only a FIFO the daemon created is removed when it closes (keepalived's created_fifo). */
  readonly created: boolean;
  readonly script: AbortController | undefined;
  /** Lines dropped since the FIFO last took one: nobody reads it. */
  dropped: number;
}

export class NotifyFifos {
  readonly #opts: NotifyFifosOptions;
  readonly #notices = new KeepalivedNotices();
  readonly #open = new Map<string, OpenFifo>();
  #config: Config | undefined;

  /** Opens the configuration's FIFOs now, so that the first transitions at start are written. */
  constructor(opts: NotifyFifosOptions) {
    this.#opts = opts;
    this.#follow(opts.config());
  }

  /** Subscribe this to the director's events. */
  readonly onEvent = (e: DirectorEvent): void => {
    const config = this.#opts.config();
    if (config !== this.#config) this.#follow(config);
    // keepalived ends the FIFO scripts first and writes its stop lines after (vrrp_terminate_phase1, clear_services).
    if (e.type === 'stopping') for (const f of this.#open.values()) f.script?.abort();
    for (const n of this.#notices.noticesFor(config, e)) {
      const line = Buffer.from(noticeLine(config, n));
      const kind = lineKind(n);
      for (const f of this.#open.values()) if (f.sink.kinds.has(kind)) this.#write(f, line);
    }
  };

  /** Ends the scripts, closes the FIFOs and removes the ones it created. */
  close(): void {
    for (const f of this.#open.values()) this.#close(f);
    this.#open.clear();
  }

  /** Keeps the FIFOs whose settings are unchanged (their script keeps reading), closes the others, opens the new. */
  #follow(config: Config): void {
    this.#config = config;
    const wanted = new Map(fifoSinks(config, this.#opts.parts).map((s) => [s.path, s]));
    for (const [path, f] of this.#open) {
      const s = wanted.get(path);
      if (s !== undefined && sinkKey(s) === f.key) continue;
      this.#close(f);
      this.#open.delete(path);
    }
    for (const s of wanted.values()) {
      const f = this.#open.get(s.path);
      if (f !== undefined) this.#open.set(s.path, { ...f, sink: s });
      else this.#openFifo(config, s);
    }
  }

  #openFifo(config: Config, sink: FifoSink): void {
    const { path } = sink;
    let created = false;
    try {
      const owner = sink.owner && resolveUser(sink.owner);
      if (!lexists(path)) {
        // Node has no mkfifo(3); coreutils' mkfifo sets the mode as given, whatever the umask.
        execFileSync('mkfifo', ['-m', '600', path], { stdio: ['ignore', 'ignore', 'pipe'] });
        created = true;
        if (owner && (owner.uid !== process.getuid?.() || owner.gid !== process.getgid?.())) chownSync(path, owner.uid, owner.gid);
      }
      if (!lstatSync(path).isFIFO()) throw new Error('it exists and is not a FIFO');
    } catch (err) {
      if (created) unlinkQuietly(path);
      return this.#error(path, `cannot set it up: ${message(err)}`);
    }
    const script = sink.script && this.#startScript(config, sink);
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    } catch (err) {
      script?.abort();
      if (created) unlinkQuietly(path);
      return this.#error(path, `cannot open it: ${message(err)}`);
    }
    this.#open.set(path, { sink, key: sinkKey(sink), fd, created, script, dropped: 0 });
  }

  /** The FIFO's reader, run as keepalived runs it: the FIFO's path appended, no time limit, script_user, script security. */
  #startScript(config: Config, sink: FifoSink): AbortController | undefined {
    const script = sink.script!;
    const command = `${script.command} ${quoteArgument(sink.path)}`;
    const g = config.globalDefs;
    const as = script.user ?? g.scriptUser;
    const stop = new AbortController();
    try {
      if (g.enableScriptSecurity) assertScriptSecure(splitCommandLine(script.command)[0] ?? '');
      const credentials = as && resolveUser(as);
      void runScript(command, { signal: stop.signal, ...(credentials ? { credentials } : {}) }).then(
        (run) => {
          if (!run.aborted) this.#opts.report({ type: 'notify-fifo', fifo: sink.path, message: `script ${script.command} terminated (${run.signal ?? `exit code ${run.exitCode}`})` });
        },
        (err: unknown) => this.#error(sink.path, `cannot run ${script.command}: ${message(err)}`),
      );
      return stop;
    } catch (err) {
      this.#error(sink.path, `cannot run ${script.command}: ${message(err)}`);
      return undefined;
    }
  }

  #write(f: OpenFifo, line: Buffer): void {
    try {
      writeSync(f.fd, line);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return this.#error(f.sink.path, `cannot write: ${message(err)}`);
      if (f.dropped++ === 0) this.#opts.report({ type: 'notify-fifo', fifo: f.sink.path, message: 'full (nobody reads it): dropping lines until it is read' });
      return;
    }
    if (f.dropped === 0) return;
    this.#opts.report({ type: 'notify-fifo', fifo: f.sink.path, message: `read again; ${f.dropped} line(s) were dropped while it was full` });
    f.dropped = 0;
  }

  /** Unlinked first, so a reader that reopens it in a loop cannot find it again (keepalived's fifo_close). */
  #close(f: OpenFifo): void {
    f.script?.abort();
    if (f.created) unlinkQuietly(f.sink.path);
    closeSync(f.fd);
  }

  #error(path: string, what: string): void {
    this.#opts.report({ type: 'error', where: 'notify-fifo', message: `${path}: ${what}` });
  }
}

function sinkKey(s: FifoSink): string {
  return modelKey({ owner: s.owner ?? null, script: s.script ?? null });
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function message(err: unknown): string {
  const e = err as { stderr?: Buffer; message?: string };
  return (e.stderr?.toString().trim() || e.message) ?? String(err);
}
