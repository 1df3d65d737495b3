// The checkers' timing and verdict state machine. It is pure: time comes in as arguments, randomness through an
// injected function, and side effects go out as returned events (verdicts, quorum, sorry server, scripts to run).
// The runner (runner.ts) maps it onto real timers and real checks. Every rule is documented where it is coded and
// summarised in docs/checks.md.
import { sameModel } from '../config/compare.ts';
import type { Checker, RealServer, ScriptUser, VirtualServer } from '../config/model.ts';
import { TimerHeap } from './heap.ts';
import { endpointLabel, virtualServerLabel } from './labels.ts';
import type { CheckEvent, CheckResult, DueCheck, RealServerVerdict, ScriptAction } from './types.ts';

export interface SchedulerOptions {
  /** Uniform in [0, 1); staggers first checks inside `warmup`. */
  readonly random: () => number;
  /**
   * keepalived declares a server down on the first failed check after start, without retries. We give the first
   * check the same `retry` budget as any other (default true): after a director restart the kernel may still be
   * serving through that server, and one lost SYN must not pull it.
   */
  readonly firstCheckRetries?: boolean;
  /**
   * keepalived puts every non-alpha real server into IPVS before anything has checked it. By default (false) such
   * a server is "pending" — presumed up for scripts and quorum, but no verdict is published until its first check
   * has decided, so traffic never reaches a server nobody has looked at.
   */
  readonly upBeforeFirstCheck?: boolean;
  /**
   * A real server without checkers starts published as up at its configured weight, without a verdict; changes
   * from there (its pool losing quorum, a reload's new weight) are published as usual. The director assumes that
   * state for such a server (a site of 100,000 of them must not cost an event each at every start); `ipvs-ts check`
   * wants the verdict to print. Default false.
   */
  readonly quietAlwaysUp?: boolean;
}

type Health = 'pending' | 'up' | 'down';

const NO_CHECKERS: CheckerState[] = [];

interface CheckerState {
  readonly id: number;
  readonly checker: Checker;
  readonly rs: RsState;
  health: Health;
  /** Consecutive failures in the current retry cycle. */
  failures: number;
  /** Whether an attempt has completed since start (the first-failure rule). */
  hasRun: boolean;
  running: boolean;
  nextAt: number;
  /** expedite() while running: the next attempt follows at once. */
  expedited: boolean;
  dynamicWeight: number | undefined;
  weightOffset: number;
  reason: string;
}

interface RsState {
  readonly vs: VsState;
  readonly rs: RealServer;
  readonly checkers: CheckerState[];
  published: { up: boolean; present: boolean; weight: number } | undefined;
  /** Last health that scripts were run for; pending counts as up (keepalived starts non-alpha servers up). */
  notifiedUp: boolean;
}

interface VsState {
  readonly vs: VirtualServer;
  readonly rss: RsState[];
  /** Starts up, as keepalived assumes: a pool that is dead at start is a transition that runs quorum_down. */
  quorumUp: boolean;
  quorumKnown: boolean;
}

export class CheckScheduler {
  private readonly opts: Required<SchedulerOptions>;
  private vss: VsState[];
  /** By id. Ids are never reused, so a check that a reload removed while it ran is recognised when it ends. */
  private readonly checkers = new Map<number, CheckerState>();
  private nextId = 0;
  private readonly queue = new TimerHeap();
  private started = false;

  constructor(virtualServers: readonly VirtualServer[], options: SchedulerOptions) {
    this.opts = { firstCheckRetries: true, upBeforeFirstCheck: false, quietAlwaysUp: false, ...options };
    this.vss = this.build(virtualServers, [], []);
  }

  /** Publishes the initial verdicts and plans each checker's first attempt at a random point within its warmup. */
  start(now: number): CheckEvent[] {
    if (this.started) throw new Error('scheduler already started');
    this.started = true;
    for (const c of this.checkers.values()) this.planFirst(c, now);
    const events: CheckEvent[] = [];
    for (const vs of this.vss) this.refresh(vs, now, events, 0);
    return events;
  }

  /**
   * A reload: the new virtual servers replace the old ones. Checkers that did not change carry on (see build()),
   * new ones are planned as at start, removed ones are forgotten (a check of theirs still running is ignored when
   * it ends). Returns what that changes: a real server's new weight, a quorum that moved, the scripts that follow.
   */
  reconfigure(virtualServers: readonly VirtualServer[], now: number): CheckEvent[] {
    const before = this.vss;
    const fresh: CheckerState[] = [];
    this.checkers.clear();
    this.vss = this.build(virtualServers, before, fresh);
    if (!this.started) return [];
    for (const c of fresh) this.planFirst(c, now);
    const events: CheckEvent[] = [];
    for (const vs of this.vss) this.refresh(vs, now, events, 0);
    return events;
  }

