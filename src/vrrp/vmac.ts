// use_vmac: a private-mode macvlan per instance carrying the RFC 5798 virtual router MAC, as keepalived 2.2.7's
// vrrp_vmac.c / vrrp_if_config.c make it. The instance's VIPs live on it and (unless vmac_xmit_base) its adverts
// leave from it, so every node of a VRRP router answers ARP with the same MAC and a failover changes no neighbour
// cache. The interface is made at start and kept up in every state; only the VIPs move.
//
// Ownership: every VMAC ipvs-ts makes carries the link alias VMAC_ALIAS (IFLA_IFALIAS, shown by `ip link`), set
// right after it is created. The alias lives as long as the link, so it survives a kill -9 and needs no state file
// to agree with the kernel. A private macvlan on the base with the virtual MAC is not proof enough: keepalived's VMACs
// look just like that and have the same names. A link of the VMAC's name that is a private macvlan on the instance's
// base with our alias is adopted (left by a killed run, or kept across a reload); any other link of that name is
// refused and never touched. Links are removed on stop, when a reload drops the instance or its use_vmac, and at
// start when a killed run left one the new configuration does not name (removeStaleVmacs). A VMAC deleted under a
// running instance is made again at once (recreate), as keepalived 2.2.7's recreate_vmac_thread does.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import type { Family, VrrpInstance } from '../config/model.ts';
import { NetlinkError } from '../netlink/errors.ts';
import {
  addAddress, createMacvlan, deleteLink, IFA_F_NODAD, IN6_ADDR_GEN_MODE_NONE, listLinkKinds, MACVLAN_MODE, setAddrGenMode, setLinkAlias, setLinkMac, setLinkUp,
  type LinkKind,
} from '../netlink/rtnetlink.ts';
import type { NetlinkConnection } from '../netlink/socket.ts';
import { VrrpError } from './errors.ts';
import { VmacFirewall } from './vmac-nft.ts';

/** The link alias that marks a VMAC as ipvs-ts's own (see the header). */
export const VMAC_ALIAS = 'ipvs-ts VMAC';

/** The MAC of the VMAC: as configured, else 00:00:5e:00:01:VRID (IPv4) or 00:00:5e:00:02:VRID (IPv6). */
export function vmacAddress(ic: Pick<VrrpInstance, 'vrid' | 'family' | 'vmacAddress'>): string {
  return ic.vmacAddress ?? `00:00:5e:00:0${ic.family === 4 ? 1 : 2}:${ic.vrid.toString(16).padStart(2, '0')}`;
}

export interface VmacSpec {
  readonly instance: string;
  readonly name: string;
  readonly base: string;
  readonly baseIndex: number;
  readonly mac: string;
  readonly family: Family;
  /** IPv6 without vmac_xmit_base: the link-local address the adverts leave from, put on the VMAC. */
  readonly linkLocal?: string;
}

/** What to do with what the kernel has under the VMAC's name. */
export type VmacAction = { readonly kind: 'create' } | { readonly kind: 'adopt'; readonly ifindex: number; readonly setMac: boolean } | { readonly kind: 'refuse'; readonly why: string };

export function vmacAction(existing: LinkKind | undefined, spec: Pick<VmacSpec, 'name' | 'base' | 'baseIndex' | 'mac'>): VmacAction {
  if (existing === undefined) return { kind: 'create' };
  const what = existing.kind === 'macvlan' ? `a macvlan (mode ${modeName(existing.macvlanMode)}) on link ${existing.parent ?? '?'}` : `a ${existing.kind ?? 'physical'} interface`;
  const advice = `ipvs-ts never takes over or deletes an interface it did not make: name another VMAC (use_vmac NAME) or remove ${spec.name}`;
  if (existing.kind !== 'macvlan' || existing.macvlanMode !== MACVLAN_MODE.private || existing.parent !== spec.baseIndex) {
    return { kind: 'refuse', why: `interface ${spec.name} already exists and is ${what}, not a private macvlan on ${spec.base}; ${advice}` };
  }
  if (existing.alias !== VMAC_ALIAS) {
    return { kind: 'refuse', why: `interface ${spec.name} already exists and is a private macvlan on ${spec.base} without the alias "${VMAC_ALIAS}" (keepalived's?); ${advice}` };
  }
  return { kind: 'adopt', ifindex: existing.link.index, setMac: existing.link.mac !== spec.mac };
}

function modeName(mode: number | undefined): string {
  return Object.entries(MACVLAN_MODE).find(([, v]) => v === mode)?.[0] ?? String(mode);
}

interface Held {
  readonly spec: VmacSpec;
  readonly ifindex: number;
}

