// The real-time driver around the pure scheduler. One CheckPool serves the whole daemon: one timer armed for the
// earliest planned check of any virtual server, one concurrency limit (adapted to the loop's lag, adaptive-limit.ts),
// the protocol checkers. Each virtual server is
// a CheckRunner on that pool (the director's CheckPort): its own scheduler state, subscribers, abort signal, notify
// scripts and track files, so starting, reloading or stopping one leaves the others' checks alone. Everything about
// *when* and *what it means* lives in scheduler.ts.
import diagnostics from 'node:diagnostics_channel';
import type { Checker, ScriptUser, VirtualServer } from '../config/model.ts';
import { AdaptiveLimit, type AdaptiveLimitOptions } from './adaptive-limit.ts';
import { CheckError } from './errors.ts';
import { checkFile } from './file.ts';
import { TimerHeap } from './heap.ts';
import type { HttpOptions } from './http.ts';
import { failed } from './result.ts';
import { CheckScheduler, type SchedulerOptions } from './scheduler.ts';
import { runScript } from './script.ts';
import { Slots } from './slots.ts';
import { assertScriptSecure } from './script-security.ts';
import { splitCommandLine } from './command-line.ts';
import { checkTcp } from './tcp.ts';
import { initTrackFile, TrackFileWatcher } from './track-file.ts';
import type { CheckEvent, CheckResult, DueCheck, ScriptAction } from './types.ts';
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

/** A check planned this long ago or more starts whatever the tick's budget (see tick()). */
const LATE_MS = 50;

/** What the pool shares between virtual servers. */
export interface PoolOptions {
  /** At most this many checks in flight, over every runner of the pool; the rest wait in order. Default 1,000. */
  readonly concurrency?: number;
  /**
   * The in-flight limit follows the event loop's lag between a floor and `concurrency` (adaptive-limit.ts), so a
   * CPU that cannot finish that many checks within connect_timeout makes checks late instead of failing them all.
   * `false` keeps it fixed at `concurrency`. Default on, with AdaptiveLimit's defaults.
   */
  readonly adaptiveConcurrency?: false | Omit<AdaptiveLimitOptions, 'max'>;
  readonly http?: HttpOptions;
  readonly scriptUser?: ScriptUser;
  readonly enableScriptSecurity?: boolean;
  /**
   * At most this many checks start per tick of the pool's timer; checks due beyond it start on the next tick,
   * after the loop has read what completed meanwhile. A tick that started hundreds at once (a clump: checks
   * planned from completions read in one go fall due together again) delayed their own completions and the
   * loop's timers by as long, and the clump held round after round. Checks already 50 ms late start regardless:
   * when the loop's turns are long (busy with completions, as HTTP_GET's at a thousand a second in the guest), 16
   * a turn would cap the pace below the plans, and deferring a late check further only makes it later. Default 16.
   */
  readonly startsPerTick?: number;
  /** Replaces the protocol checkers (tests). */
  readonly runChecker?: RunChecker;
  /** Milliseconds on a monotonic clock; default performance.timeOrigin + performance.now(). */
  readonly now?: () => number;
}

export interface RunnerOptions extends PoolOptions, Partial<SchedulerOptions> {
  /** Start notify_up/notify_down/quorum_up/quorum_down scripts (default true; `ipvs-ts check` turns it off). */
  readonly runScripts?: boolean;
  /** notify and quorum scripts are killed (with their group) after this long. Default 30 s. */
  readonly scriptTimeoutMs?: number;
  /** Where failures to start or finish a notify script are reported. Default: stderr. */
  readonly onScriptError?: (action: ScriptAction, message: string) => void;
  /** Where a track file that cannot be initialised (init_file) or watched is reported. Default: stderr. */
  readonly onTrackFileError?: (message: string) => void;
}

/** A runner as the pool sees it: when its entry in the pool's queue is due, it starts what its scheduler has due. */
interface Member {
  readonly runner: CheckRunner;
  /** The time of this member's live entry in the pool's queue; Infinity when it has none. */
  at: number;
}

/**
 * The daemon-wide part: one timer for every runner's earliest planned check (a heap holds one entry per runner
 * that has something planned, each runner's own scheduler the rest) and one concurrency limit.
 */
