// The daemon's state as one JSON-safe object: what `ipvs-ts status` prints and /metrics exports. Built from the
// configuration, the checkers' verdicts, VRRP's own status, the reconciler's view of the kernel table and the
// kernel's counters as last read (src/director/kernel-counters.ts).
import { performance } from 'node:perf_hooks';
import { endpointLabel, virtualServerLabel } from '../check/labels.ts';
import type { Config, VirtualServer } from '../config/model.ts';
import { serviceKey } from '../ipvs/identity.ts';
import type { DestinationEntry, DestinationSpec, ServiceId } from '../ipvs/types.ts';
import type { KernelView, ViewService } from '../ipvs/view.ts';
import type { Stats } from '../vrrp/engine.ts';
import { vrrpInstances, type VrrpFailure, type VrrpInput, type VrrpInstanceStatus } from '../vrrp/instance-status.ts';
import { type HealthStore, rsHealth } from './health.ts';
import { realServerKeys, servicesOf } from './desired.ts';
import { type Counters, type CountersSnapshot, countersOf, type LiveDestination, liveAt, SLOT, statsAt, ZERO_COUNTERS as ZERO } from './kernel-counters.ts';

export type { Counters } from './kernel-counters.ts';

export interface RealServerStatus {
  readonly address: string;
  readonly port: number;
  /** null: not checked yet (the kernel's entry, if any, is kept as it is). */
  readonly up: boolean | null;
  readonly inTable: boolean;
  readonly weight: number | null;
  readonly configuredWeight: number;
  readonly forward: string;
  readonly reason: string;
  readonly latencyMs: number | null;
  readonly since: number | null;
  readonly activeConns: number;
  readonly inactiveConns: number;
  readonly stats: Counters;
}

export interface ServiceStatus {
  readonly key: string;
  readonly protocol: string;
  readonly address: string;
  readonly port: number;
  readonly fwmark: number | null;
  readonly inKernel: boolean;
  readonly stats: Counters;
  /** Kernel entries of this service, including ones the configuration does not name (sorry server, draining). */
  readonly destinations: readonly { readonly address: string; readonly port: number; readonly weight: number; readonly activeConns: number; readonly inactiveConns: number; readonly stats: Counters }[];
}

export interface VirtualServerStatus {
  readonly name: string;
  readonly scheduler: string;
  readonly forwarding: string;
  readonly persistenceS: number;
  readonly quorum: { readonly configured: number; readonly hysteresis: number; readonly up: boolean; readonly liveWeight: number | null };
  readonly suspended: boolean;
  readonly sorryServer: string | null;
  readonly realServers: readonly RealServerStatus[];
  readonly services: readonly ServiceStatus[];
  /** Set in a summarised status (`ipvs-ts status --summary`), whose realServers and destinations are then empty. */
  readonly summary?: VirtualServerSummary;
}

export interface VirtualServerSummary {
  readonly realServers: number;
  readonly up: number;
  readonly down: number;
  readonly pending: number;
  /** Configured real servers the kernel table holds. */
  readonly inTable: number;
  /** Entries of the first service in the kernel (sorry server and draining ones included). */
  readonly destinations: number;
}

export interface DirectorStatus {
  readonly pid: number;
  readonly startedAt: number;
  readonly ipvsAvailable: boolean;
  readonly vrrp: readonly VrrpInstanceStatus[];
  /** Adverts dropped on a socket before any instance could claim them, per interface/family. */
  readonly vrrpUnmatched: Readonly<Record<string, Stats>>;
  /** Set when VRRP has died; its instances then show state STOP. */
  readonly vrrpFailure: VrrpFailure | null;
  readonly virtualServers: readonly VirtualServerStatus[];
  readonly counters: Readonly<Record<string, number>>;
  /** Age of the kernel's counters and connection counts shown (read in the background); null before the first read. */
  readonly countersAgeMs: number | null;
}

