// rtnetlink (NETLINK_ROUTE): links and interface addresses — list, add, delete, and decode the events of the
// RTNLGRP_LINK / RTNLGRP_IPV4_IFADDR / RTNLGRP_IPV6_IFADDR groups (VIP ownership, drift, track_interface).
//
//   const nl = NetlinkSocket.open(NETLINK_ROUTE);
//   const links = await listLinks(nl);
//   await addAddress(nl, { address: '10.0.0.10', prefixLength: 24, ifindex: 3, label: 'eth0:vip' });
//     // NLM_F_CREATE|NLM_F_EXCL: an address already present rejects with code 'EEXIST'
//   await deleteAddress(nl, { address: '10.0.0.10', prefixLength: 24, ifindex: 3 });   // absent: 'EADDRNOTAVAIL'
//   await setLinkUp(nl, 3, true);                                                       // ip link set … up
//   const events = NetlinkSocket.open(NETLINK_ROUTE);
//   events.subscribe([RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_LINK], (m) => { const e = decodeRtEvent(m); });
import { AF_INET, AF_INET6, AF_UNSPEC } from '../sys/constants.ts';
import { inetNtop, inetPton } from '../sys/inet.ts';
import { type Attr, type Attrs, attrsLength, binary, decodeAttrs, nested, string, u8, u32, writeAttrs } from './attributes.ts';
import { NetlinkError } from './errors.ts';
import { type NetlinkMessage, NLM_F_CREATE, NLM_F_EXCL } from './message.ts';
import type { NetlinkConnection } from './socket.ts';

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;

export const RTNLGRP_LINK = 1;
export const RTNLGRP_IPV4_IFADDR = 5;
export const RTNLGRP_IPV6_IFADDR = 9;

export const IFLA_ADDRESS = 1;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
export const IFLA_OPERSTATE = 16;

export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;
export const IFA_BROADCAST = 4;
export const IFA_FLAGS = 8;

export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_RUNNING = 0x40;
export const IFF_MULTICAST = 0x1000;
export const IFF_LOWER_UP = 0x10000;

export const IFA_F_SECONDARY = 0x01;
export const IFA_F_NODAD = 0x02;
export const IFA_F_DADFAILED = 0x08;
export const IFA_F_TENTATIVE = 0x40;
export const IFA_F_PERMANENT = 0x80;
export const IFA_F_NOPREFIXROUTE = 0x200;

export const RT_SCOPE = { global: 0, site: 200, link: 253, host: 254, nowhere: 255 } as const;
export type ScopeName = keyof typeof RT_SCOPE;

const OPER_STATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;
export type OperState = (typeof OPER_STATES)[number];

export interface Link {
  readonly index: number;
  readonly name: string;
  /** IFF_* flags. */
  readonly flags: number;
  /** Administratively up (IFF_UP). */
  readonly up: boolean;
  /** Carrier present (IFF_LOWER_UP). */
  readonly lowerUp: boolean;
  readonly operState: OperState;
  readonly mtu: number | undefined;
  /** Link-layer address as aa:bb:…, when the link has one. */
  readonly mac: string | undefined;
}

export interface Address {
  readonly family: 4 | 6;
  readonly address: string;
  readonly prefixLength: number;
  readonly ifindex: number;
  /** IPv4 label (e.g. "eth0:vip"); IPv6 addresses have none. */
  readonly label: string | undefined;
  readonly broadcast: string | undefined;
  /** Numeric RT_SCOPE value. */
  readonly scope: number;
  /** IFA_F_* flags (IFA_FLAGS when present, else the 8-bit header flags). */
  readonly flags: number;
}

export interface AddressSpec {
  readonly address: string;
  readonly prefixLength: number;
  readonly ifindex: number;
  /** IPv4 only; the kernel wants it to start with the interface name. */
  readonly label?: string;
  /** IPv4 only. */
  readonly broadcast?: string;
  readonly scope?: ScopeName | number;
  /** IFA_F_* flags to set, e.g. IFA_F_NODAD for an IPv6 VIP that must be usable at once. */
  readonly flags?: number;
}

export type RtEvent =
  | { readonly kind: 'newlink' | 'dellink'; readonly link: Link }
  | { readonly kind: 'newaddr' | 'deladdr'; readonly address: Address };

