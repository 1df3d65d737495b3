// The configuration's virtual servers as the IPVS table they ask for: groups expanded to their members,
// lb_kind → forwarding method, persistence → flags/timeout/netmask, every real server at its configured weight.
// (Health checks decide later which real servers stay in; `ipvs apply` programs them all.)
import { inetNtop, inetPton } from '../sys/inet.ts';
import type { Config, LbKind, RealServer, VirtualServer, VirtualServerGroupMember } from '../config/model.ts';
import type { DestinationSpec, ForwardMethod, IpvsTable, ServiceFlags, ServiceId, ServiceSpec } from './types.ts';

const FORWARD: Record<LbKind, ForwardMethod> = { NAT: 'masq', DR: 'droute', TUN: 'tunnel' };

export function desiredTable(config: Config): IpvsTable {
  const groups = groupsOf(config);
  const services: IpvsTable['services'][number][] = [];
  const seen = new Set<string>();
  for (const vs of config.virtualServers) {
    for (const s of virtualServerServices(vs, groups)) {
      const key = JSON.stringify(s.service.id);
      if (seen.has(key)) continue;
      seen.add(key);
      services.push(s);
    }
  }
  return { services };
}

export type GroupMembers = ReadonlyMap<string, readonly VirtualServerGroupMember[]>;

export function groupsOf(config: Config): GroupMembers {
  return new Map(config.virtualServerGroups.map((g) => [g.name, g.members]));
}

/** One virtual server's services (a group expands to several, each once), with every real server in order. */
export function virtualServerServices(vs: VirtualServer, groups: GroupMembers): IpvsTable['services'][number][] {
  const ids = serviceIds(vs, groups);
  const destinations = () => vs.realServers.map((rs) => destination(vs, rs));
  if (ids.length === 1) return [{ service: serviceSpec(vs, ids[0]!), destinations: destinations() }];
  const seen = new Set<string>();
  const services: IpvsTable['services'][number][] = [];
  for (const id of ids) {
    const key = JSON.stringify(id);
    if (seen.has(key)) continue;
    seen.add(key);
    services.push({ service: serviceSpec(vs, id), destinations: destinations() });
  }
  return services;
}

function serviceIds(vs: VirtualServer, groups: GroupMembers): ServiceId[] {
  const key = vs.key;
  if (key.kind === 'addr') return [{ kind: 'addr', family: key.family, protocol: vs.protocol, address: key.address, port: key.port }];
  if (key.kind === 'fwmark') return [{ kind: 'fwmark', family: key.family, mark: key.mark }];
  const ids: ServiceId[] = [];
  for (const m of groups.get(key.name) ?? []) {
    if (m.kind === 'fwmark') ids.push({ kind: 'fwmark', family: m.family, mark: m.mark });
    else for (let i = 0; i < m.count; i++) ids.push({ kind: 'addr', family: m.family, protocol: vs.protocol, address: addAddress(m.address, i), port: m.port });
  }
  return ids;
}

function serviceSpec(vs: VirtualServer, id: ServiceId): ServiceSpec {
  const timeoutS = vs.persistenceTimeoutS ?? 0;
  const has = (...names: string[]): boolean => names.some((n) => vs.schedulerFlags.includes(n));
  const flags: ServiceFlags = {
    persistent: timeoutS > 0,
    onePacket: vs.onePacket,
    shFallback: has('sh-fallback', 'mh-fallback', 'flag-1'),
    shPort: has('sh-port', 'mh-port', 'flag-2'),
    schedFlag3: has('flag-3'),
  };
  const netmask = vs.persistenceGranularity ?? (id.family === 4 ? '255.255.255.255' : '128');
  return { id, scheduler: vs.lbAlgo, flags, timeoutS, netmask };
}

function destination(vs: VirtualServer, rs: RealServer): DestinationSpec {
  const forward = FORWARD[rs.lbKind];
  const tunnel = rs.tunnel ?? vs.tunnel;
  const dest: DestinationSpec = {
    address: rs.address,
    family: rs.family,
    port: rs.port,
    forward,
    weight: rs.weight,
    upperThreshold: rs.uthreshold ?? 0,
    lowerThreshold: rs.lthreshold ?? 0,
  };
  if (forward !== 'tunnel') return dest;
  return { ...dest, tunnel: { type: tunnel?.type ?? 'ipip', ...(tunnel?.port !== undefined ? { port: tunnel.port } : {}), ...(tunnel?.checksum ? { csum: tunnel.checksum } : {}) } };
}

/** The n-th address after `address` (virtual_server_group ranges such as 10.0.0.1-10 or 2001:db8::1-a). */
export function addAddress(address: string, n: number): string {
  const bytes = inetPton(address);
  let carry = n;
  for (let i = bytes.length - 1; i >= 0 && carry > 0; i--) {
    const v = (bytes[i] ?? 0) + carry;
    bytes[i] = v % 256;
    carry = Math.floor(v / 256);
  }
  return inetNtop(bytes);
}