  /**
   * The state of `virtualServers`. A checker whose identity (virtual server, real server and its own settings) is
   * that of one in `before` continues from it: health, retry count, next planned check, the attempt running now.
   * Its real server keeps what was last published and notified for it, its virtual server its quorum
   * (keepalived's migrate). Checkers without a predecessor are appended to `fresh`.
   */
  private build(virtualServers: readonly VirtualServer[], before: readonly VsState[], fresh: CheckerState[]): VsState[] {
    // At the start there is nothing to continue from: no maps or labels per real server (100,000 at scale).
    const oldVss = before.length > 0 ? new Map(before.map((v) => [virtualServerLabel(v.vs), v])) : undefined;
    return virtualServers.map((vs) => {
      const oldVs = oldVss?.get(virtualServerLabel(vs));
      const vsState: VsState = { vs, rss: [], quorumUp: oldVs?.quorumUp ?? true, quorumKnown: oldVs?.quorumKnown ?? false };
      const oldRss = oldVs ? new Map(oldVs.rss.map((r) => [endpointLabel(r.rs), r])) : undefined;
      for (const rs of vs.realServers) {
        const oldRs = oldRss?.get(endpointLabel(rs));
        const published = oldRs?.published ?? (this.opts.quietAlwaysUp && rs.checkers.length === 0 ? alwaysUp(rs.weight) : undefined);
        // Most real servers of a big site have no checker: they share one empty list.
        const rsState: RsState = { vs: vsState, rs, checkers: rs.checkers.length === 0 ? NO_CHECKERS : [], published, notifiedUp: true };
        const unclaimed = oldRs && rs.checkers.length > 0 ? [...oldRs.checkers] : [];
        for (const checker of rs.checkers) {
          const at = unclaimed.findIndex((c) => sameModel(c.checker, checker));
          const state: CheckerState = at >= 0 ? { ...unclaimed.splice(at, 1)[0]!, checker, rs: rsState } : this.newChecker(checker, rsState);
          if (at < 0) fresh.push(state);
          rsState.checkers.push(state);
          this.checkers.set(state.id, state);
        }
        rsState.notifiedUp = oldRs?.notifiedUp ?? rsHealth(rsState) !== 'down';
        vsState.rss.push(rsState);
      }
      return vsState;
    });
  }

  private newChecker(checker: Checker, rs: RsState): CheckerState {
    return {
      id: this.nextId++,
      checker,
      rs,
      // alpha: start down until the first success; otherwise start up (keepalived) or pending (our default).
      health: checker.alpha ? 'down' : this.opts.upBeforeFirstCheck ? 'up' : 'pending',
      failures: 0,
      hasRun: false,
      running: false,
      nextAt: 0,
      expedited: false,
      dynamicWeight: undefined,
      weightOffset: 0,
      reason: checker.alpha ? 'alpha: down until the first successful check' : 'not checked yet',
    };
  }

  /** A random point within the warmup, so checks that start together do not run together. */
  private planFirst(c: CheckerState, now: number): void {
    c.nextAt = now + Math.floor(this.opts.random() * c.checker.warmupMs);
    this.queue.push(c.nextAt, c.id);
  }

  /** When the earliest planned check is due, or undefined when nothing is planned (all running or none). */
  nextDueAt(): number | undefined {
    return this.queue.peekTime();
  }

  /** Every checker with its id, for a driver that reacts to outside events (the runner watches FILE_CHECK files). */
  listCheckers(): readonly { readonly id: number; readonly checker: Checker }[] {
    return [...this.checkers.values()].map((c) => ({ id: c.id, checker: c.checker }));
  }

  /**
   * Brings a checker's next attempt forward to `now` (its input changed, as a FILE_CHECK's file does); a running
   * checker attempts again as soon as it completes. Its retry state is untouched.
   */
  expedite(id: number, now: number): void {
    const c = this.checkers.get(id);
    if (!c || !this.started) return;
    if (c.running) c.expedited = true;
    else if (c.nextAt > now) {
      // The entry at the old time stays in the heap; takeDue skips it as superseded.
      c.nextAt = now;
      this.queue.push(now, id);
    }
  }

  /**
   * Takes the checks due at `now` off the queue, at most `max` of them in plan order, and marks them running; a
   * checker never overlaps itself. The rest stay due: nextDueAt() says so.
   */
  takeDue(now: number, max = Infinity): DueCheck[] {
    const due: DueCheck[] = [];
    while (due.length < max && (this.queue.peekTime() ?? Infinity) <= now) {
      const at = this.queue.peekTime();
      const c = this.checkers.get(this.queue.pop()!);
      // Removed by a reload, already running, or superseded by a later plan.
      if (c === undefined || c.running || at !== c.nextAt) continue;
      c.running = true;
      due.push({ id: c.id, virtualServer: c.rs.vs.vs, realServer: c.rs.rs, checker: c.checker, plannedAt: c.nextAt });
    }
    return due;
  }