/**
 * The base interface's ARP settings and what the first VMAC on it changed them to; restored when its last VMAC goes.
 * keepalived sets arp_ignore 1 and arp_filter 1. ipvs-ts also sets arp_announce 2: otherwise a reply from a VIP
 * that leaves by the base (its subnet route comes first) makes the base ask ARP with the VIP as sender address
 * and its own MAC, and every neighbour that hears it replaces the virtual MAC for the VIP by the base's (measured
 * with keepalived 2.2.7 in the namespace lab), which is what use_vmac is there to avoid.
 */
const BASE_ARP = { arp_ignore: 1, arp_filter: 1, arp_announce: 2 } as const;

/** A base's ARP settings before its first IPv4 VMAC; put back when it has none left. */
type BaseArp = ReadonlyMap<keyof typeof BASE_ARP, number>;

/** The VMACs of one engine. Not concurrent: the engine runs ensure/remove one after the other. */
export class Vmacs {
  readonly #nl: NetlinkConnection;
  readonly #log: (line: string) => void;
  readonly #held = new Map<string, Held>();
  readonly #bases = new Map<string, BaseArp>();
  readonly #rp = new RpFilter();
  readonly #firewall: VmacFirewall;
  /**
   * VMACs made while a held VMAC of another name had their MAC on the same base (a reload renaming one): the kernel
   * refuses to bring up a second macvlan with that MAC (EADDRINUSE), so they go up when that one is removed.
   */
  readonly #waitingUp = new Set<string>();

  constructor(nl: NetlinkConnection, log: (line: string) => void) {
    this.#nl = nl;
    this.#log = log;
    this.#firewall = new VmacFirewall(log);
  }

  has(name: string): boolean {
    return this.#held.has(name);
  }

  /** The ifindex of a VMAC this engine holds. */
  ifindex(name: string): number | undefined {
    return this.#held.get(name)?.ifindex;
  }

