// The pure diff planner: desired table + kernel snapshot + what we own → the minimal ordered list of operations.
// Services we do not own and that the configuration does not ask for are never touched; a service the
// configuration asks for is ours from then on even if someone else created it (we adopt it and make it match).
import { destKey, serviceKey } from './identity.ts';
import { canonicalOrder, isMh } from './mh.ts';
import type { DestinationEntry, DestinationSpec, IpvsOp, IpvsTable, ServiceSpec } from './types.ts';

export interface PlanInput {
  readonly desired: IpvsTable;
  /** The kernel's table as dumped; destinations may carry connection counts (DestinationEntry). */
  readonly kernel: IpvsTable;
  /** Keys (serviceKey) of the services we created earlier and may therefore delete. */
  readonly owned: ReadonlySet<string>;
  /**
   * Drain real servers that left the configuration: set them to weight 0 first and delete them only once they
   * carry no connections (a later reconcile finishes the job). Off = delete at once.
   */
  readonly drainRemoved?: boolean;
}

export function planIpvs(input: PlanInput): IpvsOp[] {
  const kernel = new Map(input.kernel.services.map((s) => [serviceKey(s.service.id), s]));
  const desiredKeys = new Set(input.desired.services.map((s) => serviceKey(s.service.id)));
  const ops: IpvsOp[] = [];

  // Deletions first so a service that moved (same VIP, new protocol/port) frees its address before the add.
  for (const [key, s] of [...kernel].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (input.owned.has(key) && !desiredKeys.has(key)) ops.push({ op: 'del-service', id: s.service.id });
  }
  for (const want of input.desired.services) {
    const have = kernel.get(serviceKey(want.service.id));
    ops.push(...planService(want, have && { service: have.service, destinations: have.destinations }, input.drainRemoved ?? false));
  }
  return ops;
}

/** What one service the configuration asks for needs, given what the kernel holds of it (undefined: nothing). */
export function planService(
  want: IpvsTable['services'][number],
  have: { readonly service: ServiceSpec; readonly destinations: Iterable<DestinationSpec | DestinationEntry> } | undefined,
  drainRemoved = false,
): IpvsOp[] {
  const id = want.service.id;
  const ops: IpvsOp[] = [];
  // mh: the kernel's lookup table depends on the order destinations were added (src/ipvs/mh.ts).
  const adding = isMh(want.service) ? canonicalOrder(want.destinations) : want.destinations;
  if (!have) {
    ops.push({ op: 'add-service', service: want.service });
    for (const dest of adding) ops.push({ op: 'add-dest', service: id, dest });
    return ops;
  }
  if (!sameService(want.service, have.service)) ops.push({ op: 'edit-service', service: want.service });
  const wanted = new Map(want.destinations.map((d) => [destKey(d), d]));
  const present = new Map<string, DestinationSpec | DestinationEntry>();
  for (const old of have.destinations) {
    present.set(destKey(old), old);
    if (wanted.has(destKey(old))) continue;
    if (!drainRemoved) ops.push({ op: 'del-dest', service: id, dest: { address: old.address, family: old.family, port: old.port } });
    else if (old.weight !== 0) ops.push({ op: 'edit-dest', service: id, dest: { ...specOf(old), weight: 0 } });
    else if (connections(old) === 0) ops.push({ op: 'del-dest', service: id, dest: { address: old.address, family: old.family, port: old.port } });
  }
  for (const dest of adding) {
    const old = present.get(destKey(dest));
    if (!old) ops.push({ op: 'add-dest', service: id, dest });
    else if (!sameDest(dest, old)) ops.push({ op: 'edit-dest', service: id, dest });
  }
  return ops;
}

export function sameService(a: ServiceSpec, b: ServiceSpec): boolean {
  return (
    a.scheduler === b.scheduler &&
    a.timeoutS === b.timeoutS &&
    a.netmask === b.netmask &&
    (a.pe ?? '') === (b.pe ?? '') &&
    a.flags.persistent === b.flags.persistent &&
    a.flags.onePacket === b.flags.onePacket &&
    a.flags.shFallback === b.flags.shFallback &&
    a.flags.shPort === b.flags.shPort &&
    a.flags.schedFlag3 === b.flags.schedFlag3
  );
}

export function sameDest(a: DestinationSpec, b: DestinationSpec): boolean {
  if (a.forward !== b.forward || a.weight !== b.weight || a.family !== b.family) return false;
  if (a.upperThreshold !== b.upperThreshold || a.lowerThreshold !== b.lowerThreshold) return false;
  if (a.forward !== 'tunnel') return true;
  const ta = a.tunnel ?? { type: 'ipip' };
  const tb = b.tunnel ?? { type: 'ipip' };
  return ta.type === tb.type && (ta.port ?? 0) === (tb.port ?? 0) && (ta.csum ?? 'none') === (tb.csum ?? 'none');
}

export function specOf(d: DestinationSpec): DestinationSpec {
  const { address, family, port, forward, weight, upperThreshold, lowerThreshold, tunnel } = d;
  return tunnel ? { address, family, port, forward, weight, upperThreshold, lowerThreshold, tunnel } : { address, family, port, forward, weight, upperThreshold, lowerThreshold };
}

export function connections(d: DestinationSpec | DestinationEntry): number {
  return 'activeConns' in d ? d.activeConns + d.inactiveConns + d.persistConns : 0;
}