  /**
   * Applies one finished attempt (keepalived's check epilogue) and plans the next one, counted from completion as
   * keepalived does, so a slow check never overlaps its successor.
   */
  complete(id: number, result: CheckResult, now: number): CheckEvent[] {
    const c = this.checkers.get(id);
    // A reload removed it while this attempt ran.
    if (c === undefined) return [];
    if (!c.running) throw new Error(`check ${id} is not running`);
    c.running = false;
    c.reason = result.reason;
    const rs = c.rs;
    const healthBefore = rsHealth(rs);
    const weightBefore = rsWeight(rs);
    const { delayLoopMs, delayBeforeRetryMs, retry } = c.checker;
    let delay = delayLoopMs;
    if (result.ok) {
      // One success brings a checker up, whatever state it was in.
      c.failures = 0;
      c.health = 'up';
      c.dynamicWeight = result.weight;
      c.weightOffset = result.weightOffset ?? 0;
    } else if (c.health === 'down') {
      // Already down: retries exist only to confirm a fall, so a down server is simply re-checked every delay_loop.
      c.failures = 0;
    } else {
      // Up or pending: down after retry+1 consecutive failures, each retry delay_before_retry after the last.
      const budget = !c.hasRun && !this.opts.firstCheckRetries ? 0 : retry;
      c.failures += 1;
      if (c.failures > budget) {
        c.failures = 0;
        c.health = 'down';
      } else {
        delay = delayBeforeRetryMs;
      }
    }
    c.hasRun = true;
    if (c.expedited) delay = 0;
    c.expedited = false;
    c.nextAt = now + delay;
    this.queue.push(c.nextAt, c.id);
    // The common case — nothing observable changed — must stay O(1): a director checks tens of thousands of servers.
    if (rsHealth(rs) === healthBefore && rsWeight(rs) === weightBefore) return [];
    const events: CheckEvent[] = [];
    this.refresh(rs.vs, now, events, result.latencyMs, rs);
    return events;
  }

  /** omega: at shutdown, run notify_down for every live real server and quorum_down for a live pool. */
  stop(now: number): CheckEvent[] {
    const events: CheckEvent[] = [];
    for (const vs of this.vss) {
      if (!vs.vs.omega) continue;
      for (const rs of vs.rss) {
        if (rs.notifiedUp && rs.rs.notifyDown) events.push(script(rs.rs.notifyDown, rs.rs.notifyDownUser, 'notify_down', now));
      }
      if (vs.quorumUp && vs.vs.quorumDown) events.push(script(vs.vs.quorumDown, vs.vs.quorumDownUser, 'quorum_down', now));
    }
    return events;
  }

  /** Recomputes a virtual server's derived state and appends what changed; `changed` limits it to one server
   * unless the quorum moved. */
  private refresh(vs: VsState, now: number, events: CheckEvent[], latencyMs: number, changed?: RsState): void {
    const touched = changed ? [changed] : vs.rss;
    for (const rs of touched) {
      const health = rsHealth(rs);
      const up = health !== 'down';
      // notify_up/notify_down on each change of health; pending counts as up, like keepalived's start state.
      if (up !== rs.notifiedUp) {
        rs.notifiedUp = up;
        const command = up ? rs.rs.notifyUp : rs.rs.notifyDown;
        if (command) events.push(script(command, up ? rs.rs.notifyUpUser : rs.rs.notifyDownUser, up ? 'notify_up' : 'notify_down', now));
      }
    }
    // Quorum is decided first (it decides whether the sorry server stands in) but reported after the verdicts.
    const quorumEvents: CheckEvent[] = [];
    this.refreshQuorum(vs, now, quorumEvents);
    for (const rs of quorumEvents.length > 0 ? vs.rss : touched) {
      const health = rsHealth(rs);
      if (health === 'pending') continue;
      const up = health === 'up';
      const replacedBySorry = !vs.quorumUp && vs.vs.sorryServer !== undefined;
      // inhibit_on_failure keeps a failed server in the table at weight 0 instead of removing it (existing
      // connections drain instead of breaking); the same applies to servers a sorry server stands in for.
      const present = up && !replacedBySorry ? true : rs.rs.inhibitOnFailure;
      const weight = up && !replacedBySorry ? rsWeight(rs) : 0;
      const prev = rs.published;
      if (prev && prev.up === up && prev.present === present && prev.weight === weight) continue;
      rs.published = { up, present, weight };
      events.push(verdict(vs.vs, rs, up, present, weight, now, latencyMs, replacedBySorry && up));
    }
    events.push(...quorumEvents);
  }