export interface StatusInput {
  readonly config: Config;
  readonly health: HealthStore;
  readonly view: KernelView;
  /** The kernel's counters as last read; undefined before the first read (counters then show 0). */
  readonly counters: CountersSnapshot | undefined;
  readonly ipvsAvailable: boolean;
  readonly vrrp: VrrpInput;
  readonly suspended: ReadonlySet<string>;
  readonly startedAt: number;
  readonly directorCounters: Readonly<Record<string, number>>;
}


/**
 * What a virtual server's status rows are keyed by, derived from its (immutable) model object once: at 100,000 real
 * servers, building these key strings on every status was a third of its cost. A reload brings new objects.
 */
interface Skeleton {
  readonly label: string;
  readonly services: readonly { readonly id: ServiceId; readonly key: string }[];
  /** Per configured real server: its destination key and its health key (desired.ts realServerKeys). */
  readonly destKeys: readonly string[];
  readonly endpoints: readonly string[];
}

const skeletons = new WeakMap<VirtualServer, Skeleton>();

function skeletonOf(config: Config, vs: VirtualServer): Skeleton {
  let sk = skeletons.get(vs);
  if (sk) return sk;
  const services = servicesOf(config, vs);
  const keys = realServerKeys(vs, services[0]);
  sk = {
    label: virtualServerLabel(vs),
    services: services.map((s) => ({ id: s.service.id, key: serviceKey(s.service.id) })),
    destKeys: keys.destKeys,
    endpoints: keys.labels,
  };
  skeletons.set(vs, sk);
  return sk;
}

export interface StatusOptions {
  /**
   * Per virtual server the counts of a summary (`ipvs-ts status --summary`) instead of a row per real server and
   * destination, counted without building those rows: at 100,000 destinations the rows are most of a status's cost.
   */
  readonly summary?: boolean;
}

export function buildStatus(input: StatusInput, opts: StatusOptions = {}): DirectorStatus {
  const kernel = (key: string) => input.view.get(key);
  // Before the first counters read, a destination read back by verification still has its counts.
  const values = input.counters?.values;
  const liveIn = (key: string) => {
    const slots = input.counters?.services.get(key)?.slots;
    return (k: string, d: DestinationSpec | DestinationEntry): LiveDestination | undefined => {
      const slot = slots?.get(k);
      if (slot !== undefined) return liveAt(values!, slot);
      return 'activeConns' in d ? { activeConns: d.activeConns, inactiveConns: d.inactiveConns, stats: countersOf(d.stats) } : undefined;
    };
  };
  const virtualServers = input.config.virtualServers.map((vs): VirtualServerStatus => {
    const sk = skeletonOf(input.config, vs);
    const label = sk.label;
    const h = input.health.get(vs);
    const firstKey = sk.services[0]!.key;
    const first = kernel(firstKey);
    const live = liveIn(firstKey);
    const common = {
      name: label,
      scheduler: vs.lbAlgo,
      forwarding: vs.lbKind,
      persistenceS: vs.persistenceTimeoutS ?? 0,
      quorum: { configured: vs.quorum, hysteresis: vs.hysteresis, up: h?.quorumUp ?? true, liveWeight: h?.liveWeight ?? null },
      suspended: input.suspended.has(label),
      sorryServer: vs.sorryServer ? endpointLabel(vs.sorryServer) : null,
    };
    if (opts.summary) {
      let up = 0;
      let down = 0;
      let inTable = 0;
      for (let i = 0; i < vs.realServers.length; i++) {
        const v = rsHealth(h, vs.realServers[i]!, sk.endpoints[i]!);
        if (v?.up === true) up++;
        else if (v?.up === false) down++;
        const dk = sk.destKeys[i]!;
        if (dk && first?.destinations.has(dk)) inTable++;
      }
      const n = vs.realServers.length;
      return {
        ...common,
        realServers: [],
        services: sk.services.map(({ id, key }) => serviceStatus(id, key, kernel(key), input.counters?.services.get(key)?.stats, undefined)),
        summary: { realServers: n, up, down, pending: n - up - down, inTable, destinations: first?.destinations.size ?? 0 },
      };
    }
    const realServers = vs.realServers.map((rs, i): RealServerStatus => {
      const dk = sk.destKeys[i]!;
      const k = dk ? first?.destinations.get(dk) : undefined;
      const c = k ? live(dk, k) : undefined;
      const v = rsHealth(h, rs, sk.endpoints[i]!);
      return {
        address: rs.address,
        port: rs.port,
        up: v ? v.up : null,
        inTable: k !== undefined,
        weight: k ? k.weight : null,
        configuredWeight: rs.weight,
        forward: rs.lbKind,
        reason: v?.reason ?? 'not checked yet',
        latencyMs: v ? v.latencyMs : null,
        since: v ? v.since : null,
        activeConns: c?.activeConns ?? 0,
        inactiveConns: c?.inactiveConns ?? 0,
        stats: c ? c.stats : ZERO,
      };
    });
    return {
      ...common,
      realServers,
      services: sk.services.map(({ id, key }) => serviceStatus(id, key, kernel(key), input.counters?.services.get(key)?.stats, key === firstKey ? live : liveIn(key))),
    };
  });
  return {
    pid: process.pid,
    startedAt: input.startedAt,
    ipvsAvailable: input.ipvsAvailable,
    vrrp: vrrpInstances(input.config, input.vrrp, input.startedAt),
    vrrpUnmatched: input.vrrp.live?.unmatched ?? {},
    vrrpFailure: input.vrrp.failure ?? null,
    virtualServers,
    counters: input.directorCounters,
    countersAgeMs: input.counters ? Math.round(performance.now() - input.counters.at) : null,
  };
}

