// The reconciler: the director's one writer of the IPVS table. It holds a view of the kernel table (one dump at
// start, then every acknowledged operation) and re-plans only the services something touched: a verdict, a reload,
// a failed operation, a verification read that found the kernel changed behind our back. Work is queued and one
// loop does it, so reads and writes never interleave and a burst of verdicts lands in one batch.
//
// IPVS has no change notifications, so the kernel is still verified: one service at a time (a GET_SERVICE and its
// destination dump), round-robin over every service, spread so the whole table is read once per `sweepMs` but
// never for more than VERIFY_BUDGET_MS of each second on average; big tables therefore take longer per sweep
// (a sweep lasts about services × one read's cost / 1 %; measured figures in docs/benchmarks.md) and cost a
// bounded share of a core whatever their size.
import { performance } from 'node:perf_hooks';
import { describeOp } from '../ipvs/describe.ts';
import { destKey, serviceKey } from '../ipvs/identity.ts';
import { addAtHashWeight } from '../ipvs/mh.ts';
import { connections, planService } from '../ipvs/plan.ts';
import type { IpvsOp, ServiceId } from '../ipvs/types.ts';
import { KernelView } from '../ipvs/view.ts';
import type { DirectorEventBody } from './events.ts';
import type { VsHealth } from './health.ts';
import type { KernelPort, StateStore } from './ports.ts';
import type { DesiredIndex } from './desired.ts';
import { wantedService } from './desired.ts';
import type { VirtualServer } from '../config/model.ts';

/**
 * Wall time per second of verification at most, on average: 1 % of the event loop, so drift detection stays a small
 * part of an idle daemon's CPU at any size (at 100,000 destinations in the emulated VM, 20 ms overran to ~0.06 cores).
 */
const VERIFY_BUDGET_MS = 10;
/** Services per verification step while a read is cheap against the budget. */
const MAX_STEP = 4;
const TICK_MS = 1000;
const RETRY_MS = 1000;
/** A kernel connection that has failed every request for this long is declared dead (see 'ipvs-failed'). */
const DEAD_AFTER_MS = 30_000;
/** Operations named in an 'applied' event; the rest are counted. */
const DESCRIBED_OPS = 20;

export interface ReconcilerDeps {
  readonly kernel: KernelPort;
  readonly state: StateStore;
  readonly health: (vs: VirtualServer) => VsHealth | undefined;
  readonly emit: (e: DirectorEventBody) => void;
  readonly netlinkError: (where: string, err: unknown) => void;
  /** Default DEAD_AFTER_MS. */
  readonly deadAfterMs?: number;
}

export interface ReconcilerCounters {
  applies: number;
  opsApplied: number;
  opsFailed: number;
  driftRepairs: number;
  netlinkErrors: number;
  servicesVerified: number;
  /** Duration of the last complete verification sweep (ms); 0 until one completed. */
  lastSweepMs: number;
}

export class Reconciler {
  readonly #deps: ReconcilerDeps;
  #index: DesiredIndex;
  #view = new KernelView();
  #owned = new Set<string>();
  /** serviceKey → destKeys a reload removed that still carry connections (kept at weight 0 until they drain). */
  readonly #draining = new Map<string, Set<string>>();
  readonly #dirty = new Set<string>();
  /** Services to read back and re-plan (their turn in the sweep, a full check). */
  readonly #verify = new Set<string>();
  /** Services to read back after a refused operation: re-planned only if the kernel differs from the view. */
  readonly #recheck = new Set<string>();
  readonly #reasons = new Set<string>();
  #firstVerdictAt: number | undefined;
  #loop: Promise<void> | undefined;
  #sweep: string[] = [];
  #sweepAt = 0;
  #sweepStarted = 0;
  /** Verification time spent beyond the budget, paid back by the next ticks (ms). */
  #verifyDebt = 0;
  /** Wall time of one service's verification, as last measured (ms). */
  #readMs = 0;
  #ticking = false;
  #timer: NodeJS.Timeout | undefined;
  #saving: Promise<void> = Promise.resolve();
  #savePending = false;
  #flushing = false;
  /** performance.now() of the first of an unbroken run of failed requests (the socket, not a refused op). */
  #failingSince: number | undefined;
  #declaredDead = false;
  readonly counters: ReconcilerCounters = { applies: 0, opsApplied: 0, opsFailed: 0, driftRepairs: 0, netlinkErrors: 0, servicesVerified: 0, lastSweepMs: 0 };

  constructor(deps: ReconcilerDeps, index: DesiredIndex) {
    this.#deps = deps;
    this.#index = index;
  }

  get view(): KernelView {
    return this.#view;
  }

