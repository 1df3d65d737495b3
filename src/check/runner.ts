// The thin real-time driver around the pure scheduler: one timer armed for the earliest planned check, checks run
// through a p-limit queue, results fed back, events delivered to subscribers and to diagnostics channels, and the
// notify/quorum scripts started. Everything about *when* and *what it means* lives in scheduler.ts.
import diagnostics from 'node:diagnostics_channel';
import pLimit from 'p-limit';
import type { Checker, ScriptUser, VirtualServer } from '../config/model.ts';
import { checkDns } from './dns.ts';
import { CheckError } from './errors.ts';
import { checkFile } from './file.ts';
import { checkHttp, type HttpOptions } from './http.ts';
import { checkMisc } from './misc.ts';
import { checkPing } from './ping.ts';
import { failed } from './result.ts';
import { CheckScheduler, type SchedulerOptions } from './scheduler.ts';
import { runScript } from './script.ts';
import { assertScriptSecure } from './script-security.ts';
import { splitCommandLine } from './command-line.ts';
import { checkSmtp } from './smtp.ts';
import { checkTcp } from './tcp.ts';
import { initTrackFile, TrackFileWatcher } from './track-file.ts';
import type { CheckEvent, CheckResult, DueCheck, ScriptAction } from './types.ts';
import { checkUdp } from './udp.ts';
import { resolveUser } from './users.ts';

/** Every CheckEvent, for observers that are not the director (metrics, status, logs). */
export const eventChannel = diagnostics.channel('ipvs-ts:check:event');
/** Every finished attempt: `{ check: DueCheck, result, startedAt, latenessMs }`. */
export const attemptChannel = diagnostics.channel('ipvs-ts:check:attempt');

export interface AttemptMessage {
  readonly check: DueCheck;
  readonly result: CheckResult;
  readonly startedAt: number;
  /** Actual start − planned start: how late the runner was (timer, queue). */
  readonly latenessMs: number;
}

export type RunChecker = (checker: Checker, signal: AbortSignal) => Promise<CheckResult>;

export interface RunnerOptions extends Partial<SchedulerOptions> {
  /** At most this many checks in flight; the rest wait in order. Default 1,000. */
  readonly concurrency?: number;
  readonly http?: HttpOptions;
  readonly scriptUser?: ScriptUser;
  readonly enableScriptSecurity?: boolean;
  /** Start notify_up/notify_down/quorum_up/quorum_down scripts (default true; `ipvs-ts check` turns it off). */
  readonly runScripts?: boolean;
  /** notify and quorum scripts are killed (with their group) after this long. Default 30 s. */
  readonly scriptTimeoutMs?: number;
  /** Where failures to start or finish a notify script are reported. Default: stderr. */
  readonly onScriptError?: (action: ScriptAction, message: string) => void;
  /** Where a track file that cannot be initialised (init_file) or watched is reported. Default: stderr. */
  readonly onTrackFileError?: (message: string) => void;
  /** Replaces the protocol checkers (tests). */
  readonly runChecker?: RunChecker;
  /** Milliseconds on a monotonic clock; default performance.timeOrigin + performance.now(). */
  readonly now?: () => number;
}

export class CheckRunner {
  private readonly scheduler: CheckScheduler;
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly abort = new AbortController();
  private readonly listeners = new Set<(event: CheckEvent) => void>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly runChecker: RunChecker;
  private readonly now: () => number;
  private trackFiles = new TrackFileWatcher();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private state: 'new' | 'running' | 'stopped' = 'new';
  private readonly options: RunnerOptions;

  constructor(virtualServers: readonly VirtualServer[], options: RunnerOptions = {}) {
    this.options = options;
    this.now = options.now ?? (() => performance.timeOrigin + performance.now());
    this.scheduler = new CheckScheduler(virtualServers, { random: Math.random, ...options });
    this.limit = pLimit(options.concurrency ?? 1_000);
    this.runChecker = options.runChecker ?? protocolChecker(options);
  }

  /** Adds a listener for every event, in order; returns the function that removes it. Listeners must not throw. */
  subscribe(listener: (event: CheckEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.state !== 'new') throw new Error('check runner already started');
    this.state = 'running';
    this.watchTrackFiles();
    this.deliver(this.scheduler.start(this.now()));
    this.arm();
  }

  /**
   * FILE_CHECKs react to their file at once, as keepalived's do (inotify): a change re-runs the checker now;
   * delay_loop re-reads it besides. init_file is written first (once per process, never on a reload). Called again
   * after a reload, it watches the FILE_CHECKs of the new configuration instead.
   */
  private watchTrackFiles(): void {
    this.trackFiles.close();
    this.trackFiles = new TrackFileWatcher();
    const report = this.options.onTrackFileError ?? ((m) => process.stderr.write(`${m}\n`));
    for (const { id, checker } of this.scheduler.listCheckers()) {
      if (checker.type !== 'FILE_CHECK') continue;
      const problem = initTrackFile(checker.trackFile);
      if (problem) report(problem);
      const watched = this.trackFiles.watch(checker.trackFile.path, () => {
        if (this.state !== 'running') return;
        this.scheduler.expedite(id, this.now());
        this.arm();
      });
      if (!watched) report(`track_file ${checker.trackFile.name}: cannot watch ${checker.trackFile.path} (no such directory?); re-read every delay_loop only`);
    }
  }

