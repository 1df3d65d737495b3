// The IPVS table the director wants right now: the configuration's services (src/ipvs/desired.ts) with only the
// real servers the checkers allow, at the weights they allow, the sorry server when the pool has lost quorum, and
// real servers removed by a reload kept at weight 0 until their connections drain. A real server nobody has
// checked yet is taken as the kernel has it: a restarted daemon adopts the running table instead of emptying it.
import type { Config, LbKind, VirtualServer } from '../config/model.ts';
import { desiredTable } from '../ipvs/desired.ts';
import { destKey, serviceKey } from '../ipvs/identity.ts';
import type { DestinationEntry, DestinationSpec, ForwardMethod, IpvsTable } from '../ipvs/types.ts';
import { endpointLabel } from '../check/labels.ts';
import type { HealthStore } from './health.ts';

const FORWARD: Record<LbKind, ForwardMethod> = { NAT: 'masq', DR: 'droute', TUN: 'tunnel' };

export interface TableInput {
  readonly config: Config;
  readonly health: HealthStore;
  /** The kernel's table as just dumped. */
  readonly kernel: IpvsTable;
  /** serviceKey → destKeys removed by a reload that still carry connections. */
  readonly draining: ReadonlyMap<string, ReadonlySet<string>>;
}

export function buildTable(input: TableInput): IpvsTable {
  const kernel = new Map(input.kernel.services.map((s) => [serviceKey(s.service.id), s]));
  const services: IpvsTable['services'][number][] = [];
  const seen = new Set<string>();
  for (const vs of input.config.virtualServers) {
    const h = input.health.get(vs);
    for (const s of servicesOf(input.config, vs)) {
      const key = serviceKey(s.service.id);
      if (seen.has(key)) continue;
      seen.add(key);
      const inKernel = new Map((kernel.get(key)?.destinations ?? []).map((d) => [destKey(d), d]));
      const dests = new Map<string, DestinationSpec>();
      vs.realServers.forEach((rs, i) => {
        const spec = s.destinations[i];
        if (!spec) return;
        const verdict = h?.rs.get(endpointLabel(rs));
        const weight = verdict ? (verdict.present ? verdict.weight : undefined) : inKernel.get(destKey(spec))?.weight;
        if (weight !== undefined && !dests.has(destKey(spec))) dests.set(destKey(spec), { ...spec, weight });
      });
      const sorry = vs.sorryServer;
      if (sorry && h?.sorry?.present && !dests.has(destKey(sorry))) {
        const forward = FORWARD[sorry.lbKind ?? vs.lbKind];
        dests.set(destKey(sorry), { address: sorry.address, family: sorry.family, port: sorry.port, forward, weight: h.sorry.weight, upperThreshold: 0, lowerThreshold: 0 });
      }
      for (const k of input.draining.get(key) ?? []) {
        const old = inKernel.get(k);
        if (old && !dests.has(k)) dests.set(k, { ...specOf(old), weight: 0 });
      }
      services.push({ service: s.service, destinations: [...dests.values()] });
    }
  }
  return { services };
}

const servicesCache = new WeakMap<VirtualServer, IpvsTable['services']>();

/** The services one virtual server stands for (a group expands to several), with every real server in order. */
export function servicesOf(config: Config, vs: VirtualServer): IpvsTable['services'] {
  // Model objects are immutable and a reload brings new ones, so the expansion is computed once per object.
  let services = servicesCache.get(vs);
  if (!services) servicesCache.set(vs, (services = desiredTable({ ...config, virtualServers: [vs] }).services));
  return services;
}

/** Real servers a reload removed from services that remain: they drain (weight 0) instead of being cut. */
export function removedDestinations(applied: IpvsTable, next: Config): Map<string, Set<string>> {
  const wanted = new Map(desiredTable(next).services.map((s) => [serviceKey(s.service.id), new Set(s.destinations.map(destKey))]));
  const removed = new Map<string, Set<string>>();
  for (const s of applied.services) {
    const key = serviceKey(s.service.id);
    const keep = wanted.get(key);
    if (!keep) continue;
    const gone = s.destinations.map(destKey).filter((d) => !keep.has(d));
    if (gone.length) removed.set(key, new Set(gone));
  }
  return removed;
}

/** Drops from `draining` what has no connections left, is gone from the kernel, or is configured again. */
export function pruneDraining(draining: Map<string, Set<string>>, kernel: { services: readonly { service: { id: import('../ipvs/types.ts').ServiceId }; destinations: readonly DestinationEntry[] }[] }, config: Config): void {
  if (draining.size === 0) return;
  const configured = new Map(desiredTable(config).services.map((s) => [serviceKey(s.service.id), new Set(s.destinations.map(destKey))]));
  const byKey = new Map(kernel.services.map((s) => [serviceKey(s.service.id), new Map(s.destinations.map((d) => [destKey(d), d]))]));
  for (const [svc, dests] of draining) {
    for (const d of dests) {
      const k = byKey.get(svc)?.get(d);
      if (!k || k.activeConns + k.inactiveConns + k.persistConns === 0 || configured.get(svc)?.has(d)) dests.delete(d);
    }
    if (dests.size === 0) draining.delete(svc);
  }
}

function specOf(d: DestinationSpec): DestinationSpec {
  const { address, family, port, forward, weight, upperThreshold, lowerThreshold, tunnel } = d;
  return tunnel ? { address, family, port, forward, weight, upperThreshold, lowerThreshold, tunnel } : { address, family, port, forward, weight, upperThreshold, lowerThreshold };
}
