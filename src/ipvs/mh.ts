// Maglev (`mh`) services on several directors at once. The kernel (net/netfilter/ipvs/ip_vs_mh.c) builds each
// service's lookup table from fixed hash keys, the destinations' addresses/ports, their `last_weight` and the ORDER
// of the service's destination list: destinations claim free slots in turn, list order breaking every tie. The
// list is in the reverse order of NEW_DEST (ip_vs_ctl.c adds at its head), so directors that add the same real
// servers in the same order at the same weights build the same table and send a flow to the same real server,
// which is what lets a flow that ECMP moves to another director carry on. Two rules follow:
// - add destinations in one canonical order (address bytes, then port), whatever the configuration's order;
// - with `mh-fallback`, never delete a configured real server that fails: set its weight to 0. `last_weight`
//   keeps its last non-zero weight, so the table stays as it was and only that server's share is rehashed to the
//   others; a delete and a later re-add would rebuild the table and move the re-added server to the list's head,
//   a different order from the directors that never deleted it. A real server added while down is added at its
//   configured weight, then set to 0, so it holds its slots from the start as on a director that saw it up.
// Without `mh-fallback` weight 0 would not help: a flow that hashes to a weight-0 server gets no destination.
import { inetPton } from '../sys/inet.ts';
import { destKey } from './identity.ts';
import type { DestinationSpec, IpvsOp, IpvsTable, ServiceSpec } from './types.ts';

type TableService = IpvsTable['services'][number];

/** Whether a service's destination list order and weights decide where flows go (scheduler `mh`). */
export function isMh(service: ServiceSpec): boolean {
  return service.scheduler === 'mh';
}

/** Whether failed real servers of this service stay in at weight 0 (mh with mh-fallback, i.e. sched flag 1). */
export function keepsFailedAtZero(service: ServiceSpec): boolean {
  return isMh(service) && service.flags.shFallback;
}

/** Destinations in the canonical order: family, address bytes, port. */
export function canonicalOrder<D extends DestinationSpec>(dests: readonly D[]): D[] {
  return [...dests].sort((a, b) => a.family - b.family || Buffer.compare(inetPton(a.address), inetPton(b.address)) || a.port - b.port);
}

/**
 * For an mh service with mh-fallback: every configured real server the wanted service lacks is put back at
 * weight 0, and the list is in canonical order. Other services are returned unchanged.
 */
export function withFailedAtZero(want: TableService, configured: TableService): TableService {
  if (!keepsFailedAtZero(want.service)) return want;
  const have = new Set(want.destinations.map(destKey));
  const zeroed = configured.destinations.filter((d) => !have.has(destKey(d))).map((d) => ({ ...d, weight: 0 }));
  return { service: want.service, destinations: canonicalOrder([...want.destinations, ...zeroed]) };
}

/**
 * Rewrites a plan for an mh service with mh-fallback: a destination added at weight 0 is added at its configured
 * weight and set to 0 in the next operation, so the kernel's last_weight (the table) is the configured one.
 */
export function addAtHashWeight(ops: readonly IpvsOp[], configured: TableService): IpvsOp[] {
  if (!keepsFailedAtZero(configured.service)) return [...ops];
  const weights = new Map(configured.destinations.map((d) => [destKey(d), d.weight]));
  return ops.flatMap((op): IpvsOp[] => {
    const weight = op.op === 'add-dest' && op.dest.weight === 0 ? weights.get(destKey(op.dest)) : undefined;
    if (op.op !== 'add-dest' || !weight) return [op];
    return [{ ...op, dest: { ...op.dest, weight } }, { op: 'edit-dest', service: op.service, dest: op.dest }];
  });
}