  get drainingCount(): number {
    let n = 0;
    for (const s of this.#draining.values()) n += s.size;
    return n;
  }

  /**
   * Start-up: the only full dump. Every service we own or want is then planned against it by `program()`, which
   * the director calls once the checkers have given their first verdicts (real servers without a checker are in
   * at once), so services and destinations go out in one batch.
   */
  async adopt(): Promise<void> {
    this.#owned = this.#deps.state.loadOwned();
    this.#view = KernelView.of((await this.#deps.kernel.table()).services);
    for (const key of this.#index.keys()) this.#dirty.add(key);
    for (const key of this.#owned) this.#dirty.add(key);
  }

  /** Start-up, after adopt(): programs what is dirty and resolves when it is in the kernel. */
  async program(): Promise<void> {
    this.#schedule('start');
    await this.idle();
  }

  /** Verifies every service in turn, spread over `sweepMs`; 0 = never (tests call verifyAll()). */
  startVerifying(sweepMs: number): void {
    if (sweepMs <= 0) return;
    const tick = Math.min(TICK_MS, sweepMs);
    this.#timer = setInterval(() => this.#tick(sweepMs, tick), tick);
    this.#timer.unref();
  }

  stopVerifying(): void {
    clearInterval(this.#timer);
  }

  /** A virtual server's verdicts changed: re-plan its services. */
  touchVirtualServer(label: string, verdictAt: number): void {
    this.#firstVerdictAt ??= verdictAt;
    for (const key of this.#index.keysOf(label)) this.#dirty.add(key);
    this.#schedule('verdict');
  }

  /**
   * A reload: re-plan the services whose virtual server changed, was added or removed. Real servers it removed
   * from services that remain drain at weight 0 while they carry connections.
   */
  reindex(next: DesiredIndex): void {
    const changed = this.#index.changedTo(next);
    this.#index = next;
    for (const key of changed) {
      this.#dirty.add(key);
      const want = next.get(key);
      const have = this.#view.get(key);
      if (!want || !have) continue;
      const keep = new Set(want.configured.destinations.map(destKey));
      if (want.vs.sorryServer) keep.add(destKey(want.vs.sorryServer));
      for (const k of have.destinations.keys()) {
        if (keep.has(k)) continue;
        let set = this.#draining.get(key);
        if (!set) this.#draining.set(key, (set = new Set()));
        set.add(k);
        // Read back now: what carries no connection goes at once, the rest at weight 0 until it drains.
        this.#verify.add(key);
      }
    }
    this.#schedule('reload');
  }

  /** Reads every service back from the kernel now (an ENOBUFS, a test); repairs what differs. */
  verifyAll(): void {
    for (const key of this.#candidates()) this.#verify.add(key);
    this.#schedule('drift');
  }

  /** Resolves when nothing is queued or running and the state file is written. */
  async idle(): Promise<void> {
    while (this.#loop) await this.#loop;
    await this.#saving;
  }

  /** lvs_flush_on_stop: deletes every service we own (and only those); no more writes after it. */
  async flushOwned(): Promise<void> {
    this.#flushing = true;
    this.stopVerifying();
    await this.idle();
    const ops: IpvsOp[] = [];
    for (const key of [...this.#owned].sort()) {
      const s = this.#view.get(key);
      if (s) ops.push({ op: 'del-service', id: s.service.id });
    }
    try {
      const result = ops.length ? await this.#deps.kernel.apply(ops) : { applied: [], failed: [] };
      this.#view.applied(result.applied);
      for (const op of result.applied) if (op.op === 'del-service') this.#owned.delete(serviceKey(op.id));
      this.#deps.emit({ type: 'applied', reasons: ['stop'], ...described(ops), failed: result.failed.length });
    } catch (err) {
      this.#deps.netlinkError('flush-on-stop', err);
    }
    this.#save();
    await this.#saving;
  }

  // ------------------------------------------------------------------------------------------- the loop

  #schedule(reason: string): void {
    if (this.#flushing) return;
    this.#reasons.add(reason);
    if (this.#loop) return;
    // setImmediate: every verdict delivered in this turn (a burst) lands in the same plan.
    this.#loop = new Promise<void>((resolve) => setImmediate(resolve))
      .then(async () => {
        while (this.#reasons.size > 0) {
          const reasons = [...this.#reasons];
          this.#reasons.clear();
          await this.#pass(reasons).catch((err: unknown) => this.#deps.netlinkError('reconcile', err));
        }
      })
      .finally(() => {
        this.#loop = undefined;
      });
  }

  async #pass(reasons: readonly string[]): Promise<void> {
    const drifted = await this.#readBack();
    const verdictAt = this.#firstVerdictAt;
    this.#firstVerdictAt = undefined;
    const keys = [...this.#dirty];
    this.#dirty.clear();
    const deletes: IpvsOp[] = [];
    const changes: IpvsOp[] = [];
    const repairs: IpvsOp[] = [];
    for (const key of keys.sort()) {
      const ops = this.#plan(key);
      for (const op of ops) (op.op === 'del-service' ? deletes : drifted.has(key) ? repairs : changes).push(op);
    }
    const ops = [...deletes, ...repairs, ...changes];
    if (ops.length === 0) return;
    let result: Awaited<ReturnType<KernelPort['apply']>>;
    try {
      result = await this.#deps.kernel.apply(ops);
    } catch (err) {
      this.#requestFailed();
      // The socket failed mid-batch (ENOBUFS, a lost reply): what reached the kernel is unknown, so these services
      // are read back and re-planned, a second later so that a socket that keeps failing is not hammered.
      setTimeout(() => {
        for (const key of keys) this.#verify.add(key);
        this.#schedule('drift');
      }, RETRY_MS).unref();
      throw err;
    }
    this.#failingSince = undefined;
    this.#view.applied(result.applied);
    this.counters.applies++;
    this.counters.opsApplied += result.applied.length;
    this.counters.opsFailed += result.failed.length;
    this.counters.netlinkErrors += result.failed.length;
    for (const f of result.failed) {
      this.#deps.emit({ type: 'error', where: 'ipvs', message: f.error.message });
      // What a refused operation left behind is read back at once; a retry waits for the service's next turn.
      this.#recheck.add(serviceKey(f.op.op === 'del-service' ? f.op.id : f.op.op === 'add-service' || f.op.op === 'edit-service' ? f.op.service.id : f.op.service));
    }
    this.#own(keys, result.failed.map((f) => f.op));
    if (repairs.length) {
      this.counters.driftRepairs++;
      this.#deps.emit({ type: 'drift', what: 'ipvs', repaired: repairs.slice(0, DESCRIBED_OPS).map(describeOp) });
    }
    const why = drifted.size > 0 && !reasons.includes('drift') ? [...reasons, 'drift'] : [...reasons];
    this.#deps.emit({
      type: 'applied',
      reasons: why,
      ...described(ops),
      failed: result.failed.length,
      ...(verdictAt !== undefined ? { sinceVerdictMs: Math.round((performance.now() - verdictAt) * 1000) / 1000 } : {}),
    });
    if (this.#recheck.size > 0) this.#schedule('drift');
  }

  /** The operations one service needs now; undefined desired + owned = delete it. */
  #plan(key: string): IpvsOp[] {
    const have = this.#view.get(key);
    const entry = this.#index.get(key);
    if (!entry) return have && this.#owned.has(key) ? [{ op: 'del-service', id: have.service.id }] : [];
    const want = wantedService(entry, this.#deps.health(entry.vs), have, this.#draining.get(key));
    return addAtHashWeight(planService(want, have && { service: have.service, destinations: have.destinations.values() }), entry.configured);
  }

  /** Ownership after a batch: every service we want is ours; one we failed to delete stays ours. */
  #own(keys: readonly string[], failed: readonly IpvsOp[]): void {
    const undeleted = new Set(failed.flatMap((op) => (op.op === 'del-service' ? [serviceKey(op.id)] : [])));
    let changed = false;
    for (const key of keys) {
      const ours = this.#index.get(key) !== undefined || undeleted.has(key);
      if (ours && !this.#owned.has(key)) {
        this.#owned.add(key);
        changed = true;
      } else if (!ours && this.#owned.delete(key)) changed = true;
    }
    if (changed) this.#save();
  }

  // ------------------------------------------------------------------------------------------- verification

  /** Reads the queued services back; returns those whose kernel state differed from the view (drift). */
  async #readBack(): Promise<Set<string>> {
    const drifted = new Set<string>();
    const keys = [...new Set([...this.#verify, ...this.#recheck])];
    if (keys.length === 0) return drifted;
    const replan = new Set(this.#verify);
    this.#verify.clear();
    this.#recheck.clear();
    const reads = await Promise.all(keys.map((key) => this.#read(key)));
    keys.forEach((key, i) => {
      const read = reads[i];
      if (read === 'failed') return;
      this.counters.servicesVerified++;
      if (this.#view.replace(key, read)) drifted.add(key);
      this.#pruneDraining(key);
      if (replan.has(key) || drifted.has(key)) this.#dirty.add(key);
    });
    return drifted;
  }

  async #read(key: string) {
    const id = this.#idOf(key);
    if (!id) return undefined;
    try {
      const service = await this.#deps.kernel.service(id);
      const read = service && { service, destinations: await this.#deps.kernel.destinations(id) };
      this.#failingSince = undefined;
      return read;
    } catch (err) {
      this.#deps.netlinkError('verify', err);
      this.#requestFailed();
      return 'failed' as const;
    }
  }

  /**
   * Requests keep failing as a whole: after DEAD_AFTER_MS without one success the connection to IPVS is declared
   * dead, once, and the owner decides (the daemon exits 1 for systemd to restart it with a fresh socket).
   */
  #requestFailed(): void {
    const now = performance.now();
    this.#failingSince ??= now;
    if (this.#declaredDead || now - this.#failingSince < (this.#deps.deadAfterMs ?? DEAD_AFTER_MS)) return;
    this.#declaredDead = true;
    this.#deps.emit({ type: 'ipvs-failed', message: `every IPVS request has failed for ${Math.round((now - this.#failingSince) / 1000)} s` });
  }

  #idOf(key: string): ServiceId | undefined {
    return this.#view.get(key)?.service.id ?? this.#index.get(key)?.configured.service.id;
  }

  /** Drops from the drain what has no connections left, is gone from the kernel, or is configured again. */
  #pruneDraining(key: string): void {
    const dests = this.#draining.get(key);
    if (!dests) return;
    const have = this.#view.get(key);
    const configured = new Set((this.#index.get(key)?.configured.destinations ?? []).map(destKey));
    for (const d of dests) {
      const k = have?.destinations.get(d);
      if (!k || connections(k) === 0 || configured.has(d)) dests.delete(d);
    }
    if (dests.size === 0) this.#draining.delete(key);
  }

  /** Every service worth reading: those the kernel holds as far as we know, and those we want. */
  #candidates(): Set<string> {
    return new Set([...this.#view.keys(), ...this.#index.keys()]);
  }

  /**
   * One verification slice: services still draining (their connection counts decide when they go), then the
   * next ones of the round, as many as spread the round over `sweepMs`, within the time budget.
   */
  async #tick(sweepMs: number, tickMs: number): Promise<void> {
    if (this.#ticking || this.#flushing) return;
    this.#ticking = true;
    try {
      for (const key of this.#draining.keys()) this.#verify.add(key);
      if (this.#sweepAt >= this.#sweep.length) {
        if (this.#sweep.length > 0) this.counters.lastSweepMs = Math.round(performance.now() - this.#sweepStarted);
        this.#sweep = [...this.#candidates()];
        this.#sweepAt = 0;
        this.#sweepStarted = performance.now();
      }
      const quota = Math.ceil((this.#sweep.length * tickMs) / sweepMs);
      const started = performance.now();
      // A token bucket over wall time: a tick whose steps overran the budget (a slow read on a loaded machine)
      // leaves a debt the next ticks pay by reading only one service, so the average stays within
      // VERIFY_BUDGET_MS a second unless one read alone costs more (a small table is then still swept in time).
      const budget = ((VERIFY_BUDGET_MS * tickMs) / TICK_MS) - this.#verifyDebt;
      let done = 0;
      // In small steps, so the budget is measured on real reads; verdicts queued meanwhile go through between steps.
      while (done < quota && this.#sweepAt < this.#sweep.length && (done === 0 || performance.now() - started < budget)) {
        // As many services as the time left allows at the last measured cost (one at least, MAX_STEP at most).
        const left = budget - (performance.now() - started);
        const step = Math.max(1, Math.min(quota - done, MAX_STEP, this.#readMs > 0 ? Math.floor(left / this.#readMs) : 1));
        for (const key of this.#sweep.slice(this.#sweepAt, this.#sweepAt + step)) this.#verify.add(key);
        this.#sweepAt += step;
        done += step;
        const t0 = performance.now();
        this.#schedule('drift');
        await this.idle();
        this.#readMs = (performance.now() - t0) / step;
      }
      // Capped at one tick's budget: what one read costs beyond it is the floor of one service a tick, not a debt.
      this.#verifyDebt = Math.min(VERIFY_BUDGET_MS, Math.max(0, (done > 0 ? performance.now() - started : 0) - budget));
      if (this.#verify.size > 0) this.#schedule('drift');
    } finally {
      this.#ticking = false;
    }
  }

  // ------------------------------------------------------------------------------------------- state file

  /** Written in the background, one write at a time, the latest ownership last. */
  #save(): void {
    if (this.#savePending) return;
    this.#savePending = true;
    this.#saving = this.#saving.then(async () => {
      this.#savePending = false;
      try {
        await this.#deps.state.save(new Set(this.#owned));
      } catch (err) {
        this.#deps.emit({ type: 'error', where: 'state', message: err instanceof Error ? err.message : String(err) });
      }
    });
  }
}

function described(ops: readonly IpvsOp[]): { ops: string[]; count: number } {
  return { ops: ops.slice(0, DESCRIBED_OPS).map(describeOp), count: ops.length };
}