  /**
   * A reload changed the virtual servers: checkers whose virtual server, real server and settings did not change
   * keep their state and their running checks (scheduler.ts), the others start or stop.
   */
  reconfigure(virtualServers: readonly VirtualServer[]): void {
    if (this.state === 'stopped') return;
    this.deliver(this.scheduler.reconfigure(virtualServers, this.now()));
    if (this.state === 'running') this.watchTrackFiles();
    this.arm();
  }

  /** Cancels running checks, then delivers (and runs) the omega scripts; resolves when all have finished. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopped';
    clearTimeout(this.timer);
    this.trackFiles.close();
    // Queued checks see the stopped state and return at once (clearQueue would leave their promises pending).
    this.abort.abort();
    await Promise.allSettled([...this.inFlight]);
    if (!wasRunning) return;
    const omega = this.scheduler.stop(this.now());
    this.deliver(omega);
    await Promise.allSettled(omega.filter((e) => e.kind === 'script').map((e) => this.runScriptAction(e)));
  }

  private arm(): void {
    if (this.state !== 'running') return;
    const next = this.scheduler.nextDueAt();
    if (next === undefined || next >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => this.tick(), Math.max(0, next - this.now()));
  }

  private tick(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    for (const due of this.scheduler.takeDue(this.now())) this.launch(due);
    this.arm();
  }

  private launch(due: DueCheck): void {
    const run = this.limit(async () => {
      if (this.state !== 'running') return;
      const startedAt = this.now();
      const result = await this.runChecker(due.checker, this.abort.signal).catch((err: unknown) =>
        failed(performance.now(), 'CHECKER_FAILED', `checker crashed: ${err instanceof Error ? err.message : String(err)}`),
      );
      if (this.state !== 'running') return;
      if (attemptChannel.hasSubscribers) {
        attemptChannel.publish({ check: due, result, startedAt, latenessMs: startedAt - due.plannedAt } satisfies AttemptMessage);
      }
      this.deliver(this.scheduler.complete(due.id, result, this.now()));
      this.arm();
    });
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  /** Checks running now and checks waiting for a concurrency slot. */
  get load(): { readonly active: number; readonly queued: number } {
    return { active: this.limit.activeCount, queued: this.limit.pendingCount };
  }

  private deliver(events: readonly CheckEvent[]): void {
    for (const event of events) {
      for (const listener of this.listeners) listener(event);
      if (eventChannel.hasSubscribers) eventChannel.publish(event);
      if (event.kind === 'script' && this.state === 'running') void this.runScriptAction(event);
    }
  }

  private async runScriptAction(action: ScriptAction): Promise<void> {
    if (this.options.runScripts === false) return;
    const report = this.options.onScriptError ?? ((a, m) => process.stderr.write(`${a.reason} ${a.command}: ${m}\n`));
    try {
      const user = action.user ?? this.options.scriptUser;
      if (this.options.enableScriptSecurity) assertScriptSecure(splitCommandLine(action.command)[0]!);
      const run = await runScript(action.command, {
        timeoutMs: this.options.scriptTimeoutMs ?? 30_000,
        ...(user ? { credentials: resolveUser(user) } : {}),
      });
      if (run.timedOut) report(action, 'timed out; process group killed');
      else if (run.exitCode !== 0) report(action, run.exitCode === null ? `killed by ${run.signal}` : `exit ${run.exitCode}`);
    } catch (err) {
      report(action, err instanceof CheckError ? err.message : String(err));
    }
  }
}

/** Dispatches each checker type to its implementation. */
export function protocolChecker(options: Pick<RunnerOptions, 'http' | 'scriptUser' | 'enableScriptSecurity'>): RunChecker {
  const policy = {
    ...(options.scriptUser ? { scriptUser: options.scriptUser } : {}),
    ...(options.enableScriptSecurity ? { enableScriptSecurity: true } : {}),
  };
  return (checker, signal) => {
    switch (checker.type) {
      case 'TCP_CHECK':
        return checkTcp(checker, signal);
      case 'HTTP_GET':
      case 'SSL_GET':
        return checkHttp(checker, signal, options.http);
      case 'MISC_CHECK':
        return checkMisc(checker, signal, policy);
      case 'PING_CHECK':
        return checkPing(checker, signal);
      case 'UDP_CHECK':
        return checkUdp(checker, signal);
      case 'DNS_CHECK':
        return checkDns(checker, signal);
      case 'SMTP_CHECK':
        return checkSmtp(checker, signal);
      case 'FILE_CHECK':
        return checkFile(checker);
    }
  };
}
