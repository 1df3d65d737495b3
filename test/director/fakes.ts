// Dummies for the director's ports: an in-memory IPVS table that applies ops, checkers the test drives by hand,
// a VRRP handle the test transitions, and an address table.
import { parseConfigText } from '../../src/config/index.ts';
import type { Config, VirtualServer } from '../../src/config/model.ts';
import type { CheckEvent } from '../../src/check/types.ts';
import type { ApplyResult, KernelTable } from '../../src/ipvs/client.ts';
import type { IpvsTimeouts, SyncDaemon } from '../../src/ipvs/codec.ts';
import { destKey, serviceKey } from '../../src/ipvs/identity.ts';
import type { DestinationEntry, IpvsOp, IpvsStats, IpvsTable, ServiceEntry, ServiceId } from '../../src/ipvs/types.ts';
import { Director } from '../../src/director/director.ts';
import type { DirectorEvent } from '../../src/director/events.ts';
import type { AddressEvent, CheckPort, DirectorPorts, KernelPort, VrrpHooks, VrrpPort } from '../../src/director/ports.ts';
import type { QuorumTrack } from '../../src/director/quorum-track.ts';
import { VrrpError } from '../../src/vrrp/errors.ts';
import { IpvsError } from '../../src/ipvs/errors.ts';
import { planVrrpReload, type VrrpReloadPlan } from '../../src/vrrp/reload-plan.ts';

export const ZERO_STATS: IpvsStats = { conns: 0n, inPkts: 0n, outPkts: 0n, inBytes: 0n, outBytes: 0n, cps: 0n, inPps: 0n, outPps: 0n, inBps: 0n, outBps: 0n };

export function config(text: string): Config {
  const { config: c, problems } = parseConfigText(text, 'test.conf', { skipHostChecks: true });
  if (!c) throw new Error(problems.map((p) => p.message).join('\n'));
  return c;
}

export class FakeKernel implements KernelPort {
  services = new Map<string, { service: ServiceEntry; destinations: Map<string, DestinationEntry> }>();
  applies: IpvsOp[][] = [];
  daemons: string[] = [];
  failNext = 0;

  /** Calls of table(): the director dumps only at start (adoption) and for counters. */
  dumps = 0;

  async table(): Promise<KernelTable> {
    this.dumps++;
    return { services: [...this.services.values()].map((s) => ({ service: s.service, destinations: [...s.destinations.values()] })) };
  }

  async service(id: ServiceId): Promise<ServiceEntry | undefined> {
    this.reads++;
    if (this.broken) throw new IpvsError('IPVS_KERNEL', 'netlink receive failed (ENOBUFS)', 'ENOBUFS');
    return this.services.get(serviceKey(id))?.service;
  }

  async destinations(id: ServiceId): Promise<DestinationEntry[]> {
    return [...(this.services.get(serviceKey(id))?.destinations.values() ?? [])];
  }

  /** A plain view for assertions: "TCP 10.0.0.1:80" → ["10.1.0.1:80 w1", …]. */
  view(): Record<string, string[]> {
    return Object.fromEntries([...this.services].map(([k, s]) => [k, [...s.destinations.values()].map((d) => `${destKey(d)} w${d.weight}`).sort()]));
  }

  load(table: IpvsTable): void {
    for (const s of table.services) {
      this.services.set(serviceKey(s.service.id), {
        service: { ...s.service, stats: ZERO_STATS },
        destinations: new Map(s.destinations.map((d) => [destKey(d), { ...d, activeConns: 0, inactiveConns: 0, persistConns: 0, stats: ZERO_STATS }])),
      });
    }
  }

  /** An op this returns an errno for is refused, as the kernel would (IPVS_KERNEL with that errno). */
  refuse: ((op: IpvsOp) => string | undefined) | undefined;
  /** Single-service reads (verification). */
  reads = 0;

  /** The next apply() fails as a whole, before touching anything (a socket error); `broken`: every request does. */
  throwNext = false;
  broken = false;