  /**
   * quorum/hysteresis over the sum of live weights: a live pool falls when the sum is 0 or below quorum −
   * hysteresis and a fallen one rises at quorum + hysteresis (and a non-zero sum). It is first decided once no
   * real server is pending; a fall runs quorum_down and brings in the sorry server, a rise the reverse.
   */
  private refreshQuorum(vs: VsState, now: number, events: CheckEvent[]): void {
    if (!vs.quorumKnown && vs.rss.some((rs) => rsHealth(rs) === 'pending')) return;
    const { quorum, hysteresis, sorryServer } = vs.vs;
    const live = vs.rss.reduce((sum, rs) => (rsHealth(rs) === 'up' ? sum + rsWeight(rs) : sum), 0);
    const wasUp = vs.quorumUp;
    if (wasUp && (live === 0 || live < quorum - hysteresis)) vs.quorumUp = false;
    else if (!wasUp && live > 0 && live >= quorum + hysteresis) vs.quorumUp = true;
    const first = !vs.quorumKnown;
    vs.quorumKnown = true;
    if (!first && wasUp === vs.quorumUp) return;
    events.push({ kind: 'quorum', virtualServer: vs.vs, up: vs.quorumUp, liveWeight: live, ...(first && { first }), at: now });
    if (wasUp !== vs.quorumUp) {
      const command = vs.quorumUp ? vs.vs.quorumUp : vs.vs.quorumDown;
      if (command) events.push(script(command, vs.quorumUp ? vs.vs.quorumUpUser : vs.vs.quorumDownUser, vs.quorumUp ? 'quorum_up' : 'quorum_down', now));
    }
    if (sorryServer) {
      // sorry_server_inhibit keeps the sorry server in the table at weight 0 while the pool is healthy.
      const { address, family, port } = sorryServer;
      events.push({
        kind: 'sorryServer',
        virtualServer: vs.vs,
        sorryServer: { address, family, port },
        present: !vs.quorumUp || vs.vs.sorryServerInhibit,
        weight: vs.quorumUp ? 0 : 1,
        at: now,
      });
    }
  }
}

/** A real server is down if any checker is down (all must pass), pending if any is still pending, else up. */
function rsHealth(rs: RsState): Health {
  let pending = false;
  for (const c of rs.checkers) {
    if (c.health === 'down') return 'down';
    if (c.health === 'pending') pending = true;
  }
  return pending ? 'pending' : 'up';
}

type Published = NonNullable<RsState['published']>;
/** Published states are replaced, never changed: real servers of one weight share one. */
const alwaysUpByWeight = new Map<number, Published>();

function alwaysUp(weight: number): Published {
  let p = alwaysUpByWeight.get(weight);
  if (p === undefined) alwaysUpByWeight.set(weight, (p = Object.freeze({ up: true, present: true, weight })));
  return p;
}

/** IPVS takes a weight up to INT32_MAX. */
const MAX_WEIGHT = 2 ** 31 - 1;

/**
 * The configured weight, unless a misc_dynamic checker set one (the last such checker wins), plus what FILE_CHECKs
 * add (keepalived's effective weight), kept within what IPVS takes.
 */
function rsWeight(rs: RsState): number {
  let weight = rs.rs.weight;
  let offset = 0;
  for (const c of rs.checkers) {
    if (c.dynamicWeight !== undefined) weight = c.dynamicWeight;
    offset += c.weightOffset;
  }
  return offset === 0 ? weight : Math.min(MAX_WEIGHT, Math.max(0, weight + offset));
}

function script(command: string, user: ScriptUser | undefined, reason: ScriptAction['reason'], at: number): ScriptAction {
  return user ? { kind: 'script', command, user, reason, at } : { kind: 'script', command, reason, at };
}

function verdict(
  vs: VirtualServer,
  rs: RsState,
  up: boolean,
  present: boolean,
  weight: number,
  at: number,
  latencyMs: number,
  replacedBySorry: boolean,
): RealServerVerdict {
  let reason: string;
  if (replacedBySorry) reason = 'quorum lost: sorry server in use';
  else if (rs.checkers.length === 0) reason = 'no checkers: always up';
  else if (up) reason = rs.checkers.length === 1 ? rs.checkers[0]!.reason : `all ${rs.checkers.length} checks pass`;
  else reason = rs.checkers.find((c) => c.health === 'down')?.reason ?? 'down';
  return { kind: 'realServer', virtualServer: vs, realServer: rs.rs, up, present, weight, reason, latencyMs, at };
}
