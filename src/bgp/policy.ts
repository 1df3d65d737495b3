// Which VIPs are announced: pure, clock-injected (every call takes `now`), no I/O. A VIP is healthy while the
// IPVS table is programmed as configured, every virtual server on the VIP has quorum and the daemon is
// healthy. Damping is keepalived's vrrp_script rise/fall: the caller observes every VIP once per interval
// (tick); a withdrawn VIP is announced after `rise` consecutive healthy observations, an announced one is
// withdrawn after `fall` consecutive unhealthy ones. Stopping withdraws everything at once, undamped.
import type { DirectorEventBody } from '../director/events.ts';

export interface PolicySettings {
  readonly rise: number;
  readonly fall: number;
}

/** Each VIP prefix (`ADDRESS/32|128`) and the labels (virtualServerLabel) of the virtual servers on it. */
export type Targets = ReadonlyMap<string, readonly string[]>;

export interface VipState {
  readonly prefix: string;
  readonly announced: boolean;
  /** When `announced` last changed (or when the VIP was first seen); the caller's clock. */
  readonly since: number;
  /** The last observation. */
  readonly healthy: boolean;
  /** Why the last observation was unhealthy, or how far a rise has come. */
  readonly reason: string;
}

export interface Change {
  readonly prefix: string;
  readonly announce: boolean;
  readonly reason: string;
}

interface Vip {
  prefix: string;
  labels: readonly string[];
  announced: boolean;
  since: number;
  healthy: boolean;
  reason: string;
  /** Consecutive observations that disagree with `announced`. */
  streak: number;
}

export class AnnouncePolicy {
  #settings: PolicySettings;
  readonly #vips = new Map<string, Vip>();
  /** Quorum per virtual server label; a label never reported has not been decided yet (not up). */
  readonly #quorum = new Map<string, boolean>();
  #programmed = false;
  #ipvsError = false;
  #daemonHealthy = true;
  #stopping = false;

  constructor(targets: Targets, settings: PolicySettings, now: number) {
    this.#settings = settings;
    this.retarget(targets, now);
  }

  /** A reload: new VIPs start withdrawn, removed ones are forgotten (the caller withdraws them), the rest keep their state. */
  retarget(targets: Targets, now: number, settings: PolicySettings = this.#settings): void {
    this.#settings = settings;
    for (const prefix of this.#vips.keys()) if (!targets.has(prefix)) this.#vips.delete(prefix);
    for (const [prefix, labels] of targets) {
      const v = this.#vips.get(prefix);
      if (v) v.labels = labels;
      else this.#vips.set(prefix, { prefix, labels, announced: false, since: now, healthy: false, reason: 'not observed yet', streak: 0 });
    }
  }

  /** The director's events; subscribe through the service (service.ts), which also ticks. */
  onEvent(e: DirectorEventBody): void {
    switch (e.type) {
      case 'quorum':
        this.#quorum.set(e.virtualServer, e.up);
        break;
      case 'applied':
        // A plan that fully applied leaves the table as configured; one with failures does not.
        this.#programmed = e.failed === 0;
        this.#ipvsError = false;
        break;
      case 'error':
        // 'ipvs': a change the kernel refused; 'reconcile': a reconcile that failed as a whole (no table read).
        if (e.where === 'ipvs' || e.where === 'reconcile') {
          this.#programmed = false;
          this.#ipvsError = true;
        }
        break;
      case 'started':
      case 'reloaded':
        // Start and reload settle the table first; with nothing to change no 'applied' comes, so this is the signal.
        if (!this.#ipvsError) this.#programmed = true;
        break;
      case 'stopping':
        this.#stopping = true;
        break;
    }
  }

  /** Something outside the director's events (the daemon's watchdog, say) judges the daemon healthy or not. */
  setDaemonHealthy(ok: boolean): void {
    this.#daemonHealthy = ok;
  }

  /** One observation of every VIP; returns the VIPs whose announcement changes now. */
  tick(now: number): Change[] {
    const changes: Change[] = [];
    for (const v of this.#vips.values()) {
      const why = this.#unhealthy(v);
      v.healthy = why === undefined;
      if (this.#stopping) {
        v.reason = 'stopping';
        v.streak = 0;
        if (v.announced) this.#flip(v, now, changes);
        continue;
      }
      if (v.healthy === v.announced) {
        v.streak = 0;
        v.reason = why ?? 'healthy';
        continue;
      }
      v.streak++;
      const need = v.healthy ? this.#settings.rise : this.#settings.fall;
      v.reason = v.streak < need ? `${why ?? 'healthy'} (${v.streak}/${need} ${v.healthy ? 'rise' : 'fall'})` : (why ?? 'healthy');
      if (v.streak >= need) this.#flip(v, now, changes);
    }
    return changes;
  }

  /** Stopping: every VIP withdrawn now, and none announced again. */
  stopAll(now: number): Change[] {
    this.#stopping = true;
    return this.tick(now);
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  status(): VipState[] {
    return [...this.#vips.values()].map((v) => ({ prefix: v.prefix, announced: v.announced, since: v.since, healthy: v.healthy, reason: v.reason }));
  }

  #flip(v: Vip, now: number, changes: Change[]): void {
    v.announced = !v.announced;
    v.since = now;
    v.streak = 0;
    changes.push({ prefix: v.prefix, announce: v.announced, reason: v.reason });
  }

  #unhealthy(v: Vip): string | undefined {
    if (this.#stopping) return 'stopping';
    if (!this.#daemonHealthy) return 'daemon unhealthy';
    if (!this.#programmed) return 'IPVS table not programmed';
    const lost = v.labels.filter((l) => this.#quorum.get(l) !== true);
    if (lost.length > 0) return `no quorum: ${lost.map((l) => `${l}${this.#quorum.has(l) ? '' : ' (not decided yet)'}`).join(', ')}`;
    return undefined;
  }
}
