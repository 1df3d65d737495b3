// VRRP as the director sees it: the engine in its worker thread (src/vrrp/service.ts) started, reconfigured and
// stopped with the configuration, the view of each instance's state its transitions give, the IPVS connection sync
// daemon following the lvs_sync_daemon instance, the VIPs of MASTER instances put back when someone removes them,
// and what happens when the worker dies.
import { modelKey, sameModel } from '../config/compare.ts';
import type { Config } from '../config/model.ts';
import type { TransitionEvent } from '../vrrp/engine.ts';
import type { VrrpError } from '../vrrp/errors.ts';
import { followReload, type VrrpFailure } from '../vrrp/instance-status.ts';
import type { VrrpStateName } from '../vrrp/machine.ts';
import type { VrrpStatus } from '../vrrp/service.ts';
import type { DirectorEventBody } from './events.ts';
import type { DirectorPorts, VrrpPort } from './ports.ts';
import { type QuorumTrack, withQuorumTracks } from './quorum-track.ts';
import { syncFollow, syncRoles } from './sync-daemon.ts';

export interface VrrpView {
  state: VrrpStateName;
  priority: number;
  since: number;
  from: VrrpStateName | undefined;
}

export interface VrrpCoordinatorDeps {
  readonly ports: Pick<DirectorPorts, 'vrrp' | 'kernel' | 'addresses' | 'now'>;
  readonly config: () => Config;
  readonly quorumTracks: readonly QuorumTrack[];
  readonly runDir: string;
  readonly emit: (e: DirectorEventBody) => void;
  readonly netlinkError: (where: string, err: unknown) => void;
  /** Counts a VIP put back. */
  readonly repaired: () => void;
}

export class VrrpCoordinator {
  readonly #deps: VrrpCoordinatorDeps;
  readonly views = new Map<string, VrrpView>();
  #vrrp: VrrpPort | undefined;
  #part = '';
  #failure: VrrpFailure | undefined;
  /** The removal of the VIPs of a VRRP that died. */
  #vipRelease: Promise<void> = Promise.resolve();
  #syncRoles: readonly ('master' | 'backup')[] = [];
  #syncChain: Promise<void> = Promise.resolve();
  #repairing: Promise<void> = Promise.resolve();
  #stopping = false;

  constructor(deps: VrrpCoordinatorDeps) {
    this.#deps = deps;
  }

  get failure(): VrrpFailure | undefined {
    return this.#failure;
  }

  /** The sync daemon in its start-up role (backup, or both when no instance is followed), then the engine. */
  async start(config: Config): Promise<void> {
    this.#startSyncDaemon('BACKUP');
    await this.#startEngine(config);
  }

