// The director: one configuration, its checkers, VRRP and the kernel's IPVS table working as one. It owns the
// configuration and the checkers' verdicts and hands each change to the part that acts on it: the reconciler
// (reconciler.ts: the kernel view, plans proportional to the change, verification), the checker set
// (checkers.ts) and the VRRP coordinator (vrrp-coordinator.ts: the engine's worker thread, the sync daemon, VIPs).
import { rm, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { endpointLabel, virtualServerLabel } from '../check/labels.ts';
import type { CheckEvent } from '../check/types.ts';
import { sameModel } from '../config/compare.ts';
import type { Config, RealServer, VirtualServer } from '../config/model.ts';
import { CheckerSet } from './checkers.ts';
import { DesiredIndex } from './desired.ts';
import type { DirectorEvent, DirectorEventBody } from './events.ts';
import { HealthStore } from './health.ts';
import { KernelCounters } from './kernel-counters.ts';
import type { DirectorPorts } from './ports.ts';
import { flagFile, type QuorumTrack } from './quorum-track.ts';
import { Reconciler } from './reconciler.ts';
import { buildStatus, directorTables, type DirectorStatus, type DirectorTables, type StatusInput, type StatusOptions } from './status.ts';
import { VrrpCoordinator } from './vrrp-coordinator.ts';

export type { VrrpView } from './vrrp-coordinator.ts';

export interface DirectorOptions {
  readonly quorumTracks?: readonly QuorumTrack[];
  /** Where quorum-track flag files live (a directory only the daemon writes). */
  readonly runDir: string;
  /** The whole kernel table is read back within this period, a slice each second; 0 = never (tests call checkDrift()). */
  readonly driftIntervalMs: number;
  /** The kernel's counters (status, /metrics) are read at most this often; default 5 s. */
  readonly countersMaxAgeMs?: number;
  /** How long every IPVS request may fail before the connection is declared dead; default 30 s. */
  readonly ipvsDeadAfterMs?: number;
}

export interface StopOptions {
  /** Leave every IPVS service in the kernel even with lvs_flush_on_stop: a restarted daemon adopts them. */
  readonly keepTable?: boolean;
}

/** How long a status waits for fresh kernel counters before it answers with the previous ones. */
const COUNTERS_WAIT_MS = 500;

export class Director {
  #config: Config;
  readonly #ports: DirectorPorts;
  readonly #opts: DirectorOptions;
  readonly #health = new HealthStore();
  readonly #listeners = new Set<(e: DirectorEvent) => void>();
  readonly #reconciler: Reconciler;
  readonly #checkers: CheckerSet;
  readonly #vrrp: VrrpCoordinator;
  readonly #counters: KernelCounters;
  /** Quorum-track flag files, written in event order. */
  #flags: Promise<void> = Promise.resolve();
  #unwatch: (() => void) | undefined;
  /** Counts of the current burst (see #burst). */
  #startBurst: { realServers: number; virtualServers: number; quorumUp: number } | undefined;
  #stopping = false;
  readonly startedAt: number;

  constructor(config: Config, ports: DirectorPorts, opts: DirectorOptions) {
    this.#config = config;
    this.#ports = ports;
    this.#opts = opts;
    this.startedAt = ports.now();
    const emit = (e: DirectorEventBody) => this.#emit(e);
    const netlinkError = (where: string, err: unknown) => this.#netlinkError(where, err);
    this.#reconciler = new Reconciler(
      { kernel: ports.kernel, state: ports.state, health: (vs) => this.#health.get(vs), emit, netlinkError, ...(opts.ipvsDeadAfterMs !== undefined ? { deadAfterMs: opts.ipvsDeadAfterMs } : {}) },
      new DesiredIndex(config),
    );
    this.#checkers = new CheckerSet({
      create: ports.checks,
      started: (vs, realServers) => this.#checkersStarted(vs, realServers),
      onEvent: (label, e) => this.#checkEvent(label, e),
      emit,
    });
    this.#vrrp = new VrrpCoordinator({
      ports,
      config: () => this.#config,
      quorumTracks: opts.quorumTracks ?? [],
      runDir: opts.runDir,
      emit,
      netlinkError,
      repaired: () => this.#reconciler.counters.driftRepairs++,
    });
    this.#counters = new KernelCounters({ read: () => ports.kernel.table(), maxAgeMs: opts.countersMaxAgeMs ?? 5_000, waitMs: COUNTERS_WAIT_MS, onError: (err) => this.#netlinkError('status', err) });
  }

  get config(): Config {
    return this.#config;
  }

  /** The counters status shows: the reconciler's and the director's errors. */
  get counters(): Readonly<Record<string, number>> {
    return { ...this.#reconciler.counters };
  }

  /** Every event, in order, for logs and metrics; returns the function that removes the listener. */
  onEvent(listener: (e: DirectorEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Adopts the kernel's table (never flushes), starts the checkers, then VRRP. */
  async start(): Promise<void> {
    for (const a of await this.#ports.addresses.local()) this.#checkers.local.add(a);
    this.#unwatch = this.#ports.addresses.watch((ev) => this.#address(ev.kind, ev.address));
    await this.#reconciler.adopt();
    await this.#setTimeouts(this.#config);
    this.#checkers.sync(this.#config);
    await this.#reconciler.program();
    await this.#vrrp.start(this.#config);
    this.#reconciler.startVerifying(this.#opts.driftIntervalMs);
    this.#emit({ type: 'started', virtualServers: this.#config.virtualServers.length, instances: this.#config.vrrpInstances.length });
  }

  /**
   * Applies a validated new configuration as a diff. VRRP goes first: its worker may refuse the new instances (an
   * interface this host lacks), and then the VrrpError is thrown and nothing of the reload is applied. Only the
   * services of virtual servers that changed are re-planned; a virtual server that remains keeps its checkers:
   * changed ones are reconfigured in place, so every checker whose virtual server, real server and settings are
   * unchanged keeps its state (keepalived's migrate).
   */
  async reload(next: Config): Promise<void> {
    const old = this.#config;
    await this.#vrrp.reload(next);
    this.#config = next;
    await this.#checkers.reload(next);
    this.#health.retain(next.virtualServers);
    this.#reconciler.reindex(new DesiredIndex(next));
    this.#vrrp.reloaded(old, next);
    if (!sameModel(old.globalDefs.lvs.timeouts ?? null, next.globalDefs.lvs.timeouts ?? null)) await this.#setTimeouts(next);
    await this.#reconciler.idle();
    this.#emit({ type: 'reloaded', virtualServers: next.virtualServers.length, draining: this.#reconciler.drainingCount });
  }

  /** Reads the whole kernel table back and the VIPs of MASTER instances; repairs and reports differences. */
  checkDrift(): void {
    this.#reconciler.verifyAll();
    void this.#vrrp.repairVips();
  }

  /** Address events were lost (ENOBUFS): VIPs are checked again and ha_suspend follows the addresses now. */
  addressesLost(): void {
    void this.#ports.addresses.local().then((local) => {
      this.#checkers.local.clear();
      for (const a of local) this.#checkers.local.add(a);
      this.#checkers.sync(this.#config);
      return this.#vrrp.repairVips();
    }, (err: unknown) => this.#netlinkError('addresses', err));
  }

  /** Resolves when no reconcile is queued or running, every flag file is written and a dead VRRP's VIPs are gone. */
  async idle(): Promise<void> {
    await this.#reconciler.idle();
    await this.#flags;
    await this.#vrrp.idle();
  }

  /** Leaves VRRP first (priority-0 adverts, VIPs removed) so a peer takes over, then stops the checkers. */
  async stop(opts: StopOptions = {}): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#emit({ type: 'stopping' });
    this.#reconciler.stopVerifying();
    this.#unwatch?.();
    await this.#vrrp.stop();
    await this.#checkers.stop();
    await this.idle();
    if (this.#config.globalDefs.lvs.flushOnStop && !opts.keepTable) await this.#reconciler.flushOwned();
    await this.#vrrp.stopSyncDaemon();
    this.#emit({ type: 'stopped' });
  }

  /** From the view and the checkers; kernel counters at most countersMaxAgeMs old (or older if a read is slow). */
  async status(opts: StatusOptions = {}): Promise<DirectorStatus> {
    return buildStatus(await this.#statusInput(), opts);
  }

  /** What a /metrics scrape reads: the same state as status, walked rather than copied into rows. */
  async tables(): Promise<DirectorTables> {
    return directorTables(await this.#statusInput());
  }

  async #statusInput(): Promise<StatusInput> {
    const [counters, vrrp] = await Promise.all([this.#counters.get(), this.#vrrp.status()]);
    const config = this.#config;
    return {
      config,
      health: this.#health,
      view: this.#reconciler.view,
      counters,
      ipvsAvailable: !this.#counters.failed,
      vrrp: { live: vrrp, views: this.#vrrp.views, failure: this.#vrrp.failure },
      suspended: new Set(config.virtualServers.filter((vs) => this.#checkers.suspended(config, vs)).map(virtualServerLabel)),
      startedAt: this.startedAt,
      directorCounters: this.counters,
    };
  }

  // ------------------------------------------------------------------------------------------- events in

  #checkEvent(label: string, e: CheckEvent): void {
    const changed = this.#health.apply(e, this.#ports.now());
    if (e.kind === 'realServer') {
      this.#emit({ type: 'verdict', virtualServer: label, realServer: endpointLabel(e.realServer), up: e.up, present: e.present, weight: e.weight, reason: e.reason, latencyMs: e.latencyMs });
    } else if (e.kind === 'quorum') {
      this.#emit({ type: 'quorum', virtualServer: label, up: e.up, liveWeight: e.liveWeight, ...(e.first && { first: e.first }) });
      if (e.first && e.up) this.#burst().quorumUp++;
      if (this.#opts.quorumTracks?.some((t) => t.virtualServer === label)) this.#flags = this.#flags.then(() => this.#quorumFlag(label, e.up));
    } else if (e.kind === 'sorryServer') {
      this.#emit({ type: 'sorry-server', virtualServer: label, server: endpointLabel(e.sorryServer), present: e.present, weight: e.weight });
    } else {
      this.#emit({ type: 'script', reason: e.reason, command: e.command });
    }
    if (changed) this.#reconciler.touchVirtualServer(label, performance.now());
  }

  /**
   * A virtual server's checkers start, or a reload brings real servers into it. Those without a checker are in from
   * now on (their checkers publish no verdict for them, health.ts): keepalived logs nothing for them, and a line
   * each would be 100,000 lines at scale. Those of one burst (the start, a reload) are counted into one
   * 'always-up' event; any later verdict of theirs (a sorry server standing in) is logged as any other.
   */
  #checkersStarted(vs: VirtualServer, realServers: readonly RealServer[]): void {
    this.#health.started(vs, this.#ports.now());
    let n = 0;
    for (const rs of realServers) if (rs.checkers.length === 0) n++;
    if (n === 0) return;
    const burst = this.#burst();
    burst.realServers += n;
    burst.virtualServers++;
  }

  /**
   * What the current burst (the start, a reload) brings in by the thousand, told in one line each at its end (see
   * #checkersStarted; 'quorum-up' for the pools whose first quorum decision is up, which the log does not repeat).
   */
  #burst(): { realServers: number; virtualServers: number; quorumUp: number } {
    if (this.#startBurst) return this.#startBurst;
    const burst = { realServers: 0, virtualServers: 0, quorumUp: 0 };
    this.#startBurst = burst;
    queueMicrotask(() => {
      this.#startBurst = undefined;
      if (burst.realServers > 0) this.#emit({ type: 'always-up', realServers: burst.realServers, virtualServers: burst.virtualServers });
      if (burst.quorumUp > 0) this.#emit({ type: 'quorum-up', virtualServers: burst.quorumUp });
    });
    return burst;
  }

  async #quorumFlag(label: string, up: boolean): Promise<void> {
    const file = flagFile(this.#opts.runDir, label);
    try {
      if (up) await rm(file, { force: true });
      else await writeFile(file, `${label}\n`);
    } catch (err) {
      this.#emit({ type: 'error', where: 'quorum-track', message: `cannot ${up ? 'remove' : 'write'} ${file}: ${(err as Error).message}` });
    }
  }

  #address(kind: 'add' | 'del', address: string): void {
    if (kind === 'add') this.#checkers.local.add(address);
    else this.#checkers.local.delete(address);
    if (!this.#stopping) this.#checkers.sync(this.#config);
    if (kind === 'del' && this.#vrrp.masterVips().some((v) => v.address === address)) void this.#vrrp.repairVips();
  }

  /**
   * keepalived's lvs_timeouts: set at start and when a reload changes them. Kinds the config leaves out (and a
   * removed lvs_timeouts) keep the kernel's current values, as keepalived leaves them: IPVS timeouts are global to
   * the host, and ipvs-ts does not remember what they were before it set them.
   */
  async #setTimeouts(config: Config): Promise<void> {
    const t = config.globalDefs.lvs.timeouts;
    if (!t) return;
    const s = (ms: number | undefined) => (ms === undefined ? 0 : Math.round(ms / 1000));
    const timeouts = { tcp: s(t.tcpMs), tcpFin: s(t.tcpFinMs), udp: s(t.udpMs) };
    try {
      await this.#ports.kernel.setTimeouts(timeouts);
      this.#emit({ type: 'lvs-timeouts', ...timeouts });
    } catch (err) {
      this.#netlinkError('lvs-timeouts', err);
    }
  }

  // ------------------------------------------------------------------------------------------- events out

  #netlinkError(where: string, err: unknown): void {
    this.#reconciler.counters.netlinkErrors++;
    this.#emit({ type: 'error', where, message: err instanceof Error ? err.message : String(err) });
  }

  /** Reports an event that happened outside the director (a rejected reload, a script failure) to its listeners. */
  report(body: DirectorEventBody): void {
    this.#emit(body);
  }

  #emit(body: DirectorEventBody): void {
    const e = { ...body, at: this.#ports.now() } as DirectorEvent;
    for (const l of this.#listeners) l(e);
  }
}
