// The BGP announcer as the daemon runs it: the director's events feed the policy (policy.ts), a timer observes
// every VIP once per interval and hands the changes to the backend (announcer.ts; BIRD 2 in bird.ts, GoBGP in
// gobgp.ts), and the sessions are polled for status and metrics. Wiring, in the daemon:
//
//   const bgp = createBgpService(config, { report: (e) => log(describeBgpEvent(e)) });
//   if (bgp) { director.onEvent(bgp.onEvent); await bgp.start(); }      // before director.start(): the first
//                                                                        // quorum events must not be missed
//   … on reload: bgp?.reload(next) … status: bgp?.status() … on SIGTERM, after director.stop(): await bgp?.stop()
import type { BgpAnnouncer, Config } from '../config/model.ts';
import { groupAddresses } from '../config/bgp.ts';
import { virtualServerLabel } from '../check/labels.ts';
import type { DirectorEvent } from '../director/events.ts';
import type { Announcer, DaemonInfo, SessionStateName } from './announcer.ts';
import { BirdAnnouncer, type BirdEvent } from './bird.ts';
import { GobgpAnnouncer, type GobgpEvent } from './gobgp.ts';
import { AnnouncePolicy, type Targets, type VipState } from './policy.ts';

export interface Clock {
  now(): number;
  /** Calls `fn` every `ms` until the returned function is called. */
  every(ms: number, fn: () => void): () => void;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  every: (ms, fn) => {
    const t = setInterval(fn, ms);
    t.unref();
    return () => clearInterval(t);
  },
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

export type BgpEvent =
  | { readonly type: 'bgp-route'; readonly prefix: string; readonly announced: boolean; readonly reason: string }
  | { readonly type: 'bgp-session'; readonly neighbor: string; readonly from: SessionStateName | 'unknown'; readonly to: SessionStateName; readonly info?: string }
  | { readonly type: 'bgp-error'; readonly message: string }
  | BirdEvent
  | GobgpEvent;

export function describeBgpEvent(e: BgpEvent): string {
  switch (e.type) {
    case 'bgp-route':
      return `BGP ${e.announced ? 'announce' : 'withdraw'} ${e.prefix}: ${e.reason}`;
    case 'bgp-session':
      return `BGP session with ${e.neighbor}: ${e.from} -> ${e.to}${e.info ? ` (${e.info})` : ''}`;
    case 'bgp-error':
      return `BGP error: ${e.message}`;
    case 'bird-started':
      return `BIRD started (pid ${e.pid})`;
    case 'bird-exited':
      return `BIRD (pid ${e.pid}) exited ${e.signal ? `on ${e.signal}` : `with status ${e.code}`}; sessions are down; restarting in ${e.restartInMs} ms`;
    case 'bird-log':
      return `BIRD: ${e.line}`;
    case 'bird-error':
      return `BIRD error: ${e.message}`;
    case 'gobgp-started':
      return `gobgpd started (pid ${e.pid})`;
    case 'gobgp-exited':
      return `gobgpd (pid ${e.pid}) exited ${e.signal ? `on ${e.signal}` : `with status ${e.code}`}; sessions are down; restarting in ${e.restartInMs} ms`;
    case 'gobgp-log':
      return `gobgpd: ${e.line}`;
    case 'gobgp-error':
      return `gobgpd error: ${e.message}`;
  }
}

export interface SessionStatus {
  readonly neighbor: string;
  readonly state: SessionStateName | 'unknown';
  readonly up: boolean;
  /** When `state` last changed; the clock's milliseconds. */
  readonly since: number;
  readonly info?: string;
}

/** Plain data for `status` and `/metrics`. */
export interface BgpStatus {
  readonly vips: readonly (VipState & { readonly inDaemon: boolean })[];
  readonly sessions: readonly SessionStatus[];
  readonly daemon: DaemonInfo;
}

export interface BgpServiceOptions {
  readonly settings: BgpAnnouncer;
  readonly targets: Targets;
  readonly announcer: Announcer;
  readonly clock?: Clock;
  readonly report?: (e: BgpEvent) => void;
  /** How often sessions are read from the daemon; default 2 s. */
  readonly sessionPollMs?: number;
}

export class BgpService {
  readonly #opts: BgpServiceOptions;
  readonly #clock: Clock;
  readonly #policy: AnnouncePolicy;
  #settings: BgpAnnouncer;
  /** What the backend was last told, per prefix: the tick retries whatever differs from the policy. */
  readonly #applied = new Map<string, boolean>();
  readonly #sessions = new Map<string, SessionStatus>();
  #work: Promise<void> = Promise.resolve();
  #stopTimers: (() => void)[] = [];
  #lastWithdrawAt = -Infinity;
  #stopped = false;