export class CheckPool {
  readonly runChecker: RunChecker;
  readonly now: () => number;
  private readonly limit: Slots;
  private readonly startsPerTick: number;
  private readonly adaptive: AdaptiveLimit | undefined;
  private readonly queue = new TimerHeap();
  private readonly members = new Map<number, Member>();
  private nextMember = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Instead of the timer when what it is for is due already (a tick that ran out of its budget). */
  private immediate: NodeJS.Immediate | undefined;
  private timerAt = Infinity;
  /** When the armed timer should fire: timerAt, or the arming time for an entry already due. */
  private fireAt = Infinity;
  /** Inside tick(): wake() only queues, and tick() arms the timer once at its end. */
  private ticking = false;
  /** The loop thread's CPU share over the last interval, for the adaptive limit, and where that interval began. */
  private cpuShare = 0;
  private cpuSampledAt = -Infinity;
  private cpuSample = 0;

  constructor(options: PoolOptions = {}) {
    // timeOrigin is a getter that allocates: read it once.
    const origin = performance.timeOrigin;
    this.now = options.now ?? (() => origin + performance.now());
    const max = options.concurrency ?? 1_000;
    this.limit = new Slots(max);
    this.startsPerTick = options.startsPerTick ?? 16;
    if (options.adaptiveConcurrency !== false) this.adaptive = new AdaptiveLimit({ ...options.adaptiveConcurrency, max });
    this.runChecker = options.runChecker ?? protocolChecker(options);
  }

  /** Checks running now and checks waiting for a concurrency slot, over every runner. */
  get load(): { readonly active: number; readonly queued: number } {
    return { active: this.limit.active, queued: this.limit.queued };
  }

  /** The in-flight limit now (the configured concurrency unless the loop's lag has lowered it). */
  get inFlightLimit(): number {
    return this.limit.concurrency;
  }

  join(runner: CheckRunner): number {
    const id = this.nextMember++;
    this.members.set(id, { runner, at: Infinity });
    return id;
  }

  leave(id: number): void {
    this.members.delete(id);
    if (this.members.size > 0) return;
    // Nothing left to run: drop the stale entries so an idle pool holds no timer (and no process) alive.
    while (this.queue.size > 0) this.queue.pop();
    this.disarm();
    this.timerAt = Infinity;
  }

  /** The loop thread's CPU share, re-measured at most every 100 ms (one getrusage per sample). */
  private sampleCpu(now: number): void {
    if (now - this.cpuSampledAt < 100) return;
    const { user, system } = process.threadCpuUsage();
    const cpuMs = (user + system) / 1000;
    if (Number.isFinite(this.cpuSampledAt)) this.cpuShare = (cpuMs - this.cpuSample) / (now - this.cpuSampledAt);
    this.cpuSampledAt = now;
    this.cpuSample = cpuMs;
  }

  /** A member's earliest planned check is now `at`: queued unless its entry is already as early. */
  wake(id: number, at: number): void {
    const m = this.members.get(id);
    if (m === undefined || at >= m.at) return;
    // The later entry stays in the heap; tick() skips it as superseded.
    m.at = at;
    this.queue.push(at, id);
    // During a tick the runners it starts wake the pool; the tick arms once for the earliest of them when it ends.
    if (this.ticking || at >= this.timerAt) return;
    this.arm(at);
  }

  /** The one timer, for `at`: whatever was armed before is cleared, so no timer is ever lost while still armed. */
  private arm(at: number): void {
    this.disarm();
    const now = this.now();
    this.timerAt = at;
    this.fireAt = Math.max(at, now);
    // Due already: after this turn's I/O, not on a timer Node would hold back for a millisecond (16 starts a
    // millisecond would cap a fast machine's pace).
    if (at <= now) this.immediate = setImmediate(() => this.tick());
    else this.timer = setTimeout(() => this.tick(), at - now);
  }