/**
 * The statistics dump (SIGUSR2): the counters of a status and nothing else. Its VRRP part has the shape
 * `ipvs-ts vrrp` writes (instances with their counters, unmatched drops), so one reader serves both.
 */
export function statisticsOf(s: DirectorStatus): object {
  return {
    instances: s.vrrp.map((i) => ({ name: i.name, state: i.state, priority: i.priority, master: i.master, stats: i.stats })),
    unmatched: s.vrrpUnmatched,
    director: s.counters,
    virtualServers: s.virtualServers.map((vs) => ({
      name: vs.name,
      services: vs.services.map((svc) => ({ key: svc.key, stats: svc.stats, destinations: svc.destinations.map((d) => ({ address: d.address, port: d.port, stats: d.stats })) })),
    })),
  };
}

/** `live` undefined: a summary's service, without its destinations. */
function serviceStatus(id: ServiceId, key: string, k: ViewService | undefined, stats: Counters | undefined, live: ((key: string, d: DestinationSpec) => LiveDestination | undefined) | undefined): ServiceStatus {
  const destinations: ServiceStatus['destinations'][number][] = [];
  if (live && k) {
    for (const [dk, d] of k.destinations) {
      const c = live(dk, d);
      destinations.push({ address: d.address, port: d.port, weight: d.weight, activeConns: c?.activeConns ?? 0, inactiveConns: c?.inactiveConns ?? 0, stats: c ? c.stats : ZERO });
    }
  }
  return {
    key,
    protocol: id.kind === 'addr' ? id.protocol : 'FWM',
    address: id.kind === 'addr' ? id.address : '',
    port: id.kind === 'addr' ? id.port : 0,
    fwmark: id.kind === 'fwmark' ? id.mark : null,
    inKernel: k !== undefined,
    stats: k && stats ? stats : k && 'stats' in k.service ? countersOf(k.service.stats) : ZERO,
    destinations,
  };
}

/** A kernel entry or a configured real server as /metrics reads it: the director's own objects, not copies. */
export interface WeightedEndpoint {
  readonly address: string;
  readonly port: number;
  readonly weight: number;
}

