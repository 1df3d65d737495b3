// The director: one configuration, its checkers, VRRP and the kernel's IPVS table working as one. Checker verdicts
// and reloads change the desired table (table.ts); one coalescing loop dumps the kernel, plans the minimal diff
// (src/ipvs/plan.ts) and applies it. VRRP runs in its own worker thread (src/vrrp/service.ts); its transitions
// drive the sync daemon, and local addresses decide which ha_suspend virtual servers are checked.
import { rm, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { endpointLabel, virtualServerLabel } from '../check/labels.ts';
import type { CheckEvent } from '../check/types.ts';
import { modelKey, sameModel } from '../config/compare.ts';
import type { Config, VirtualServer } from '../config/model.ts';
import { describeOp } from '../ipvs/describe.ts';
import { serviceKey } from '../ipvs/identity.ts';
import { planIpvs } from '../ipvs/plan.ts';
import type { IpvsOp, IpvsTable } from '../ipvs/types.ts';
import type { TransitionEvent } from '../vrrp/engine.ts';
import type { VrrpError } from '../vrrp/errors.ts';
import { followReload, type VrrpFailure } from '../vrrp/instance-status.ts';
import type { VrrpStateName } from '../vrrp/machine.ts';
import type { DirectorEvent, DirectorEventBody } from './events.ts';
import { HealthStore } from './health.ts';
import type { CheckPort, DirectorPorts, VrrpPort } from './ports.ts';
import { flagFile, type QuorumTrack, withQuorumTracks } from './quorum-track.ts';
import { buildStatus, type DirectorStatus } from './status.ts';
import { syncFollow, syncRoles } from './sync-daemon.ts';
import { buildTable, pruneDraining, removedDestinations, servicesOf } from './table.ts';

export interface DirectorOptions {
  readonly quorumTracks?: readonly QuorumTrack[];
  /** Where quorum-track flag files live (a directory only the daemon writes). */
  readonly runDir: string;
  /** Period of the drift check (kernel dump + VIP check); 0 = none (tests call checkDrift()). */
  readonly driftIntervalMs: number;
}

export interface StopOptions {
  /** Leave every IPVS service in the kernel even with lvs_flush_on_stop: a restarted daemon adopts them. */
  readonly keepTable?: boolean;
}

interface Runner {
  readonly vs: VirtualServer;
  readonly port: CheckPort;
  readonly unsubscribe: () => void;
}

export interface VrrpView {
  state: VrrpStateName;
  priority: number;
  since: number;
  from: VrrpStateName | undefined;
}

export class Director {
  #config: Config;
  readonly #ports: DirectorPorts;
  readonly #opts: DirectorOptions;
  readonly #health = new HealthStore();
  readonly #runners = new Map<string, Runner>();
  readonly #listeners = new Set<(e: DirectorEvent) => void>();
  readonly #draining = new Map<string, Set<string>>();
  readonly #vrrpViews = new Map<string, VrrpView>();
  readonly #local = new Set<string>();
  #owned = new Set<string>();
  #applied: IpvsTable = { services: [] };
  /** Bumped by everything that changes the wanted table; a drift check that finds work at an unchanged
   * generation found someone else's change. */
  #generation = 0;
  #appliedGeneration = -1;
  #vrrp: VrrpPort | undefined;
  #vrrpConfig = '';
  #vrrpFailure: VrrpFailure | undefined;
  /** The removal of the VIPs of a VRRP that died. */
  #vipRelease: Promise<void> = Promise.resolve();
  #syncRoles: readonly ('master' | 'backup')[] = [];
  #syncChain: Promise<void> = Promise.resolve();
  /** Quorum-track flag files, written in event order. */
  #flags: Promise<void> = Promise.resolve();
  #reasons = new Set<string>();
  #firstVerdictAt: number | undefined;
  #loop: Promise<void> | undefined;
  #driftTimer: NodeJS.Timeout | undefined;
  #unwatch: (() => void) | undefined;
  #stopping = false;
  readonly startedAt: number;
  readonly counters = { applies: 0, opsApplied: 0, opsFailed: 0, driftRepairs: 0, netlinkErrors: 0 };

  constructor(config: Config, ports: DirectorPorts, opts: DirectorOptions) {
    this.#config = config;
    this.#ports = ports;
    this.#opts = opts;
    this.startedAt = ports.now();
  }

  get config(): Config {
    return this.#config;
  }

  /** Every event, in order, for logs and metrics; returns the function that removes the listener. */
  onEvent(listener: (e: DirectorEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Adopts the kernel's table (never flushes), starts the checkers, then VRRP. */
  async start(): Promise<void> {
    this.#owned = this.#ports.state.loadOwned();
    for (const a of await this.#ports.addresses.local()) this.#local.add(a);
    this.#unwatch = this.#ports.addresses.watch((ev) => this.#address(ev.kind, ev.address));
    await this.#settle('start');
    await this.#setTimeouts(this.#config);
    this.#syncRunners();
    this.#startSyncDaemon('BACKUP');
    await this.#startVrrp(this.#config);
    if (this.#opts.driftIntervalMs > 0) {
      this.#driftTimer = setInterval(() => this.checkDrift(), this.#opts.driftIntervalMs);
      this.#driftTimer.unref();
    }
    this.#emit({ type: 'started', virtualServers: this.#config.virtualServers.length, instances: this.#config.vrrpInstances.length });
  }

  /**
   * Applies a validated new configuration as a diff. VRRP goes first: its worker may refuse the new instances (an
   * interface this host lacks), and then the VrrpError is thrown and nothing of the reload is applied. A virtual
   * server that remains keeps its checkers: changed ones are reconfigured in place, so every checker whose virtual
   * server, real server and settings are unchanged keeps its state (keepalived's migrate).
   */
  async reload(next: Config): Promise<void> {
    const old = this.#config;
    await this.#reloadVrrp(next);
    this.#config = next;
    const byLabel = new Map(next.virtualServers.map((vs) => [virtualServerLabel(vs), vs]));
    const stopping: Promise<void>[] = [];
    for (const [label, r] of this.#runners) {
      const nv = byLabel.get(label);
      if (nv === undefined) {
        this.#runners.delete(label);
        stopping.push(this.#stopRunner(r));
      } else if (!sameModel(nv, r.vs)) {
        this.#runners.set(label, { ...r, vs: nv });
        r.port.reconfigure([nv]);
      }
    }
    await Promise.all(stopping);
    this.#health.retain(next.virtualServers);
    for (const [svc, dests] of removedDestinations(this.#applied, next)) {
      const set = this.#draining.get(svc) ?? new Set();
      for (const d of dests) set.add(d);
      this.#draining.set(svc, set);
    }
    this.#syncRunners();
    if (!sameModel(old.globalDefs.lvs.syncDaemon ?? null, next.globalDefs.lvs.syncDaemon ?? null)) this.#restartSyncDaemon();
    if (!sameModel(old.globalDefs.lvs.timeouts ?? null, next.globalDefs.lvs.timeouts ?? null)) await this.#setTimeouts(next);
    await this.#settle('reload');
    const drained = [...this.#draining.values()].reduce((n, s) => n + s.size, 0);
    this.#emit({ type: 'reloaded', virtualServers: next.virtualServers.length, draining: drained });
  }

  /** Compares the kernel (and the VIPs of MASTER instances) with what we want; repairs and reports differences. */
  checkDrift(): void {
    this.#schedule('drift');
  }

  /** Resolves when no reconcile is queued or running, every flag file is written and a dead VRRP's VIPs are gone. */
  async idle(): Promise<void> {
    while (this.#loop) await this.#loop;
    await this.#flags;
    await this.#vipRelease;
  }

  /** Leaves VRRP first (priority-0 adverts, VIPs removed) so a peer takes over, then stops the checkers. */
  async stop(opts: StopOptions = {}): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#emit({ type: 'stopping' });
    clearInterval(this.#driftTimer);
    this.#unwatch?.();
    await this.#vrrp?.stop();
    this.#vrrp = undefined;
    await Promise.all([...this.#runners.values()].map((r) => this.#stopRunner(r)));
    this.#runners.clear();
    await this.idle();
    if (this.#config.globalDefs.lvs.flushOnStop && !opts.keepTable) await this.#removeOwned();
    if (this.#syncRoles.length > 0) {
      const roles = this.#syncRoles;
      await this.#syncChain;
      for (const role of roles) await this.#ports.kernel.stopDaemon(role).catch(() => undefined);
    }
    this.#emit({ type: 'stopped' });
  }

  async status(): Promise<DirectorStatus> {
    const [kernel, vrrp] = await Promise.all([
      this.#ports.kernel.table().catch((err: unknown) => {
        this.#netlinkError('status', err);
        return undefined;
      }),
      this.#vrrp?.status().catch(() => undefined),
    ]);
    return buildStatus({
      config: this.#config,
      health: this.#health,
      kernel,
      vrrp: { live: vrrp, views: this.#vrrpViews, failure: this.#vrrpFailure },
      suspended: new Set([...this.#config.virtualServers].filter((vs) => this.#suspended(vs)).map(virtualServerLabel)),
      startedAt: this.startedAt,
      counters: { ...this.counters },
    });
  }

  // ------------------------------------------------------------------------------------------- checkers

  #syncRunners(): void {
    if (this.#stopping) return;
    for (const vs of this.#config.virtualServers) {
      const label = virtualServerLabel(vs);
      const have = this.#runners.get(label);
      const suspended = this.#suspended(vs);
      if (!have && !suspended) {
        const port = this.#ports.checks(vs);
        const unsubscribe = port.subscribe((e) => this.#checkEvent(label, e));
        this.#runners.set(label, { vs, port, unsubscribe });
        port.start();
        if (vs.haSuspend) this.#emit({ type: 'suspend', virtualServer: label, suspended: false });
      } else if (have && suspended) {
        this.#runners.delete(label);
        void this.#stopRunner(have);
        this.#emit({ type: 'suspend', virtualServer: label, suspended: true });
      }
    }
  }

  /** Unsubscribes first: a stopping runner's last events must not pull real servers out of the table. */
  async #stopRunner(r: Runner): Promise<void> {
    r.unsubscribe();
    await r.port.stop();
  }

  /** ha_suspend: the virtual server's addresses must all be local (its VIP is ours) for its checkers to run. */
  #suspended(vs: VirtualServer): boolean {
    if (!vs.haSuspend) return false;
    const addrs = servicesOf(this.#config, vs).flatMap((s) => (s.service.id.kind === 'addr' ? [s.service.id.address] : []));
    return addrs.length > 0 && !addrs.every((a) => this.#local.has(a));
  }

  #checkEvent(label: string, e: CheckEvent): void {
    const now = this.#ports.now();
    const changed = this.#health.apply(e, now);
    if (e.kind === 'realServer') {
      this.#emit({ type: 'verdict', virtualServer: label, realServer: endpointLabel(e.realServer), up: e.up, present: e.present, weight: e.weight, reason: e.reason, latencyMs: e.latencyMs });
    } else if (e.kind === 'quorum') {
      this.#emit({ type: 'quorum', virtualServer: label, up: e.up, liveWeight: e.liveWeight });
      this.#flags = this.#flags.then(() => this.#quorumFlag(label, e.up));
    } else if (e.kind === 'sorryServer') {
      this.#emit({ type: 'sorry-server', virtualServer: label, server: endpointLabel(e.sorryServer), present: e.present, weight: e.weight });
    } else {
      this.#emit({ type: 'script', reason: e.reason, command: e.command });
    }
    if (changed) {
      this.#firstVerdictAt ??= performance.now();
      this.#schedule('verdict');
    }
  }

  async #quorumFlag(label: string, up: boolean): Promise<void> {
    if (!this.#opts.quorumTracks?.some((t) => t.virtualServer === label)) return;
    const file = flagFile(this.#opts.runDir, label);
    try {
      if (up) await rm(file, { force: true });
      else await writeFile(file, `${label}\n`);
    } catch (err) {
      this.#emit({ type: 'error', where: 'quorum-track', message: `cannot ${up ? 'remove' : 'write'} ${file}: ${(err as Error).message}` });
    }
  }

  // ------------------------------------------------------------------------------------------- reconcile

  #schedule(reason: string): void {
    if (reason !== 'drift') this.#generation++;
    this.#reasons.add(reason);
    if (this.#loop) return;
    // setImmediate: every verdict delivered in this turn (a burst) lands in the same plan.
    this.#loop = new Promise<void>((resolve) => setImmediate(resolve))
      .then(async () => {
        while (this.#reasons.size > 0) {
          const reasons = [...this.#reasons];
          this.#reasons.clear();
          await this.#reconcile(reasons).catch((err: unknown) => this.#netlinkError('reconcile', err));
        }
      })
      .finally(() => {
        this.#loop = undefined;
      });
  }

  async #settle(reason: string): Promise<void> {
    this.#schedule(reason);
    await this.idle();
  }

  async #reconcile(reasons: readonly string[]): Promise<void> {
    const verdictAt = this.#firstVerdictAt;
    this.#firstVerdictAt = undefined;
    const kernel = await this.#ports.kernel.table();
    pruneDraining(this.#draining, kernel, this.#config);
    const desired = this.#stopping && this.#config.globalDefs.lvs.flushOnStop ? { services: [] } : buildTable({ config: this.#config, health: this.#health, kernel, draining: this.#draining });
    const ops = planIpvs({ desired, kernel, owned: this.#owned });
    const generation = this.#generation;
    const drift = ops.length > 0 && reasons.every((r) => r === 'drift') && generation === this.#appliedGeneration;
    if (reasons.includes('drift')) await this.#repairVips();
    if (ops.length === 0) {
      this.#commit(desired, generation, [], false);
      return;
    }
    const result = await this.#ports.kernel.apply(ops);
    this.counters.applies++;
    this.counters.opsApplied += result.applied.length;
    this.counters.opsFailed += result.failed.length;
    this.counters.netlinkErrors += result.failed.length;
    for (const f of result.failed) this.#emit({ type: 'error', where: 'ipvs', message: f.error.message });
    const failedDeletes = result.failed.flatMap((f) => (f.op.op === 'del-service' ? [serviceKey(f.op.id)] : []));
    this.#commit(desired, generation, failedDeletes, true);
    if (drift) {
      this.counters.driftRepairs++;
      this.#emit({ type: 'drift', what: 'ipvs', repaired: ops.map(describeOp) });
    }
    this.#emit({
      type: 'applied',
      reasons: [...reasons],
      ops: ops.map(describeOp),
      failed: result.failed.length,
      ...(verdictAt !== undefined ? { sinceVerdictMs: round(performance.now() - verdictAt) } : {}),
    });
  }

  #commit(desired: IpvsTable, generation: number, stillOwned: readonly string[], changed: boolean): void {
    this.#applied = desired;
    this.#appliedGeneration = generation;
    const owned = new Set([...desired.services.map((s) => serviceKey(s.service.id)), ...stillOwned]);
    const same = owned.size === this.#owned.size && [...owned].every((k) => this.#owned.has(k));
    this.#owned = owned;
    if (!same || changed) this.#ports.state.save(desired, stillOwned);
  }

  /** lvs_flush_on_stop: delete every service we own (and only those). */
  async #removeOwned(): Promise<void> {
    try {
      const kernel = await this.#ports.kernel.table();
      const ops: IpvsOp[] = planIpvs({ desired: { services: [] }, kernel, owned: this.#owned });
      if (ops.length) await this.#ports.kernel.apply(ops);
      this.#emit({ type: 'applied', reasons: ['stop'], ops: ops.map(describeOp), failed: 0 });
      this.#ports.state.save({ services: [] }, []);
    } catch (err) {
      this.#netlinkError('flush-on-stop', err);
    }
  }

  // ------------------------------------------------------------------------------------------- VRRP

  /** The configuration the VRRP engine runs: the user's VRRP blocks and the --quorum-track scripts. */
  #vrrpConfigOf(config: Config): Config {
    return withQuorumTracks(config, this.#opts.quorumTracks ?? [], this.#opts.runDir);
  }

  #vrrpPart(config: Config): string {
    const c = this.#vrrpConfigOf(config);
    return modelKey({ v: c.vrrpInstances, s: c.vrrpScripts, g: c.vrrpSyncGroups, f: c.trackFiles, p: c.vrrpTrackProcesses, d: c.globalDefs.vrrp, u: c.globalDefs.scriptUser, e: c.globalDefs.enableScriptSecurity });
  }

  /**
   * A reload reaches the running engine as a message and changes only the instances it concerns (see
   * src/vrrp/reload-plan.ts); VRRP starts with the first instance and stops with the last.
   */
  async #reloadVrrp(next: Config): Promise<void> {
    const part = this.#vrrpPart(next);
    if (part === this.#vrrpConfig) return;
    const vrrp = this.#vrrp;
    if (vrrp === undefined) return this.#startVrrp(next);
    if (next.vrrpInstances.length === 0) {
      await vrrp.stop();
      this.#vrrp = undefined;
      this.#vrrpViews.clear();
    } else followReload(this.#vrrpViews, await vrrp.reconfigure(this.#vrrpConfigOf(next)));
    this.#vrrpConfig = part;
  }

  async #startVrrp(from: Config): Promise<void> {
    if (from.vrrpInstances.length === 0 || this.#stopping) return;
    const config = this.#vrrpConfigOf(from);
    const now = this.#ports.now();
    for (const i of config.vrrpInstances) this.#vrrpViews.set(i.name, { state: 'INIT', priority: i.priority, since: now, from: undefined });
    this.#vrrpFailure = undefined;
    this.#vrrp = await this.#ports.vrrp(config, {
      log: (line) => this.#emit({ type: 'vrrp-log', line }),
      transition: (ev) => this.#transition(ev),
      failed: (err) => this.#vrrpFailed(err),
    });
    this.#vrrpConfig = this.#vrrpPart(from);
  }

  /**
   * VRRP died after start-up. Nothing defends this host's VIPs any more, so they go now (a worker that died of an
   * uncaught error has removed them itself; one that was killed could not), its instances show STOP, and the
   * owner decides what comes next from the vrrp-failed event (the daemon exits for systemd to restart it).
   */
  #vrrpFailed(err: VrrpError): void {
    this.#vrrpFailure = { code: err.code, message: err.message, at: this.#ports.now() };
    this.#emit({ type: 'vrrp-failed', code: err.code, message: err.message });
    const vips = this.#config.vrrpInstances.flatMap((i) => [...i.virtualIps, ...i.virtualIpsExcluded]);
    this.#vipRelease = this.#vipRelease.then(async () => {
      for (const v of vips) await this.#ports.addresses.deleteVip(v).catch((e: unknown) => this.#netlinkError('vip', e));
    });
  }

  #transition(ev: TransitionEvent): void {
    this.#vrrpViews.set(ev.instance, { state: ev.to, priority: ev.priority, since: this.#ports.now(), from: ev.from });
    this.#emit({ type: 'vrrp', instance: ev.instance, from: ev.from, to: ev.to, priority: ev.priority });
    const follow = syncFollow(this.#config);
    if (follow?.instance === ev.instance && !this.#stopping) this.#startSyncDaemon(ev.to);
  }

  /** lvs_sync_daemon changed: the running roles stop, and the new settings start for the followed instance's state. */
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

  #restartSyncDaemon(): void {
    const running = this.#syncRoles;
    this.#syncRoles = [];
    const kernel = this.#ports.kernel;
    this.#syncChain = this.#syncChain.then(async () => {
      for (const role of running) await kernel.stopDaemon(role).catch(() => undefined);
    });
    const follow = syncFollow(this.#config);
    if (follow) this.#startSyncDaemon(this.#vrrpViews.get(follow.instance ?? '')?.state ?? 'BACKUP');
  }

  /**
   * Runs the sync daemon roles for the followed instance's state (stopping the other role), or both when no
   * instance is followed; serialized so quick flaps stay ordered.
   */
  #startSyncDaemon(state: VrrpStateName): void {
    const follow = syncFollow(this.#config);
    if (!follow) return;
    const roles = syncRoles(follow, state);
    if (roles.join() === this.#syncRoles.join()) return;
    // At start the other role may still run in the kernel, left by a daemon that was killed: stop it too.
    const stale = (['master', 'backup'] as const).filter((r) => !roles.includes(r));
    this.#syncRoles = roles;
    const kernel = this.#ports.kernel;
    this.#syncChain = this.#syncChain.then(async () => {
      for (const role of stale) await kernel.stopDaemon(role).catch(() => undefined);
      for (const role of roles) {
        const d = follow.daemon(role);
        try {
          // EEXIST: a killed daemon left this role running, perhaps with other settings; restart it with ours.
          await kernel.startDaemon(d).catch(async (err: unknown) => {
            if ((err as { errno?: string }).errno !== 'EEXIST') throw err;
            await kernel.stopDaemon(role);
            await kernel.startDaemon(d);
          });
          this.#emit({ type: 'sync-daemon', state: role, interface: d.interface });
        } catch (err) {
          this.#netlinkError('sync-daemon', err);
        }
      }
    });
  }

  #address(kind: 'add' | 'del', address: string): void {
    if (kind === 'add') this.#local.add(address);
    else this.#local.delete(address);
    this.#syncRunners();
    if (kind === 'del' && this.#masterVips().some((v) => v.address === address)) this.#schedule('drift');
  }

  #masterVips() {
    // A dead VRRP holds nothing, whatever its last transitions said.
    if (this.#vrrpFailure) return [];
    return this.#config.vrrpInstances
      .filter((i) => this.#vrrpViews.get(i.name)?.state === 'MASTER')
      .flatMap((i) => [...i.virtualIps, ...i.virtualIpsExcluded]);
  }

  /** A VIP of a MASTER instance that someone removed is put back. */
  async #repairVips(): Promise<void> {
    if (this.#stopping) return;
    const local = await this.#ports.addresses.local();
    for (const v of this.#masterVips()) {
      if (local.has(v.address)) continue;
      try {
        await this.#ports.addresses.addVip(v);
        this.counters.driftRepairs++;
        this.#emit({ type: 'drift', what: 'vip', repaired: [`add ${v.address}/${v.prefix} dev ${v.dev}`] });
      } catch (err) {
        this.#netlinkError('vip', err);
      }
    }
  }

  // ------------------------------------------------------------------------------------------- events

  #netlinkError(where: string, err: unknown): void {
    this.counters.netlinkErrors++;
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

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