export async function listLinks(nl: NetlinkConnection): Promise<Link[]> {
  const replies = await nl.dump({ type: RTM_GETLINK, payload: ifinfomsg(AF_UNSPEC, 0), what: 'list links' });
  return replies.filter((m) => m.type === RTM_NEWLINK).map(decodeLink);
}

/** Every address, optionally only one family or one interface (filtered here: not every kernel filters dumps). */
export async function listAddresses(nl: NetlinkConnection, filter: { family?: 4 | 6; ifindex?: number } = {}): Promise<Address[]> {
  const af = filter.family === 4 ? AF_INET : filter.family === 6 ? AF_INET6 : AF_UNSPEC;
  const replies = await nl.dump({ type: RTM_GETADDR, payload: ifaddrmsg(af, 0, 0, 0, 0, []), what: 'list addresses' });
  return replies
    .filter((m) => m.type === RTM_NEWADDR)
    .map(decodeAddress)
    .filter((a) => (filter.family === undefined || a.family === filter.family) && (filter.ifindex === undefined || a.ifindex === filter.ifindex));
}

/** Sets a link administratively up or down; only IFF_UP is in the change mask, so no other flag moves. */
export async function setLinkUp(nl: NetlinkConnection, ifindex: number, up: boolean): Promise<void> {
  await nl.request({ type: RTM_NEWLINK, payload: ifinfomsg(AF_UNSPEC, ifindex, up ? IFF_UP : 0, IFF_UP), what: `set link ${ifindex} ${up ? 'up' : 'down'}` });
}

// ---- macvlan links (use_vmac): create, inspect, delete, and the per-link settings keepalived's vrrp_vmac.c makes.
export const IFLA_LINK = 5;
export const IFLA_LINKINFO = 18;
export const IFLA_AF_SPEC = 26;
export const IFLA_INFO_KIND = 1;
export const IFLA_INFO_DATA = 2;
export const IFLA_MACVLAN_MODE = 1;
export const IFLA_INET6_ADDR_GEN_MODE = 8;
export const IFLA_IFALIAS = 20;
export const MACVLAN_MODE = { private: 1, vepa: 2, bridge: 4, passthru: 8, source: 16 } as const;
export const IN6_ADDR_GEN_MODE_NONE = 1;

export interface MacvlanSpec {
  readonly name: string;
  /** The lower (base) interface. */
  readonly parent: number;
  /** aa:bb:cc:dd:ee:ff */
  readonly mac: string;
  readonly mode: keyof typeof MACVLAN_MODE;
}

/** What a link is beyond its flags: its kind (IFLA_INFO_KIND), lower link and macvlan mode, when it has them. */
export interface LinkKind {
  readonly link: Link;
  readonly kind: string | undefined;
  readonly parent: number | undefined;
  readonly macvlanMode: number | undefined;
  /** The link's alias (IFLA_IFALIAS, `ip link set … alias`), if it has one. */
  readonly alias?: string | undefined;
}

/** Creates a macvlan link (NLM_F_CREATE|NLM_F_EXCL: a link of that name already present rejects with 'EEXIST'). */
export async function createMacvlan(nl: NetlinkConnection, spec: MacvlanSpec): Promise<void> {
  await nl.request(macvlanRequest(spec));
}

/** The request createMacvlan sends (exported for the encoding's unit test). */
export function macvlanRequest(spec: MacvlanSpec) {
  const attrs: Attr[] = [
    nested(IFLA_LINKINFO, [string(IFLA_INFO_KIND, 'macvlan'), nested(IFLA_INFO_DATA, [u32(IFLA_MACVLAN_MODE, MACVLAN_MODE[spec.mode])])]),
    u32(IFLA_LINK, spec.parent),
    string(IFLA_IFNAME, spec.name),
    binary(IFLA_ADDRESS, macToBytes(spec.mac)),
  ];
  return { type: RTM_NEWLINK, flags: NLM_F_CREATE | NLM_F_EXCL, what: `create macvlan ${spec.name}`, payload: linkPayload(0, attrs) };
}

/** Sets a link's hardware address. */
export async function setLinkMac(nl: NetlinkConnection, ifindex: number, mac: string): Promise<void> {
  await nl.request({ type: RTM_NEWLINK, what: `set link ${ifindex} address ${mac}`, payload: linkPayload(ifindex, [binary(IFLA_ADDRESS, macToBytes(mac))]) });
}