  async apply(ops: readonly IpvsOp[]): Promise<ApplyResult> {
    if (this.throwNext || this.broken) {
      this.throwNext = false;
      throw new IpvsError('IPVS_KERNEL', 'netlink receive failed (ENOBUFS)', 'ENOBUFS');
    }
    this.applies.push([...ops]);
    const failed: { op: IpvsOp; error: IpvsError }[] = [];
    const applied: IpvsOp[] = [];
    for (const op of ops) {
      const errno = this.refuse?.(op);
      if (errno) {
        failed.push({ op, error: new IpvsError('IPVS_KERNEL', `${op.op} refused (${errno})`, errno) });
        continue;
      }
      applied.push(op);
      if (op.op === 'add-service' || op.op === 'edit-service') {
        const old = this.services.get(serviceKey(op.service.id));
        this.services.set(serviceKey(op.service.id), { service: { ...op.service, stats: ZERO_STATS }, destinations: old?.destinations ?? new Map() });
      } else if (op.op === 'del-service') this.services.delete(serviceKey(op.id));
      else if (op.op === 'del-dest') this.services.get(serviceKey(op.service))?.destinations.delete(destKey(op.dest));
      else {
        const s = this.services.get(serviceKey(op.service))!;
        const old = s.destinations.get(destKey(op.dest));
        s.destinations.set(destKey(op.dest), { ...op.dest, activeConns: old?.activeConns ?? 0, inactiveConns: old?.inactiveConns ?? 0, persistConns: 0, stats: ZERO_STATS });
      }
    }
    return { applied, failed };
  }

  setConnections(service: string, dest: string, activeConns: number): void {
    const s = this.services.get(service)!;
    s.destinations.set(dest, { ...s.destinations.get(dest)!, activeConns });
  }

  async startDaemon(d: SyncDaemon): Promise<void> {
    this.daemons.push(`start ${d.state} ${d.interface} ${d.syncId}`);
  }

  async stopDaemon(state: SyncDaemon['state']): Promise<void> {
    this.daemons.push(`stop ${state}`);
  }

  /** Every setTimeouts call, in order. */
  readonly timeouts: IpvsTimeouts[] = [];

  async setTimeouts(t: IpvsTimeouts): Promise<void> {
    this.timeouts.push(t);
  }
}

