// Facts about the machine the config runs on. They are checked separately from the config itself so a config can
// be validated anywhere: warnings by default, errors when the caller asks (`check-config --host`). Reading only:
// /sys/class/net and the addresses Node reports; nothing is changed.
import { readdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { Config, SourcePos } from './model.ts';
import type { Problems } from './problems.ts';
import { canonicalAddress } from './values.ts';

export interface HostFacts {
  readonly interfaces: ReadonlySet<string>;
  /** Canonical addresses assigned to this host's interfaces. */
  readonly addresses: ReadonlySet<string>;
}

export function readHostFacts(): HostFacts {
  const interfaces = new Set<string>();
  try {
    for (const name of readdirSync('/sys/class/net')) interfaces.add(name);
  } catch {
    // No sysfs (a container without it): fall back to what Node sees.
  }
  const addresses = new Set<string>();
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    interfaces.add(name);
    for (const a of addrs ?? []) {
      const c = canonicalAddress(a.address.split('%')[0] ?? a.address);
      if (c) addresses.add(c.address);
    }
  }
  return { interfaces, addresses };
}

export function checkHost(c: Config, facts: HostFacts, p: Problems, asErrors: boolean): void {
  const report = (message: string, pos: SourcePos): void => {
    if (asErrors) p.error('host', message, pos);
    else p.warn('host', `${message} (on this machine; checked as an error with --host)`, pos);
  };
  const iface = (name: string, what: string, pos: SourcePos): void => {
    if (name && !facts.interfaces.has(name)) report(`${what}: interface ${name} does not exist`, pos);
  };
  const local = (address: string | undefined, what: string, pos: SourcePos): void => {
    if (address !== undefined && !facts.addresses.has(address)) report(`${what} ${address} is not an address of this host`, pos);
  };
  for (const i of c.vrrpInstances) {
    const owner = `vrrp_instance ${i.name}`;
    iface(i.interface, owner, i.pos);
    for (const v of [...i.virtualIps, ...i.virtualIpsExcluded]) if (v.dev !== i.interface) iface(v.dev, `${owner} virtual IP ${v.address}`, v.pos);
    for (const t of i.trackInterfaces) iface(t.name, `${owner} track_interface`, t.pos);
    for (const r of i.virtualRoutes ?? []) iface(r.dev ?? '', `${owner} virtual route`, r.pos);
    for (const r of i.virtualRules ?? []) for (const d of [r.iif, r.oif]) iface(d ?? '', `${owner} virtual rule`, r.pos);
    local(i.mcastSrcIp, `${owner}: mcast_src_ip`, i.pos);
    local(i.unicastSrcIp, `${owner}: unicast_src_ip`, i.pos);
  }
  for (const g of c.garpGroups) for (const name of g.interfaces) iface(name, 'garp_group', g.pos);
  for (const v of c.staticAddresses ?? []) iface(v.dev, `static_ipaddress ${v.address}`, v.pos);
  for (const r of c.staticRoutes ?? []) iface(r.dev ?? '', 'static route', r.pos);
  for (const g of c.vrrpSyncGroups) for (const t of g.trackInterfaces) iface(t.name, `vrrp_sync_group ${g.name} track_interface`, t.pos);
  const sd = c.globalDefs.lvs.syncDaemon;
  if (sd) iface(sd.interface, 'lvs_sync_daemon', sd.pos);
  for (const vs of c.virtualServers) {
    for (const rs of vs.realServers) {
      for (const ch of rs.checkers) local(ch.bindTo, `${ch.type} bindto`, ch.pos);
    }
  }
}