  /**
   * A reload reaches the running engine as a message and changes only the instances it concerns (see
   * src/vrrp/reload-plan.ts); VRRP starts with the first instance and stops with the last. A refusal (an
   * interface this host lacks) rejects with a VrrpError before anything changed.
   */
  async reload(next: Config): Promise<void> {
    const part = this.#partOf(next);
    if (part === this.#part) return;
    const vrrp = this.#vrrp;
    if (vrrp === undefined) return this.#startEngine(next);
    if (next.vrrpInstances.length === 0) {
      await vrrp.stop();
      this.#vrrp = undefined;
      this.views.clear();
    } else followReload(this.views, await vrrp.reconfigure(this.#engineConfig(next)));
    this.#part = part;
  }

  /** After the director took the new configuration: a changed lvs_sync_daemon restarts the sync daemon. */
  reloaded(old: Config, next: Config): void {
    if (!sameModel(old.globalDefs.lvs.syncDaemon ?? null, next.globalDefs.lvs.syncDaemon ?? null)) this.#restartSyncDaemon();
  }

  async status(): Promise<VrrpStatus | undefined> {
    return this.#vrrp?.status().catch(() => undefined);
  }

  /** Leaves VRRP first (priority-0 adverts, VIPs removed) so a peer takes over. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#vrrp?.stop();
    this.#vrrp = undefined;
  }

  /** After the director stopped: the sync daemon roles we run stop too. */
  async stopSyncDaemon(): Promise<void> {
    const roles = this.#syncRoles;
    if (roles.length === 0) return;
    await this.#syncChain;
    for (const role of roles) await this.#deps.ports.kernel.stopDaemon(role).catch(() => undefined);
  }

  /** Resolves when a dead VRRP's VIPs are gone and VIP repairs are done. */
  async idle(): Promise<void> {
    await this.#vipRelease;
    await this.#repairing;
  }

  /** The VIPs this host must hold: those of MASTER instances (none once VRRP has died). */
  masterVips() {
    if (this.#failure) return [];
    return this.#deps
      .config()
      .vrrpInstances.filter((i) => this.views.get(i.name)?.state === 'MASTER')
      .flatMap((i) => [...i.virtualIps, ...i.virtualIpsExcluded]);
  }

  /** A VIP of a MASTER instance that someone removed is put back; repairs run one at a time. */
  repairVips(): Promise<void> {
    this.#repairing = this.#repairing.then(() => this.#repairVips());
    return this.#repairing;
  }

  async #repairVips(): Promise<void> {
    if (this.#stopping) return;
    const vips = this.masterVips();
    if (vips.length === 0) return;
    const local = await this.#deps.ports.addresses.local();
    for (const v of vips) {
      if (local.has(v.address)) continue;
      try {
        await this.#deps.ports.addresses.addVip(v);
        this.#deps.repaired();
        this.#deps.emit({ type: 'drift', what: 'vip', repaired: [`add ${v.address}/${v.prefix} dev ${v.dev}`] });
      } catch (err) {
        this.#deps.netlinkError('vip', err);
      }
    }
  }

  // ------------------------------------------------------------------------------------------- the engine

  /** The configuration the VRRP engine runs: the user's VRRP blocks and the --quorum-track scripts. */
  #engineConfig(config: Config): Config {
    return withQuorumTracks(config, this.#deps.quorumTracks, this.#deps.runDir);
  }

  #partOf(config: Config): string {
    const c = this.#engineConfig(config);
    return modelKey({ v: c.vrrpInstances, s: c.vrrpScripts, g: c.vrrpSyncGroups, f: c.trackFiles, p: c.vrrpTrackProcesses, a: c.garpGroups, d: c.globalDefs.vrrp, u: c.globalDefs.scriptUser, e: c.globalDefs.enableScriptSecurity, st: [c.staticAddresses, c.staticRoutes, c.staticRules] });
  }

  async #startEngine(from: Config): Promise<void> {
    if (from.vrrpInstances.length === 0 || this.#stopping) return;
    const config = this.#engineConfig(from);
    const now = this.#deps.ports.now();
    for (const i of config.vrrpInstances) this.views.set(i.name, { state: 'INIT', priority: i.priority, since: now, from: undefined });
    this.#failure = undefined;
    this.#vrrp = await this.#deps.ports.vrrp(config, {
      log: (line) => this.#deps.emit({ type: 'vrrp-log', line }),
      transition: (ev) => this.#transition(ev),
      failed: (err) => this.#failed(err),
    });
    this.#part = this.#partOf(from);
  }

  /**
   * VRRP died after start-up. Nothing defends this host's VIPs any more, so they go now (a worker that died of an
   * uncaught error has removed them itself; one that was killed could not), its instances show STOP, and the
   * owner decides what comes next from the vrrp-failed event (the daemon exits for systemd to restart it).
   */
  #failed(err: VrrpError): void {
    this.#failure = { code: err.code, message: err.message, at: this.#deps.ports.now() };
    this.#deps.emit({ type: 'vrrp-failed', code: err.code, message: err.message });
    const vips = this.#deps.config().vrrpInstances.flatMap((i) => [...i.virtualIps, ...i.virtualIpsExcluded]);
    this.#vipRelease = this.#vipRelease.then(async () => {
      for (const v of vips) await this.#deps.ports.addresses.deleteVip(v).catch((e: unknown) => this.#deps.netlinkError('vip', e));
    });
  }

  #transition(ev: TransitionEvent): void {
    this.views.set(ev.instance, { state: ev.to, priority: ev.priority, since: this.#deps.ports.now(), from: ev.from });
    this.#deps.emit({ type: 'vrrp', instance: ev.instance, from: ev.from, to: ev.to, priority: ev.priority });
    const follow = syncFollow(this.#deps.config());
    if (follow?.instance === ev.instance && !this.#stopping) this.#startSyncDaemon(ev.to);
  }

  // ------------------------------------------------------------------------------------------- sync daemon

  /** lvs_sync_daemon changed: the running roles stop, and the new settings start for the followed instance's state. */
  #restartSyncDaemon(): void {
    const running = this.#syncRoles;
    this.#syncRoles = [];
    const kernel = this.#deps.ports.kernel;
    this.#syncChain = this.#syncChain.then(async () => {
      for (const role of running) await kernel.stopDaemon(role).catch(() => undefined);
    });
    const follow = syncFollow(this.#deps.config());
    if (follow) this.#startSyncDaemon(this.views.get(follow.instance ?? '')?.state ?? 'BACKUP');
  }

  /**
   * Runs the sync daemon roles for the followed instance's state (stopping the other role), or both when no
   * instance is followed; serialized so quick flaps stay ordered.
   */
  #startSyncDaemon(state: VrrpStateName): void {
    const follow = syncFollow(this.#deps.config());
    if (!follow) return;
    const roles = syncRoles(follow, state);
    if (roles.join() === this.#syncRoles.join()) return;
    // At start the other role may still run in the kernel, left by a daemon that was killed: stop it too.
    const stale = (['master', 'backup'] as const).filter((r) => !roles.includes(r));
    this.#syncRoles = roles;
    const kernel = this.#deps.ports.kernel;
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
          this.#deps.emit({ type: 'sync-daemon', state: role, interface: d.interface });
        } catch (err) {
          this.#deps.netlinkError('sync-daemon', err);
        }
      }
    });
  }
}