export class FakeChecks implements CheckPort {
  readonly listeners = new Set<(e: CheckEvent) => void>();
  started = false;
  stopped = false;
  vs: VirtualServer;
  /** The virtual servers of each reconfigure() (a reload that changed this one). */
  readonly reconfigured: VirtualServer[][] = [];
  constructor(vs: VirtualServer) {
    this.vs = vs;
  }
  subscribe(l: (e: CheckEvent) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  start(): void {
    this.started = true;
  }
  async stop(): Promise<void> {
    this.stopped = true;
  }
  reconfigure(virtualServers: readonly VirtualServer[]): void {
    this.reconfigured.push([...virtualServers]);
    this.vs = virtualServers[0]!;
  }
  /** Publishes a verdict for the real server at `address` (any port). */
  verdict(address: string, up: boolean, opts: { present?: boolean; weight?: number } = {}): void {
    const rs = this.vs.realServers.find((r) => r.address === address)!;
    const e: CheckEvent = { kind: 'realServer', virtualServer: this.vs, realServer: rs, up, present: opts.present ?? up, weight: opts.weight ?? (up ? rs.weight : 0), reason: up ? 'ok' : 'connection refused', latencyMs: 1, at: 0 };
    for (const l of this.listeners) l(e);
  }
  emit(e: CheckEvent): void {
    for (const l of this.listeners) l(e);
  }
}

export class FakeVrrp implements VrrpPort {
  stopped = false;
  #dead: VrrpError | undefined;
  config: Config;
  /** The plan of each reconfigure(), made by the real planner; `refuse` makes the next one fail as the engine would. */
  readonly plans: VrrpReloadPlan[] = [];
  refuse: VrrpError | undefined;
  readonly hooks: VrrpHooks;
  constructor(config: Config, hooks: VrrpHooks) {
    this.config = config;
    this.hooks = hooks;
  }
  async status() {
    if (this.#dead) throw this.#dead;
    return { instances: [], unmatched: {} };
  }
  /** What VrrpService does when its worker dies: requests fail from now on and the owner is told. */
  die(message = 'VRRP worker exited unexpectedly (code 1)'): void {
    this.#dead = new VrrpError('VRRP_WORKER', message);
    this.hooks.failed(this.#dead);
  }
  async stop(): Promise<void> {
    this.stopped = true;
  }
  async reconfigure(config: Config): Promise<VrrpReloadPlan> {
    if (this.#dead) throw this.#dead;
    if (this.refuse) throw this.refuse;
    const plan = planVrrpReload(this.config, config);
    this.config = config;
    this.plans.push(plan);
    return plan;
  }
  transition(instance: string, from: 'INIT' | 'BACKUP' | 'MASTER', to: 'BACKUP' | 'MASTER' | 'FAULT', priority = 100): void {
    this.hooks.transition({ instance, from, to, priority });
  }
}

export interface Harness {
  readonly director: Director;
  readonly kernel: FakeKernel;
  readonly checks: FakeChecks[];
  readonly vrrps: FakeVrrp[];
  readonly events: DirectorEvent[];
  readonly local: Set<string>;
  /** VIPs removed through the address port, as "ADDRESS/PREFIX dev DEV". */
  readonly deletedVips: string[];
  /** Each ownership the director saved, as sorted keys. */
  readonly saved: string[][];
  addressEvent(ev: AddressEvent): void;
  /** The live checker of a virtual server (by its first address). */
  checker(address: string): FakeChecks;
}

export function harness(
  cfg: Config,
  opts: { kernel?: FakeKernel; owned?: string[]; local?: string[]; quorumTracks?: QuorumTrack[]; runDir?: string; vrrp?: DirectorPorts['vrrp']; checks?: DirectorPorts['checks']; driftIntervalMs?: number; ipvsDeadAfterMs?: number } = {},
): Harness {
  const kernel = opts.kernel ?? new FakeKernel();
  const checks: FakeChecks[] = [];
  const vrrps: FakeVrrp[] = [];
  const local = new Set(opts.local ?? []);
  const deletedVips: string[] = [];
  const saved: string[][] = [];
  let watcher: ((ev: AddressEvent) => void) | undefined;
  const ports: DirectorPorts = {
    kernel,
    checks: opts.checks ?? ((vs) => {
      const c = new FakeChecks(vs);
      checks.push(c);
      return c;
    }),
    vrrp: opts.vrrp ?? (async (c, hooks) => {
      const v = new FakeVrrp(c, hooks);
      vrrps.push(v);
      return v;
    }),
    addresses: {
      local: async () => new Set(local),
      watch: (l) => {
        watcher = l;
        return () => (watcher = undefined);
      },
      addVip: async (v) => {
        local.add(v.address);
      },
      deleteVip: async (v) => {
        local.delete(v.address);
        deletedVips.push(`${v.address}/${v.prefix} dev ${v.dev}`);
      },
    },
    state: {
      loadOwned: () => new Set(opts.owned ?? []),
      save: async (owned) => void saved.push([...owned].sort()),
    },
    now: () => 1_700_000_000_000,
  };
  const director = new Director(cfg, ports, { runDir: opts.runDir ?? '/nonexistent', driftIntervalMs: opts.driftIntervalMs ?? 0, ...(opts.ipvsDeadAfterMs !== undefined ? { ipvsDeadAfterMs: opts.ipvsDeadAfterMs } : {}), ...(opts.quorumTracks ? { quorumTracks: opts.quorumTracks } : {}) });
  const events: DirectorEvent[] = [];
  director.onEvent((e) => events.push(e));
  return {
    director,
    kernel,
    checks,
    vrrps,
    events,
    local,
    deletedVips,
    saved,
    addressEvent: (ev) => {
      if (ev.kind === 'add') local.add(ev.address);
      else local.delete(ev.address);
      watcher?.(ev);
    },
    checker: (address) => {
      const live = checks.filter((c) => !c.stopped && c.vs.key.kind === 'addr' && c.vs.key.address === address);
      const c = live[live.length - 1];
      if (!c) throw new Error(`no live checker for ${address}`);
      return c;
    },
  };
}
