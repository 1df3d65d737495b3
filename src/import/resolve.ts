// Names in ipvsadm input: `ipvsadm -S` without -n prints host names and service names (getservbyport), and scripts
// may use them too. Ports come from /etc/services as ipvsadm's getservbyname does; host names from the system
// resolver, IPv4 only as in ipvsadm. Tests pass their own Resolver.
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';

export type ServiceProtocol = 'tcp' | 'udp' | 'sctp';

export interface Resolver {
  /** IPv4 address of a host name; undefined when it does not resolve. */
  host(name: string): Promise<string | undefined>;
  /** Port of a service name for a protocol; undefined when unknown. */
  port(name: string, protocol: ServiceProtocol): number | undefined;
}

export function systemResolver(servicesFile = '/etc/services'): Resolver {
  let services: Map<string, number> | undefined;
  return {
    async host(name) {
      try {
        return (await lookup(name, { family: 4 })).address;
      } catch {
        return undefined;
      }
    },
    port(name, protocol) {
      services ??= readServices(servicesFile);
      return services.get(`${name}/${protocol}`);
    },
  };
}

/** `name port/proto aliases… # comment` lines → "name/proto" and "alias/proto" → port. */
export function readServices(path: string): Map<string, number> {
  const map = new Map<string, number>();
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return map; // no services database: only numeric ports resolve
  }
  for (const raw of text.split('\n')) {
    const [name, portProto, ...aliases] = (raw.split('#')[0] ?? '').trim().split(/\s+/);
    const m = /^(\d+)\/(\w+)$/.exec(portProto ?? '');
    if (!name || !m) continue;
    for (const n of [name, ...aliases]) if (!map.has(`${n}/${m[2]}`)) map.set(`${n}/${m[2]}`, Number(m[1]));
  }
  return map;
}
