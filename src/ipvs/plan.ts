// The pure diff planner: desired table + kernel snapshot + what we own → the minimal ordered list of operations.
// Services we do not own and that the configuration does not ask for are never touched; a service the
// configuration asks for is ours from then on even if someone else created it (we adopt it and make it match).
import { destKey, serviceKey } from './identity.ts';
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
  for (const [key, s] of [...kernel].sort(([a], [b]) => a.localeCompare(b))) {
    if (input.owned.has(key) && !desiredKeys.has(key)) ops.push({ op: 'del-service', id: s.service.id });
  }

  for (const want of input.desired.services) {
    const have = kernel.get(serviceKey(want.service.id));
    const id = want.service.id;
    if (!have) {
      ops.push({ op: 'add-service', service: want.service });
      for (const dest of want.destinations) ops.push({ op: 'add-dest', service: id, dest });
      continue;
    }
    if (!sameService(want.service, have.service)) ops.push({ op: 'edit-service', service: want.service });
    const wanted = new Map(want.destinations.map((d) => [destKey(d), d]));
    for (const old of have.destinations) {
      if (wanted.has(destKey(old))) continue;
      if (!input.drainRemoved) ops.push({ op: 'del-dest', service: id, dest: { address: old.address, family: old.family, port: old.port } });
      else if (old.weight !== 0) ops.push({ op: 'edit-dest', service: id, dest: { ...specOf(old), weight: 0 } });
      else if (connections(old) === 0) ops.push({ op: 'del-dest', service: id, dest: { address: old.address, family: old.family, port: old.port } });
    }
    const present = new Map(have.destinations.map((d) => [destKey(d), d]));
    for (const dest of want.destinations) {
      const old = present.get(destKey(dest));
      if (!old) ops.push({ op: 'add-dest', service: id, dest });
      else if (!sameDest(dest, old)) ops.push({ op: 'edit-dest', service: id, dest });
    }
  }
  return ops;
}

/** What differs between what we last applied and the kernel now: the ops that would restore our table. */
export function detectDrift(applied: IpvsTable, kernel: IpvsTable): IpvsOp[] {
  const owned = new Set(applied.services.map((s) => serviceKey(s.service.id)));
  const ours: IpvsTable = { services: kernel.services.filter((s) => owned.has(serviceKey(s.service.id))) };
  return planIpvs({ desired: applied, kernel: ours, owned });
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

function specOf(d: DestinationSpec): DestinationSpec {
  const { address, family, port, forward, weight, upperThreshold, lowerThreshold, tunnel } = d;
  return tunnel ? { address, family, port, forward, weight, upperThreshold, lowerThreshold, tunnel } : { address, family, port, forward, weight, upperThreshold, lowerThreshold };
}

function connections(d: DestinationSpec | DestinationEntry): number {
  return 'activeConns' in d ? d.activeConns + d.inactiveConns + d.persistConns : 0;
}