/** A service's identity as status shows it (the fields of ServiceStatus that name it). */
export type ServiceName = Pick<ServiceStatus, 'key' | 'protocol' | 'address' | 'port' | 'fwmark'>;

/**
 * The tables /metrics exports, visited in status order (per virtual server: its services, each followed by its
 * kernel entries, then its configured real servers), with the values status would show.
 */
export interface TableVisitor {
  virtualServer(name: string, quorumUp: boolean, suspended: boolean): void;
  service(name: ServiceName, inKernel: boolean, stats: Counters): void;
  /** `stats` is valid during the call only (the walk reuses one object): copy what you keep. */
  destination(d: WeightedEndpoint, activeConns: number, inactiveConns: number, stats: Counters): void;
  /** configured weight: rs.weight. */
  realServer(rs: WeightedEndpoint, up: boolean | null): void;
}

/**
 * What a scrape reads (src/control/metrics.ts): the VRRP part of a status and a walk over the director's state
 * itself. At 100,000 destinations building status rows for a scrape cost as much as writing the text.
 */
export interface DirectorTables {
  readonly vrrp: readonly VrrpInstanceStatus[];
  readonly countersAgeMs: number | null;
  readonly walk: (visit: TableVisitor) => void;
}

const serviceNames = new WeakMap<VirtualServer, readonly ServiceName[]>();

function serviceNamesOf(vs: VirtualServer, sk: Skeleton): readonly ServiceName[] {
  let names = serviceNames.get(vs);
  if (!names) {
    names = sk.services.map(({ id, key }) => ({
      key,
      protocol: id.kind === 'addr' ? id.protocol : 'FWM',
      address: id.kind === 'addr' ? id.address : '',
      port: id.kind === 'addr' ? id.port : 0,
      fwmark: id.kind === 'fwmark' ? id.mark : null,
    }));
    serviceNames.set(vs, names);
  }
  return names;
}

/** The same input as buildStatus, walked instead of copied into rows (the values are buildStatus's). */
export function directorTables(input: StatusInput): DirectorTables {
  return {
    vrrp: vrrpInstances(input.config, input.vrrp, input.startedAt),
    countersAgeMs: input.counters ? Math.round(performance.now() - input.counters.at) : null,
    walk: (visit) => walkTables(input, visit),
  };
}

function walkTables(input: StatusInput, visit: TableVisitor): void {
  const read = input.counters?.services;
  const values = input.counters?.values;
  // One object for every destination's counters (see TableVisitor.destination).
  const stats = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 };
  for (const vs of input.config.virtualServers) {
    const sk = skeletonOf(input.config, vs);
    const h = input.health.get(vs);
    visit.virtualServer(sk.label, h?.quorumUp ?? true, input.suspended.has(sk.label));
    const names = serviceNamesOf(vs, sk);
    for (let s = 0; s < names.length; s++) {
      const name = names[s]!;
      const k = input.view.get(name.key);
      const counted = read?.get(name.key);
      visit.service(name, k !== undefined, k && counted ? counted.stats : k && 'stats' in k.service ? countersOf(k.service.stats) : ZERO);
      if (!k) continue;
      const slots = counted?.slots;
      // forEach, not for…of: no [key, value] array per destination (100,000 per scrape).
      k.destinations.forEach((d, dk) => {
        const slot = slots?.get(dk);
        if (slot !== undefined) visit.destination(d, values![slot * SLOT]!, values![slot * SLOT + 1]!, statsAt(values!, slot, stats));
        // Before the first counters read, a destination read back by verification still has its counts.
        else if ('activeConns' in d) visit.destination(d, d.activeConns, d.inactiveConns, countersOf(d.stats));
        else visit.destination(d, 0, 0, ZERO);
      });
    }
    const rss = vs.realServers;
    for (let i = 0; i < rss.length; i++) {
      const v = rsHealth(h, rss[i]!, sk.endpoints[i]!);
      visit.realServer(rss[i]!, v ? v.up : null);
    }
  }
}