  private disarm(): void {
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  /** Starts up to `max` checks planned at or before `until`, earliest first. */
  private startDue(until: number, max: number): void {
    let budget = max;
    for (let at = this.queue.peekTime(); budget > 0 && at !== undefined && at <= until; at = this.queue.peekTime()) {
      const m = this.members.get(this.queue.pop()!);
      // Left the pool, or superseded by an earlier entry that already ran.
      if (m === undefined || m.at !== at) continue;
      m.at = Infinity;
      budget -= m.runner.runDue(until, budget);
    }
  }

  /** Queues a check behind the concurrency limit. */
  run(task: () => Promise<void>): void {
    this.limit.run(task);
  }

  private tick(): void {
    const now = this.now();
    // How late this timer fired is the loop's lag: what the in-flight limit follows.
    if (this.adaptive) {
      this.sampleCpu(now);
      const limit = this.adaptive.observe(now, now - this.fireAt, this.cpuShare, this.limit.active, this.limit.queued);
      if (limit !== this.limit.concurrency) this.limit.concurrency = limit;
    }
    this.timer = undefined;
    this.immediate = undefined;
    this.timerAt = Infinity;
    this.ticking = true;
    try {
      // First every check already LATE_MS late, in plan order: the budget must never hold back the pace.
      this.startDue(now - LATE_MS, Infinity);
      this.startDue(now, this.startsPerTick);
    } finally {
      this.ticking = false;
    }
    // Checks still due (over budget) are taken up after the loop's I/O of this turn.
    const next = this.queue.peekTime();
    if (next !== undefined) this.arm(next);
  }
}

/** One pool, one runner per virtual server: the director's check ports (each a CheckPort) and `ipvs-ts check`'s. */
export function sharedRunners(options: RunnerOptions = {}): (vs: VirtualServer) => CheckRunner {
  const pool = new CheckPool(options);
  return (vs) => new CheckRunner([vs], options, pool);
}

export class CheckRunner {
  private readonly scheduler: CheckScheduler;
  private readonly pool: CheckPool;
  /** This runner's id in the pool, from start() on. */
  private member = -1;
  /** Made with the first attempt: a virtual server whose real servers have no checkers never needs one. */
  private abort: AbortController | undefined;
  private readonly listeners = new Set<(event: CheckEvent) => void>();
  /** Checks of this runner that have started and not finished, and who waits for the last one (stop()). */
  private active = 0;
  private drained: (() => void) | undefined;
  /** Only while this runner has FILE_CHECKs: most virtual servers have none, and a director has 10,000 runners. */
  private trackFiles: TrackFileWatcher | undefined;
  private state: 'new' | 'running' | 'stopped' = 'new';
  private readonly options: RunnerOptions;

  /** Without a pool, the runner has one of its own (tests, a single configuration). */
  constructor(virtualServers: readonly VirtualServer[], options: RunnerOptions = {}, pool: CheckPool = new CheckPool(options)) {
    this.options = options;
    this.pool = pool;
    this.scheduler = new CheckScheduler(virtualServers, { random: Math.random, ...options });
  }

  /** Adds a listener for every event, in order; returns the function that removes it. Listeners must not throw. */
  subscribe(listener: (event: CheckEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.state !== 'new') throw new Error('check runner already started');
    this.state = 'running';
    this.member = this.pool.join(this);
    this.watchTrackFiles();
    this.deliver(this.scheduler.start(this.pool.now()));
    this.wake();
  }