/** Sets a link's alias (IFLA_IFALIAS; what `ip link set dev X alias TEXT` sets). */
export async function setLinkAlias(nl: NetlinkConnection, ifindex: number, alias: string): Promise<void> {
  await nl.request(linkAliasRequest(ifindex, alias));
}

export function linkAliasRequest(ifindex: number, alias: string) {
  return { type: RTM_NEWLINK, what: `set link ${ifindex} alias ${alias}`, payload: linkPayload(ifindex, [string(IFLA_IFALIAS, alias)]) };
}

/** IPv6 address generation for a link (IN6_ADDR_GEN_MODE_NONE: no automatic link-local address). */
export async function setAddrGenMode(nl: NetlinkConnection, ifindex: number, mode: number): Promise<void> {
  await nl.request(addrGenModeRequest(ifindex, mode));
}

export function addrGenModeRequest(ifindex: number, mode: number) {
  const attrs = [nested(IFLA_AF_SPEC, [nested(AF_INET6, [u8(IFLA_INET6_ADDR_GEN_MODE, mode)])])];
  return { type: RTM_NEWLINK, what: `set link ${ifindex} addrgenmode ${mode}`, payload: linkPayload(ifindex, attrs) };
}

/** Deletes a link; one that is gone rejects with 'ENODEV'. */
export async function deleteLink(nl: NetlinkConnection, ifindex: number): Promise<void> {
  await nl.request({ type: RTM_DELLINK, what: `delete link ${ifindex}`, payload: ifinfomsg(AF_UNSPEC, ifindex) });
}

/** Every link with its kind, lower link and macvlan mode. */
export async function listLinkKinds(nl: NetlinkConnection): Promise<LinkKind[]> {
  const replies = await nl.dump({ type: RTM_GETLINK, payload: ifinfomsg(AF_UNSPEC, 0), what: 'list links' });
  return replies.filter((m) => m.type === RTM_NEWLINK).map(decodeLinkKind);
}

export function decodeLinkKind(m: NetlinkMessage): LinkKind {
  const link = decodeLink(m);
  const a = decodeAttrs(m.payload.subarray(16));
  const info = a.nested(IFLA_LINKINFO);
  const kind = info?.string(IFLA_INFO_KIND);
  const mode = kind === 'macvlan' ? info?.nested(IFLA_INFO_DATA)?.u32(IFLA_MACVLAN_MODE) : undefined;
  const alias = a.string(IFLA_IFALIAS);
  return { link, kind, parent: a.u32(IFLA_LINK), macvlanMode: mode, ...(alias ? { alias } : {}) };
}

function macToBytes(mac: string): Buffer {
  const b = Buffer.from(mac.replace(/:/g, ''), 'hex');
  if (b.length !== 6) throw new NetlinkError('MALFORMED', `${mac} is not a 6-octet MAC address`);
  return b;
}

function linkPayload(ifindex: number, attrs: readonly Attr[]): Buffer {
  const b = Buffer.alloc(16 + attrsLength(attrs));
  ifinfomsg(AF_UNSPEC, ifindex).copy(b);
  writeAttrs(b, 16, attrs);
  return b;
}

/** Adds an address with NLM_F_CREATE|NLM_F_EXCL, so an existing one rejects with code 'EEXIST'. */
export async function addAddress(nl: NetlinkConnection, spec: AddressSpec): Promise<void> {
  await nl.request(addressRequest(RTM_NEWADDR, spec, NLM_F_CREATE | NLM_F_EXCL, `add address ${spec.address}/${spec.prefixLength}`));
}

/** Removes an address; one that is not there rejects with code 'EADDRNOTAVAIL'. */
export async function deleteAddress(nl: NetlinkConnection, spec: Pick<AddressSpec, 'address' | 'prefixLength' | 'ifindex'>): Promise<void> {
  await nl.request(addressRequest(RTM_DELADDR, spec, 0, `delete address ${spec.address}/${spec.prefixLength}`));
}