  names(): string[] {
    return [...this.#held.keys()];
  }

  /** Refuses a VMAC name held by a link that is not ours; changes nothing. */
  async check(specs: readonly VmacSpec[]): Promise<void> {
    const links = await this.#links();
    for (const s of specs) {
      const a = vmacAction(links.get(s.name), s);
      if (a.kind === 'refuse') throw new VrrpError('VRRP_VMAC_CONFLICT', `(${s.instance}) ${a.why}`);
    }
  }

  /**
   * Creates (or adopts) the VMAC, sets keepalived's sysctls on it and its base, brings it up. One already held is
   * kept (a reload restarting its instance): a new MAC is set on it; a new base or family makes it afresh, and
   * then true says that the addresses it held are gone.
   */
  async ensure(spec: VmacSpec): Promise<boolean> {
    const held = this.#held.get(spec.name);
    if (held !== undefined) {
      if (held.spec.base === spec.base && held.spec.family === spec.family && held.spec.linkLocal === spec.linkLocal) {
        if (held.spec.mac !== spec.mac) await setLinkMac(this.#nl, held.ifindex, spec.mac);
        this.#held.set(spec.name, { ...held, spec });
        return false;
      }
      await this.remove(spec.name);
      await this.#make(spec);
      return true;
    }
    await this.#make(spec);
    return false;
  }

  async #make(spec: VmacSpec): Promise<void> {
    const a = vmacAction((await this.#links()).get(spec.name), spec);
    if (a.kind === 'refuse') throw new VrrpError('VRRP_VMAC_CONFLICT', `(${spec.instance}) ${a.why}`);
    let ifindex: number;
    if (a.kind === 'create') {
      await createMacvlan(this.#nl, { name: spec.name, parent: spec.baseIndex, mac: spec.mac, mode: 'private' });
      const made = (await this.#links()).get(spec.name);
      if (made === undefined) throw new VrrpError('VRRP_VMAC', `(${spec.instance}) VMAC ${spec.name} vanished right after it was created`);
      ifindex = made.link.index;
      // The mark of ownership, before anything else (a run killed between the two leaves a link it will not claim).
      await setLinkAlias(this.#nl, ifindex, VMAC_ALIAS);
      this.#log(`(${spec.instance}) created VMAC ${spec.name} (${spec.mac}) on ${spec.base}`);
    } else {
      ifindex = a.ifindex;
      if (a.setMac) await setLinkMac(this.#nl, ifindex, spec.mac);
      this.#log(`(${spec.instance}) adopted VMAC ${spec.name} on ${spec.base}${a.setMac ? `, MAC set to ${spec.mac}` : ''}`);
    }
    this.#held.set(spec.name, { spec, ifindex });
    if (spec.family === 4) await this.#ipv4Settings(spec);
    // No IPv6 on an IPv4 VMAC (keepalived's link_set_ipv6): a backup's VMAC must never send from the shared MAC.
    await sysctl(`ipv6/conf/${spec.name}/disable_ipv6`, spec.family === 4 ? 1 : 0);
    await this.#syncFirewall();
    // No automatic link-local address (RFC 5798 7.4); it must be set before the link goes up.
    await setAddrGenMode(this.#nl, ifindex, IN6_ADDR_GEN_MODE_NONE);
    const twin = this.#twin(spec);
    if (twin === undefined) await setLinkUp(this.#nl, ifindex, true);
    else {
      this.#waitingUp.add(spec.name);
      this.#log(`(${spec.instance}) VMAC ${spec.name} stays down until ${twin} (same MAC on ${spec.base}) is removed`);
    }
    if (spec.linkLocal !== undefined) {
      await addAddress(this.#nl, { address: spec.linkLocal, prefixLength: 64, ifindex, flags: IFA_F_NODAD }).catch((e: unknown) => {
        if (!(e instanceof NetlinkError && e.code === 'EEXIST')) throw e;
      });
    }
  }

  /**
   * A VMAC this engine holds was deleted under it (RTM_DELLINK for `ifindex`): makes it again with the same
   * settings. False when that event is not about a held VMAC (one we removed ourselves, or an older link).
   */
  async recreate(name: string, ifindex: number): Promise<boolean> {
    const h = this.#held.get(name);
    if (h === undefined || h.ifindex !== ifindex) return false;
    this.#held.delete(name);
    try {
      await this.#make(h.spec);
    } catch (err) {
      await this.#released(h.spec);
      throw err;
    }
    return true;
  }

  /** Deletes a VMAC this engine holds and undoes the base interface's settings once its last VMAC goes. */
  async remove(name: string): Promise<void> {
    const h = this.#held.get(name);
    if (h === undefined) return;
    this.#held.delete(name);
    // Only the link we made or adopted: a link that has meanwhile been replaced by another of that name is left alone.
    const now = (await this.#links()).get(name);
    if (now !== undefined && now.link.index === h.ifindex && vmacAction(now, h.spec).kind === 'adopt') {
      await deleteLink(this.#nl, h.ifindex).catch((e: unknown) => {
        if (!(e instanceof NetlinkError && e.code === 'ENODEV')) throw e;
      });
      this.#log(`(${h.spec.instance}) removed VMAC ${name}`);
    }
    this.#waitingUp.delete(name);
    for (const w of this.#waitingUp) {
      const held = this.#held.get(w);
      if (held === undefined || this.#twin(held.spec) !== undefined) continue;
      this.#waitingUp.delete(w);
      await setLinkUp(this.#nl, held.ifindex, true);
      this.#log(`(${held.spec.instance}) VMAC ${w} up`);
    }
    await this.#released(h.spec);
  }

  /** Another held VMAC with this one's MAC on its base, if any. */
  #twin(spec: VmacSpec): string | undefined {
    return [...this.#held.values()].find((o) => o.spec.name !== spec.name && o.spec.base === spec.base && o.spec.mac === spec.mac)?.spec.name;
  }

  /** After a VMAC left #held: its firewall rules go, and the base's and rp_filter settings once no VMAC needs them. */
  async #released(spec: VmacSpec): Promise<void> {
    await this.#syncFirewall();
    const v4 = [...this.#held.values()].filter((o) => o.spec.family === 4);
    if (spec.family === 4 && !v4.some((o) => o.spec.base === spec.base)) await this.#releaseBase(spec.base);
    if (v4.length === 0) await this.#rp.restore(this.#log);
  }

  async removeAll(): Promise<void> {
    for (const name of this.names()) await this.remove(name).catch((e: Error) => this.#log(`cannot remove VMAC ${name}: ${e.message}`));
  }

  /** vrrp_if_config.c: the VMAC answers ARP only for its own addresses and takes packets from the base's subnet. */
  async #ipv4Settings(spec: VmacSpec): Promise<void> {
    await this.#rp.clear(this.#log);
    for (const [param, value] of [['arp_ignore', 1], ['accept_local', 1], ['rp_filter', 0], ['promote_secondaries', 1]] as const) {
      await sysctl(`ipv4/conf/${spec.name}/${param}`, value);
    }
    // The base must not answer ARP for the VIPs with its own MAC.
    if (this.#bases.has(spec.base)) return;
    const before = new Map<keyof typeof BASE_ARP, number>();
    this.#bases.set(spec.base, before);
    for (const [param, value] of Object.entries(BASE_ARP) as [keyof typeof BASE_ARP, number][]) {
      const was = await readSysctl(`ipv4/conf/${spec.base}/${param}`);
      if (was === undefined || was === value) continue;
      await sysctl(`ipv4/conf/${spec.base}/${param}`, value);
      before.set(param, was);
    }
  }

  async #releaseBase(base: string): Promise<void> {
    const before = this.#bases.get(base);
    if (before === undefined) return;
    this.#bases.delete(base);
    for (const [param, was] of before) await sysctl(`ipv4/conf/${base}/${param}`, was).catch(() => undefined);
  }

  #syncFirewall(): Promise<void> {
    return this.#firewall.sync([...this.#held.values()].map((h) => ({ name: h.spec.name, base: h.spec.base })));
  }

  async #links(): Promise<Map<string, LinkKind>> {
    return new Map((await listLinkKinds(this.#nl)).map((l) => [l.link.name, l]));
  }
}

/**
 * Deletes the VMACs a killed run left that the configuration no longer names (`keep`: the names it does): macvlans
 * with our alias only, so keepalived's and anyone else's are left alone. Returns the names removed.
 */
export async function removeStaleVmacs(nl: NetlinkConnection, keep: ReadonlySet<string>, log: (line: string) => void): Promise<string[]> {
  const removed: string[] = [];
  for (const l of await listLinkKinds(nl)) {
    if (l.kind !== 'macvlan' || l.alias !== VMAC_ALIAS || keep.has(l.link.name)) continue;
    try {
      await deleteLink(nl, l.link.index);
      removed.push(l.link.name);
      log(`removed VMAC ${l.link.name} left by an earlier run`);
    } catch (e) {
      if (!(e instanceof NetlinkError && e.code === 'ENODEV')) log(`cannot remove the stale VMAC ${l.link.name}: ${(e as Error).message}`);
    }
  }
  return removed;
}

/**
 * An IPv4 VMAC needs rp_filter 0, which net.ipv4.conf.all.rp_filter overrides when higher. As keepalived's
 * clear_rp_filter: raise default and every interface to all's value first, so no interface changes behaviour, then
 * set all to 0; restore() puts back what is still as we left it.
 */
class RpFilter {
  #saved: { all: number; default: number | undefined; raised: Map<string, number> } | undefined;

  async clear(log: (line: string) => void): Promise<void> {
    if (this.#saved !== undefined) return;
    const all = await readSysctl('ipv4/conf/all/rp_filter');
    if (all === undefined || all === 0) return;
    const saved = { all, default: undefined as number | undefined, raised: new Map<string, number>() };
    const def = await readSysctl('ipv4/conf/default/rp_filter');
    if (def !== undefined && def < all) {
      await sysctl('ipv4/conf/default/rp_filter', all);
      saved.default = def;
    }
    for (const name of await interfaces()) {
      const v = await readSysctl(`ipv4/conf/${name}/rp_filter`);
      if (v === undefined || v >= all) continue;
      await sysctl(`ipv4/conf/${name}/rp_filter`, all);
      saved.raised.set(name, v);
    }
    log(`NOTICE: setting sysctl net.ipv4.conf.all.rp_filter from ${all} to 0`);
    await sysctl('ipv4/conf/all/rp_filter', 0);
    this.#saved = saved;
  }

  async restore(log: (line: string) => void): Promise<void> {
    const s = this.#saved;
    if (s === undefined) return;
    this.#saved = undefined;
    const put = async (path: string, expect: number, value: number) => {
      if ((await readSysctl(path)) === expect) await sysctl(path, value).catch(() => undefined);
    };
    log(`NOTICE: resetting sysctl net.ipv4.conf.all.rp_filter to ${s.all}`);
    await put('ipv4/conf/all/rp_filter', 0, s.all);
    if (s.default !== undefined) await put('ipv4/conf/default/rp_filter', s.all, s.default);
    for (const [name, v] of s.raised) await put(`ipv4/conf/${name}/rp_filter`, s.all, v);
  }
}

async function interfaces(): Promise<string[]> {
  return (await readdir('/proc/sys/net/ipv4/conf')).filter((n) => n !== 'all' && n !== 'default');
}

async function sysctl(path: string, value: number): Promise<void> {
  await writeFile(`/proc/sys/net/${path}`, `${value}\n`);
}

async function readSysctl(path: string): Promise<number | undefined> {
  try {
    const v = Number.parseInt(await readFile(`/proc/sys/net/${path}`, 'utf8'), 10);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