  constructor(opts: BgpServiceOptions) {
    this.#opts = opts;
    this.#settings = opts.settings;
    this.#clock = opts.clock ?? systemClock;
    this.#policy = new AnnouncePolicy(opts.targets, opts.settings, this.#clock.now());
    for (const n of opts.settings.neighbors) this.#sessions.set(n.address, { neighbor: n.address, state: 'unknown', up: false, since: this.#clock.now() });
  }

  /** Subscribe this to the director's events (`director.onEvent(bgp.onEvent)`). */
  readonly onEvent = (e: DirectorEvent): void => {
    this.#policy.onEvent(e);
    // Stopping withdraws at once rather than at the next tick.
    if (e.type === 'stopping') this.#tick();
  };

  /**
   * Starts the observations, the session polling and the routing daemon (nothing announced yet). Rejects when the
   * daemon does not come up (BgpError BGP_DAEMON_START); the service keeps running and the backend keeps
   * restarting the daemon, so a caller that carries on loses nothing, and one that gives up calls stop().
   */
  async start(): Promise<void> {
    this.#stopTimers.push(this.#clock.every(this.#settings.intervalMs, () => this.#tick()));
    this.#stopTimers.push(this.#clock.every(this.#opts.sessionPollMs ?? 2000, () => void this.pollSessions()));
    await this.#opts.announcer.start();
  }

  /** The daemon's own health (watchdog, event-loop stalls) as one more input. */
  setDaemonHealthy(ok: boolean): void {
    this.#policy.setDaemonHealthy(ok);
  }