/** The request addAddress/deleteAddress send, for callers that batch many. */
export function addressRequest(type: number, spec: AddressSpec, flags: number, what: string) {
  const bytes = inetPton(spec.address);
  const v4 = bytes.length === 4;
  const attrs: Attr[] = [binary(IFA_LOCAL, bytes), binary(IFA_ADDRESS, bytes)];
  if (spec.label !== undefined && v4) attrs.push(string(IFA_LABEL, spec.label));
  if (spec.broadcast !== undefined && v4) attrs.push(binary(IFA_BROADCAST, inetPton(spec.broadcast)));
  const extra = spec.flags ?? 0;
  if (extra > 0xff) attrs.push(u32(IFA_FLAGS, extra));
  const scope = typeof spec.scope === 'string' ? RT_SCOPE[spec.scope] : (spec.scope ?? 0);
  return { type, flags, what, payload: ifaddrmsg(v4 ? AF_INET : AF_INET6, spec.prefixLength, extra & 0xff, scope, spec.ifindex, attrs) };
}

/** Decodes an rtnetlink event; undefined for message types this module does not describe. */
export function decodeRtEvent(m: NetlinkMessage): RtEvent | undefined {
  switch (m.type) {
    case RTM_NEWLINK:
      return { kind: 'newlink', link: decodeLink(m) };
    case RTM_DELLINK:
      return { kind: 'dellink', link: decodeLink(m) };
    case RTM_NEWADDR:
      return { kind: 'newaddr', address: decodeAddress(m) };
    case RTM_DELADDR:
      return { kind: 'deladdr', address: decodeAddress(m) };
    default:
      return undefined;
  }
}

export function decodeLink(m: NetlinkMessage): Link {
  const p = m.payload;
  if (p.length < 16) throw new NetlinkError('MALFORMED', `link message of ${p.length} bytes is shorter than ifinfomsg`);
  const flags = p.readUInt32LE(8);
  const a = decodeAttrs(p.subarray(16));
  const hw = a.get(IFLA_ADDRESS);
  const link: Link = {
    index: p.readInt32LE(4),
    name: a.string(IFLA_IFNAME) ?? '',
    flags,
    up: (flags & IFF_UP) !== 0,
    lowerUp: (flags & IFF_LOWER_UP) !== 0,
    operState: OPER_STATES[a.u8(IFLA_OPERSTATE) ?? 0] ?? 'unknown',
    mtu: a.u32(IFLA_MTU),
    mac: hw && hw.length > 0 ? Array.from(hw, (b) => b.toString(16).padStart(2, '0')).join(':') : undefined,
  };
  return checked(a, link, 'link');
}

export function decodeAddress(m: NetlinkMessage): Address {
  const p = m.payload;
  if (p.length < 8) throw new NetlinkError('MALFORMED', `address message of ${p.length} bytes is shorter than ifaddrmsg`);
  const af = p.readUInt8(0);
  const a = decodeAttrs(p.subarray(8));
  const raw = a.get(IFA_LOCAL) ?? a.get(IFA_ADDRESS);
  const size = af === AF_INET ? 4 : 16;
  if (!raw || raw.length !== size) a.fail(`address message without a ${size}-byte IFA_LOCAL/IFA_ADDRESS`);
  const brd = a.get(IFA_BROADCAST);
  const address: Address = {
    family: af === AF_INET ? 4 : 6,
    address: raw && raw.length === size ? inetNtop(raw) : '',
    prefixLength: p.readUInt8(1),
    ifindex: p.readUInt32LE(4),
    label: a.string(IFA_LABEL),
    broadcast: brd && brd.length === 4 ? inetNtop(brd) : undefined,
    scope: p.readUInt8(3),
    flags: a.u32(IFA_FLAGS) ?? p.readUInt8(2),
  };
  return checked(a, address, 'address');
}

function checked<T>(a: Attrs, value: T, what: string): T {
  if (a.error) throw new NetlinkError('MALFORMED', `bad ${what} message: ${a.error}`);
  return value;
}

function ifinfomsg(family: number, index: number, flags = 0, change = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(family, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags, 8);
  b.writeUInt32LE(change, 12);
  return b;
}

function ifaddrmsg(family: number, prefixLength: number, flags: number, scope: number, index: number, attrs: readonly Attr[]): Buffer {
  const b = Buffer.alloc(8 + attrsLength(attrs));
  b.writeUInt8(family, 0);
  b.writeUInt8(prefixLength, 1);
  b.writeUInt8(flags, 2);
  b.writeUInt8(scope, 3);
  b.writeUInt32LE(index, 4);
  writeAttrs(b, 8, attrs);
  return b;
}
