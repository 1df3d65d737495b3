// The daemon's state as one JSON-safe object: what `ipvs-ts status` prints and /metrics exports. Built from the
// configuration, the checkers' verdicts, VRRP's own status and a fresh kernel dump.
import { endpointLabel, virtualServerLabel } from '../check/labels.ts';
import type { Config } from '../config/model.ts';
import type { KernelTable } from '../ipvs/client.ts';
import { destKey, serviceKey } from '../ipvs/identity.ts';
import type { IpvsStats, ServiceId } from '../ipvs/types.ts';
import type { Stats } from '../vrrp/engine.ts';
import { vrrpInstances, type VrrpFailure, type VrrpInput, type VrrpInstanceStatus } from '../vrrp/instance-status.ts';
import type { HealthStore } from './health.ts';
import { servicesOf } from './table.ts';

export interface Counters {
  readonly conns: number;
  readonly inPkts: number;
  readonly outPkts: number;
  readonly inBytes: number;
  readonly outBytes: number;
}

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
}

export interface StatusInput {
  readonly config: Config;
  readonly health: HealthStore;
  readonly kernel: KernelTable | undefined;
  readonly vrrp: VrrpInput;
  readonly suspended: ReadonlySet<string>;
  readonly startedAt: number;
  readonly counters: Readonly<Record<string, number>>;
}

const ZERO: Counters = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 };

export function buildStatus(input: StatusInput): DirectorStatus {
  const kernel = new Map((input.kernel?.services ?? []).map((s) => [serviceKey(s.service.id), s]));
  const virtualServers = input.config.virtualServers.map((vs): VirtualServerStatus => {
    const label = virtualServerLabel(vs);
    const h = input.health.get(vs);
    const services = servicesOf(input.config, vs);
    const first = kernel.get(serviceKey(services[0]!.service.id));
    const kernelDests = new Map((first?.destinations ?? []).map((d) => [destKey(d), d]));
    const realServers = vs.realServers.map((rs, i): RealServerStatus => {
      const spec = services[0]?.destinations[i];
      const k = spec ? kernelDests.get(destKey(spec)) : undefined;
      const v = h?.rs.get(endpointLabel(rs));
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
        activeConns: k?.activeConns ?? 0,
        inactiveConns: k?.inactiveConns ?? 0,
        stats: k ? counters(k.stats) : ZERO,
      };
    });
    return {
      name: label,
      scheduler: vs.lbAlgo,
      forwarding: vs.lbKind,
      persistenceS: vs.persistenceTimeoutS ?? 0,
      quorum: { configured: vs.quorum, hysteresis: vs.hysteresis, up: h?.quorumUp ?? true, liveWeight: h?.liveWeight ?? null },
      suspended: input.suspended.has(label),
      sorryServer: vs.sorryServer ? endpointLabel(vs.sorryServer) : null,
      realServers,
      services: services.map((s) => serviceStatus(s.service.id, kernel.get(serviceKey(s.service.id)))),
    };
  });
  return {
    pid: process.pid,
    startedAt: input.startedAt,
    ipvsAvailable: input.kernel !== undefined,
    vrrp: vrrpInstances(input.config, input.vrrp, input.startedAt),
    vrrpUnmatched: input.vrrp.live?.unmatched ?? {},
    vrrpFailure: input.vrrp.failure ?? null,
    virtualServers,
    counters: input.counters,
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

function serviceStatus(id: ServiceId, k: KernelTable['services'][number] | undefined): ServiceStatus {
  return {
    key: serviceKey(id),
    protocol: id.kind === 'addr' ? id.protocol : 'FWM',
    address: id.kind === 'addr' ? id.address : '',
    port: id.kind === 'addr' ? id.port : 0,
    fwmark: id.kind === 'fwmark' ? id.mark : null,
    inKernel: k !== undefined,
    stats: k ? counters(k.service.stats) : ZERO,
    destinations: (k?.destinations ?? []).map((d) => ({ address: d.address, port: d.port, weight: d.weight, activeConns: d.activeConns, inactiveConns: d.inactiveConns, stats: counters(d.stats) })),
  };
}

function counters(s: IpvsStats): Counters {
  return { conns: Number(s.conns), inPkts: Number(s.inPkts), outPkts: Number(s.outPkts), inBytes: Number(s.inBytes), outBytes: Number(s.outBytes) };
}