  /**
   * FILE_CHECKs react to their file at once, as keepalived's do (inotify): a change re-runs the checker now;
   * delay_loop re-reads it besides. init_file is written first (once per process, never on a reload). Called again
   * after a reload, it watches the FILE_CHECKs of the new configuration instead.
   */
  private watchTrackFiles(): void {
    this.trackFiles?.close();
    this.trackFiles = undefined;
    const report = this.options.onTrackFileError ?? ((m) => process.stderr.write(`${m}\n`));
    for (const { id, checker } of this.scheduler.listCheckers()) {
      if (checker.type !== 'FILE_CHECK') continue;
      const problem = initTrackFile(checker.trackFile);
      if (problem) report(problem);
      this.trackFiles ??= new TrackFileWatcher();
      const watched = this.trackFiles.watch(checker.trackFile.path, () => {
        if (this.state !== 'running') return;
        this.scheduler.expedite(id, this.pool.now());
        this.wake();
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
    this.deliver(this.scheduler.reconfigure(virtualServers, this.pool.now()));
    if (this.state === 'running') this.watchTrackFiles();
    this.wake();
  }

  /**
   * Cancels this runner's running checks (its queued ones return at once when their turn comes), then delivers
   * (and runs) the omega scripts; resolves when all have finished. Other runners of the pool are not touched.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopped';
    if (wasRunning) this.pool.leave(this.member);
    this.trackFiles?.close();
    this.abort?.abort();
    if (this.active > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    if (!wasRunning) return;
    const omega = this.scheduler.stop(this.pool.now());
    this.deliver(omega);
    await Promise.allSettled(omega.filter((e) => e.kind === 'script').map((e) => this.runScriptAction(e)));
  }

  /** Checks running now and checks waiting for a concurrency slot, over the whole pool. */
  get load(): { readonly active: number; readonly queued: number } {
    return this.pool.load;
  }

  /** The pool's in-flight limit now. */
  get inFlightLimit(): number {
    return this.pool.inFlightLimit;
  }

  /** The pool's entry for this runner is due: starts up to `max` of the checks due; returns how many. */
  runDue(now: number, max: number): number {
    if (this.state !== 'running') return 0;
    const due = this.scheduler.takeDue(now, max);
    for (const d of due) this.pool.run(() => this.attempt(d));
    this.wake();
    return due.length;
  }

  /** Tells the pool when this runner's earliest planned check is. */
  private wake(): void {
    if (this.state !== 'running') return;
    const next = this.scheduler.nextDueAt();
    if (next !== undefined) this.pool.wake(this.member, next);
  }

  private async attempt(due: DueCheck): Promise<void> {
    if (this.state !== 'running') return;
    this.active++;
    try {
      // Read only for the attempt's observers (metrics): in the guest every clock read is a system call.
      const startedAt = attemptChannel.hasSubscribers ? this.pool.now() : NaN;
      let result: CheckResult;
      try {
        result = await this.pool.runChecker(due.checker, (this.abort ??= new AbortController()).signal);
      } catch (err) {
        result = failed(performance.now(), 'CHECKER_FAILED', `checker crashed: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (this.state !== 'running') return;
      if (attemptChannel.hasSubscribers) {
        attemptChannel.publish({ check: due, result, startedAt, latenessMs: startedAt - due.plannedAt } satisfies AttemptMessage);
      }
      this.deliver(this.scheduler.complete(due.id, result, this.pool.now()));
      this.wake();
    } finally {
      if (--this.active === 0) this.drained?.();
    }
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

/**
 * Loads a module on first call: a checker type costs a daemon nothing until used (SSL_GET brings undici, ~110 modules;
 * under TCG every module costs tens of ms at start). TCP_CHECK and FILE_CHECK are loaded with the runner.
 */
function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load());
}

const httpModule = lazy(() => import('./http.ts'));
const dnsModule = lazy(() => import('./dns.ts'));
const miscModule = lazy(() => import('./misc.ts'));
const pingModule = lazy(() => import('./ping.ts'));
const smtpModule = lazy(() => import('./smtp.ts'));
const udpModule = lazy(() => import('./udp.ts'));

/** Dispatches each checker type to its implementation. */
export function protocolChecker(options: Pick<PoolOptions, 'http' | 'scriptUser' | 'enableScriptSecurity'>): RunChecker {
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
        return httpModule().then((m) => m.checkHttp(checker, signal, options.http));
      case 'MISC_CHECK':
        return miscModule().then((m) => m.checkMisc(checker, signal, policy));
      case 'PING_CHECK':
        return pingModule().then((m) => m.checkPing(checker, signal));
      case 'UDP_CHECK':
        return udpModule().then((m) => m.checkUdp(checker, signal));
      case 'DNS_CHECK':
        return dnsModule().then((m) => m.checkDns(checker, signal));
      case 'SMTP_CHECK':
        return smtpModule().then((m) => m.checkSmtp(checker, signal));
      case 'FILE_CHECK':
        return checkFile(checker);
    }
  };
}