  /**
   * A reloaded configuration: new VIPs start withdrawn, removed ones are withdrawn now, rise/fall/withdraw_hold
   * and MEDs change. Neighbors, AS numbers, router id and interval are read at start only (docs/bgp.md).
   */
  reload(config: Config): void {
    if (!config.bgpAnnouncer) return;
    const oldMed = medsOf(this.#settings);
    // The timer keeps its interval; the backend keeps its neighbors.
    this.#settings = { ...config.bgpAnnouncer, intervalMs: this.#settings.intervalMs, neighbors: this.#settings.neighbors };
    const targets = bgpTargets(config);
    this.#policy.retarget(targets, this.#clock.now(), this.#settings);
    const med = medsOf(this.#settings);
    for (const [prefix, announced] of this.#applied) {
      if (!targets.has(prefix)) this.#push(prefix, false, 'removed from the configuration');
      else if (announced && med.get(prefix) !== oldMed.get(prefix)) this.#push(prefix, true, 'MED changed');
    }
  }

  /** Withdraws every VIP, waits withdraw_hold after the last withdrawal so the routers move traffic, stops the daemon. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const cancel of this.#stopTimers.splice(0)) cancel();
    this.#apply(this.#policy.stopAll(this.#clock.now()));
    await this.#work;
    const wait = this.#lastWithdrawAt + this.#settings.withdrawHoldMs - this.#clock.now();
    if (wait > 0) await this.#clock.sleep(wait);
    await this.#opts.announcer.close();
  }

  /** Reads the sessions now; the timer does this every sessionPollMs. */
  async pollSessions(): Promise<void> {
    const now = this.#clock.now();
    for (const s of await this.#opts.announcer.sessions()) {
      const old = this.#sessions.get(s.neighbor);
      if (old && old.state === s.state && old.info === s.info) continue;
      const next: SessionStatus = { neighbor: s.neighbor, state: s.state, up: s.state === 'Established', since: old?.state === s.state ? old.since : now, ...(s.info ? { info: s.info } : {}) };
      this.#sessions.set(s.neighbor, next);
      if (old?.state !== s.state) this.#report({ type: 'bgp-session', neighbor: s.neighbor, from: old?.state ?? 'unknown', to: s.state, ...(s.info ? { info: s.info } : {}) });
    }
  }

  status(): BgpStatus {
    return {
      vips: this.#policy.status().map((v) => ({ ...v, inDaemon: this.#applied.get(v.prefix) ?? false })),
      sessions: [...this.#sessions.values()],
      daemon: this.#opts.announcer.daemon(),
    };
  }

  /** Resolves once every change handed to the backend so far has been applied (tests). */
  settled(): Promise<void> {
    return this.#work;
  }

  #tick(): void {
    if (this.#stopped && !this.#policy.stopping) return;
    // Retries first: a change the backend refused at an earlier tick is handed over again.
    for (const v of this.#policy.status()) if ((this.#applied.get(v.prefix) ?? false) !== v.announced) this.#push(v.prefix, v.announced, v.reason, true);
    this.#apply(this.#policy.tick(this.#clock.now()));
  }

  #apply(changes: readonly { prefix: string; announce: boolean; reason: string }[]): void {
    for (const c of changes) this.#push(c.prefix, c.announce, c.reason);
  }

  #push(prefix: string, announce: boolean, reason: string, retry = false): void {
    const med = medsOf(this.#settings).get(prefix);
    const a = this.#opts.announcer;
    this.#work = this.#work.then(async () => {
      if ((this.#applied.get(prefix) ?? false) === announce && retry) return;
      try {
        if (announce) await a.announce(prefix, med !== undefined ? { med } : {});
        else await a.withdraw(prefix);
        this.#applied.set(prefix, announce);
        if (!announce) this.#lastWithdrawAt = this.#clock.now();
        this.#report({ type: 'bgp-route', prefix, announced: announce, reason });
      } catch (err) {
        this.#report({ type: 'bgp-error', message: `${announce ? 'announcing' : 'withdrawing'} ${prefix}: ${(err as Error).message}` });
      }
    });
  }

  #report(e: BgpEvent): void {
    this.#opts.report?.(e);
  }
}

function medsOf(b: BgpAnnouncer): Map<string, number> {
  return new Map(b.vips.flatMap((v) => (v.med !== undefined ? [[`${v.address}/${v.family === 4 ? 32 : 128}`, v.med] as const] : [])));
}

/** Each announced VIP as a host prefix, with the labels of the virtual servers on it (all must have quorum). */
export function bgpTargets(config: Config): Map<string, readonly string[]> {
  const b = config.bgpAnnouncer;
  const out = new Map<string, string[]>();
  if (!b) return out;
  const groups = new Map(config.virtualServerGroups.map((g) => [g.name, g]));
  const byAddress = new Map<string, string[]>();
  for (const vs of config.virtualServers) {
    const k = vs.key;
    const addrs = k.kind === 'addr' ? [k.address] : k.kind === 'group' ? groupAddresses(groups.get(k.name)) : [];
    for (const a of addrs) byAddress.set(a, [...(byAddress.get(a) ?? []), virtualServerLabel(vs)]);
  }
  const wanted = b.vips.length > 0 ? b.vips.map((v) => v.address) : [...byAddress.keys()];
  for (const a of wanted) out.set(`${a}/${a.includes(':') ? 128 : 32}`, byAddress.get(a) ?? []);
  return out;
}

export interface CreateOptions {
  readonly report?: (e: BgpEvent) => void;
  /** The BIRD program and any wrapper before it; default `bird`. */
  readonly birdCommand?: readonly string[];
  /** The gobgpd program and any wrapper before it; default `gobgpd`. */
  readonly gobgpCommand?: readonly string[];
  readonly clock?: Clock;
  readonly sessionPollMs?: number;
}

/** The service for a config's bgp_announcer block, with its backend (BIRD 2 or GoBGP); undefined when there is none. */
export function createBgpService(config: Config, opts: CreateOptions = {}): BgpService | undefined {
  const b = config.bgpAnnouncer;
  if (!b) return undefined;
  const report = opts.report ? { report: opts.report } : {};
  const announcer = b.backend === 'gobgp'
    ? new GobgpAnnouncer({
      // The config refuses backend gobgp without a router_id.
      settings: { routerId: b.routerId ?? '', localAs: b.localAs, neighbors: b.neighbors },
      dir: b.gobgpDir,
      ...(b.grpcPort !== undefined ? { grpcPort: b.grpcPort } : {}),
      ...(opts.gobgpCommand ? { command: opts.gobgpCommand } : {}),
      ...report,
    })
    : new BirdAnnouncer({
      settings: { ...(b.routerId ? { routerId: b.routerId } : {}), localAs: b.localAs, neighbors: b.neighbors },
      dir: b.birdDir,
      ...(opts.birdCommand ? { command: opts.birdCommand } : {}),
      ...report,
    });
  return new BgpService({
    settings: b, targets: bgpTargets(config), announcer,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.report ? { report: opts.report } : {}),
    ...(opts.sessionPollMs !== undefined ? { sessionPollMs: opts.sessionPollMs } : {}),
  });
}
