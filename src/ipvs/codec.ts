// IPVS generic-netlink attributes <-> the project's IPVS types. Pure: no sockets, unit-tested on bytes.
import { inetNtop, inetPton } from '../sys/inet.ts';
import { type Attr, type Attrs, be16, binary, encodeAttrs, NLA_F_NESTED, NLA_HDRLEN, nested, nlaAlign, string, u16, u32, u8 } from '../netlink/attributes.ts';
import { encodeGenl, GENL_HDRLEN } from '../netlink/genl.ts';
import type { Family } from '../config/model.ts';
import {
  AF_INET, AF_INET6, IP_VS_CONN_F, IP_VS_CONN_F_FWD_MASK, IP_VS_STATE, IP_VS_SVC_F, IP_VS_TUNNEL_ENCAP_FLAG,
  IP_VS_TUNNEL_TYPE, IPPROTO, IPVS_CMD, IPVS_CMD_ATTR, IPVS_DAEMON_ATTR, IPVS_DEST_ATTR, IPVS_INFO_ATTR,
  IPVS_STATS_ATTR, IPVS_SVC_ATTR,
} from './constants.ts';
import { IpvsError } from './errors.ts';
import type {
  DestinationEntry, DestinationId, DestinationSpec, ForwardMethod, IpvsOp, IpvsProtocol, IpvsStats, ServiceEntry,
  ServiceFlags, ServiceId, ServiceSpec,
} from './types.ts';

/** One genl request: command + top-level attributes. */
export interface IpvsRequest {
  readonly cmd: number;
  readonly attrs: readonly Attr[];
}

const ALL_SVC_FLAGS = IP_VS_SVC_F.PERSISTENT | IP_VS_SVC_F.ONEPACKET | IP_VS_SVC_F.SCHED1 | IP_VS_SVC_F.SCHED2 | IP_VS_SVC_F.SCHED3;

const FORWARD_BITS: Record<ForwardMethod, number> = {
  masq: IP_VS_CONN_F.MASQ,
  local: IP_VS_CONN_F.LOCALNODE,
  tunnel: IP_VS_CONN_F.TUNNEL,
  droute: IP_VS_CONN_F.DROUTE,
  bypass: IP_VS_CONN_F.BYPASS,
};
const PROTOCOL_NAMES: Record<number, IpvsProtocol> = { [IPPROTO.TCP]: 'TCP', [IPPROTO.UDP]: 'UDP', [IPPROTO.SCTP]: 'SCTP' };
const TUNNEL_TYPES = ['ipip', 'gue', 'gre'] as const;

const afOf = (family: Family): number => (family === 4 ? AF_INET : AF_INET6);
const familyOf = (af: number | undefined): Family | undefined => (af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined);

// ------------------------------------------------------------------------------------------------ encode

export function serviceIdAttrs(id: ServiceId): Attr[] {
  if (id.kind === 'fwmark') return [u16(IPVS_SVC_ATTR.AF, afOf(id.family)), u32(IPVS_SVC_ATTR.FWMARK, id.mark)];
  return [
    u16(IPVS_SVC_ATTR.AF, afOf(id.family)),
    u16(IPVS_SVC_ATTR.PROTOCOL, IPPROTO[id.protocol]),
    binary(IPVS_SVC_ATTR.ADDR, addressBytes(id.address, id.family)),
    be16(IPVS_SVC_ATTR.PORT, id.port),
  ];
}

/** NEW/SET_SERVICE need the full entry: the kernel refuses one without scheduler, flags, timeout and netmask. */
export function serviceAttrs(s: ServiceSpec): Attr[] {
  const flags = Buffer.alloc(8);
  flags.writeUInt32LE(encodeFlags(s.flags), 0);
  flags.writeUInt32LE(ALL_SVC_FLAGS, 4);
  const attrs = [
    ...serviceIdAttrs(s.id),
    string(IPVS_SVC_ATTR.SCHED_NAME, s.scheduler),
    binary(IPVS_SVC_ATTR.FLAGS, flags),
    u32(IPVS_SVC_ATTR.TIMEOUT, s.timeoutS),
    binary(IPVS_SVC_ATTR.NETMASK, netmaskBytes(s.netmask, s.id.family)),
  ];
  if (s.pe) attrs.push(string(IPVS_SVC_ATTR.PE_NAME, s.pe));
  return attrs;
}

export function destIdAttrs(d: DestinationId): Attr[] {
  return [
    binary(IPVS_DEST_ATTR.ADDR, addressBytes(d.address, d.family)),
    be16(IPVS_DEST_ATTR.PORT, d.port),
    u16(IPVS_DEST_ATTR.ADDR_FAMILY, afOf(d.family)),
  ];
}

export function destAttrs(d: DestinationSpec): Attr[] {
  const attrs = [
    ...destIdAttrs(d),
    u32(IPVS_DEST_ATTR.FWD_METHOD, FORWARD_BITS[d.forward]),
    u32(IPVS_DEST_ATTR.WEIGHT, d.weight),
    u32(IPVS_DEST_ATTR.U_THRESH, d.upperThreshold),
    u32(IPVS_DEST_ATTR.L_THRESH, d.lowerThreshold),
  ];
  if (d.forward === 'tunnel') {
    const t = d.tunnel ?? { type: 'ipip' };
    const csum = t.csum === 'checksum' ? IP_VS_TUNNEL_ENCAP_FLAG.CSUM : t.csum === 'remote' ? IP_VS_TUNNEL_ENCAP_FLAG.REMCSUM : 0;
    attrs.push(u8(IPVS_DEST_ATTR.TUN_TYPE, IP_VS_TUNNEL_TYPE[t.type]), be16(IPVS_DEST_ATTR.TUN_PORT, t.port ?? 0), u16(IPVS_DEST_ATTR.TUN_FLAGS, csum));
  }
  return attrs;
}

/** Exactly one request per plan step. */
export function opRequest(op: IpvsOp): IpvsRequest {
  const svc = (attrs: Attr[]): Attr => nested(IPVS_CMD_ATTR.SERVICE, attrs);
  const dst = (attrs: Attr[]): Attr => nested(IPVS_CMD_ATTR.DEST, attrs);
  switch (op.op) {
    case 'add-service':
      return { cmd: IPVS_CMD.NEW_SERVICE, attrs: [svc(serviceAttrs(op.service))] };
    case 'edit-service':
      return { cmd: IPVS_CMD.SET_SERVICE, attrs: [svc(serviceAttrs(op.service))] };
    case 'del-service':
      return { cmd: IPVS_CMD.DEL_SERVICE, attrs: [svc(serviceIdAttrs(op.id))] };
    case 'add-dest':
      return { cmd: IPVS_CMD.NEW_DEST, attrs: [encodedServiceId(op.service), dst(destAttrs(op.dest))] };
    case 'edit-dest':
      return { cmd: IPVS_CMD.SET_DEST, attrs: [encodedServiceId(op.service), dst(destAttrs(op.dest))] };
    case 'del-dest':
      return { cmd: IPVS_CMD.DEL_DEST, attrs: [encodedServiceId(op.service), dst(destIdAttrs(op.dest))] };
  }
}

// Every destination request repeats its service's identity; a plan for a big table shares the ServiceId object
// across them, so encode it once (programming 10,000 × 10 spends most of its CPU on small allocations).
const serviceIdCache = new WeakMap<ServiceId, { readonly attr: Attr; readonly bytes: Buffer }>();

function cachedServiceId(id: ServiceId): { readonly attr: Attr; readonly bytes: Buffer } {
  let entry = serviceIdCache.get(id);
  if (!entry) {
    const attr = { type: IPVS_CMD_ATTR.SERVICE | NLA_F_NESTED, value: encodeAttrs(serviceIdAttrs(id)) };
    entry = { attr, bytes: encodeAttrs([attr]) };
    serviceIdCache.set(id, entry);
  }
  return entry;
}

function encodedServiceId(id: ServiceId): Attr {
  return cachedServiceId(id).attr;
}

const DEST_CMDS = { 'add-dest': IPVS_CMD.NEW_DEST, 'edit-dest': IPVS_CMD.SET_DEST, 'del-dest': IPVS_CMD.DEL_DEST } as const;

/**
 * The genl payload (genlmsghdr + attributes) of one plan step, byte for byte encodeGenl(opRequest(op)). The
 * destination steps, nearly all of a large plan, are written straight into a shared zero-filled slab instead of
 * through a dozen small Attr buffers each: those allocations and their GC dominated programming a big table.
 */
export function opPayload(op: IpvsOp, version: number): Buffer {
  if (op.op === 'add-dest' || op.op === 'edit-dest' || op.op === 'del-dest') {
    const full = op.op !== 'del-dest';
    if (!full || op.dest.forward !== 'tunnel') return destPayload(DEST_CMDS[op.op], version, op.service, op.dest, full);
  }
  const r = opRequest(op);
  return encodeGenl(r.cmd, version, r.attrs);
}

function destPayload(cmd: number, version: number, service: ServiceId, d: DestinationSpec | DestinationId, full: boolean): Buffer {
  const svc = cachedServiceId(service).bytes;
  const addr = addressBytes(d.address, d.family);
  const destLen = NLA_HDRLEN + NLA_HDRLEN + nlaAlign(addr.length) + 2 * 8 + (full ? 4 * 8 : 0);
  const out = slab(GENL_HDRLEN + svc.length + destLen);
  out[0] = cmd;
  out[1] = version;
  out.set(svc, GENL_HDRLEN);
  let o = header(out, GENL_HDRLEN + svc.length, destLen, IPVS_CMD_ATTR.DEST | NLA_F_NESTED);
  o = header(out, o, NLA_HDRLEN + addr.length, IPVS_DEST_ATTR.ADDR);
  out.set(addr, o);
  o = header(out, o + nlaAlign(addr.length), NLA_HDRLEN + 2, IPVS_DEST_ATTR.PORT);
  out.writeUInt16BE(d.port, o);
  o = header(out, o + 4, NLA_HDRLEN + 2, IPVS_DEST_ATTR.ADDR_FAMILY);
  out.writeUInt16LE(afOf(d.family), o);
  o += 4;
  if (full) {
    const s = d as DestinationSpec;
    o = u32At(out, o, IPVS_DEST_ATTR.FWD_METHOD, FORWARD_BITS[s.forward]);
    o = u32At(out, o, IPVS_DEST_ATTR.WEIGHT, s.weight);
    o = u32At(out, o, IPVS_DEST_ATTR.U_THRESH, s.upperThreshold);
    u32At(out, o, IPVS_DEST_ATTR.L_THRESH, s.lowerThreshold);
  }
  return out;
}

function header(out: Buffer, o: number, len: number, type: number): number {
  out.writeUInt16LE(len, o);
  out.writeUInt16LE(type, o + 2);
  return o + NLA_HDRLEN;
}

function u32At(out: Buffer, o: number, type: number, v: number): number {
  out.writeUInt32LE(v >>> 0, header(out, o, NLA_HDRLEN + 4, type));
  return o + 8;
}

// Payloads are views into zero-filled slabs handed out front to back; a slab is freed once its last request is.
const SLAB_BYTES = 64 * 1024;
let slabBuf = Buffer.alloc(SLAB_BYTES);
let slabUsed = 0;

function slab(size: number): Buffer {
  const n = nlaAlign(size);
  if (slabUsed + n > SLAB_BYTES) {
    slabBuf = Buffer.alloc(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slabBuf.subarray(slabUsed, slabUsed + size);
  slabUsed += n;
  return out;
}

export function getDestsRequest(id: ServiceId): IpvsRequest {
  return { cmd: IPVS_CMD.GET_DEST, attrs: [nested(IPVS_CMD_ATTR.SERVICE, serviceIdAttrs(id))] };
}

export interface IpvsTimeouts {
  /** Seconds; 0 in SET_CONFIG leaves a value unchanged. */
  readonly tcp: number;
  readonly tcpFin: number;
  readonly udp: number;
}

export function setConfigRequest(t: IpvsTimeouts): IpvsRequest {
  return {
    cmd: IPVS_CMD.SET_CONFIG,
    attrs: [u32(IPVS_CMD_ATTR.TIMEOUT_TCP, t.tcp), u32(IPVS_CMD_ATTR.TIMEOUT_TCP_FIN, t.tcpFin), u32(IPVS_CMD_ATTR.TIMEOUT_UDP, t.udp)],
  };
}

export interface SyncDaemon {
  readonly state: 'master' | 'backup';
  readonly interface: string;
  readonly syncId: number;
  readonly maxlen?: number;
  /** IPv4 or IPv6 multicast group; the kernel's default (224.0.0.81) when absent. */
  readonly group?: string;
  readonly port?: number;
  readonly ttl?: number;
}

export function newDaemonRequest(d: SyncDaemon): IpvsRequest {
  const attrs: Attr[] = [
    u32(IPVS_DAEMON_ATTR.STATE, d.state === 'master' ? IP_VS_STATE.MASTER : IP_VS_STATE.BACKUP),
    string(IPVS_DAEMON_ATTR.MCAST_IFN, d.interface),
    u32(IPVS_DAEMON_ATTR.SYNC_ID, d.syncId),
  ];
  if (d.maxlen !== undefined) attrs.push(u16(IPVS_DAEMON_ATTR.SYNC_MAXLEN, d.maxlen));
  if (d.group !== undefined) {
    attrs.push(d.group.includes(':') ? binary(IPVS_DAEMON_ATTR.MCAST_GROUP6, inetPton(d.group)) : binary(IPVS_DAEMON_ATTR.MCAST_GROUP, inetPton(d.group)));
  }
  if (d.port !== undefined) attrs.push(u16(IPVS_DAEMON_ATTR.MCAST_PORT, d.port));
  if (d.ttl !== undefined) attrs.push(u8(IPVS_DAEMON_ATTR.MCAST_TTL, d.ttl));
  return { cmd: IPVS_CMD.NEW_DAEMON, attrs: [nested(IPVS_CMD_ATTR.DAEMON, attrs)] };
}

export function delDaemonRequest(state: SyncDaemon['state']): IpvsRequest {
  return {
    cmd: IPVS_CMD.DEL_DAEMON,
    attrs: [nested(IPVS_CMD_ATTR.DAEMON, [u32(IPVS_DAEMON_ATTR.STATE, state === 'master' ? IP_VS_STATE.MASTER : IP_VS_STATE.BACKUP)])],
  };
}

function encodeFlags(f: ServiceFlags): number {
  return (
    (f.persistent ? IP_VS_SVC_F.PERSISTENT : 0) |
    (f.onePacket ? IP_VS_SVC_F.ONEPACKET : 0) |
    (f.shFallback ? IP_VS_SVC_F.SCHED1 : 0) |
    (f.shPort ? IP_VS_SVC_F.SCHED2 : 0) |
    (f.schedFlag3 ? IP_VS_SVC_F.SCHED3 : 0)
  );
}

// Real server addresses repeat across services; parsing them is a visible share of encoding a large plan.
const addressCache = new Map<string, Buffer>();

function addressBytes(address: string, family: Family): Buffer {
  let b = addressCache.get(address);
  if (!b) {
    b = inetPton(address);
    if (addressCache.size >= 65536) addressCache.clear();
    addressCache.set(address, b);
  }
  if (b.length !== (family === 4 ? 4 : 16)) throw new IpvsError('IPVS_DECODE', `${address} is not an IPv${family} address`);
  return b;
}

/** IPv4: the mask's four bytes as they are; IPv6: the prefix length as a host-order u32 (as ipvsadm sends it). */
function netmaskBytes(netmask: string, family: Family): Buffer {
  if (family === 4) return inetPton(netmask);
  const b = Buffer.alloc(4);
  b.writeUInt32LE(Number(netmask), 0);
  return b;
}

// ------------------------------------------------------------------------------------------------ decode

function decodeError(a: Attrs, what: string): IpvsError {
  return new IpvsError('IPVS_DECODE', `cannot decode ${what} from the kernel: ${a.error ?? 'missing attributes'}`);
}

export function decodeStats(a: Attrs | undefined): IpvsStats {
  const n = (t: number): bigint => a?.u64(t) ?? 0n;
  return {
    conns: n(IPVS_STATS_ATTR.CONNS),
    inPkts: n(IPVS_STATS_ATTR.INPKTS),
    outPkts: n(IPVS_STATS_ATTR.OUTPKTS),
    inBytes: n(IPVS_STATS_ATTR.INBYTES),
    outBytes: n(IPVS_STATS_ATTR.OUTBYTES),
    cps: n(IPVS_STATS_ATTR.CPS),
    inPps: n(IPVS_STATS_ATTR.INPPS),
    outPps: n(IPVS_STATS_ATTR.OUTPPS),
    inBps: n(IPVS_STATS_ATTR.INBPS),
    outBps: n(IPVS_STATS_ATTR.OUTBPS),
  };
}

/** A GET_SERVICE reply's top-level attributes → the service. */
export function decodeService(top: Attrs): ServiceEntry {
  const a = top.nested(IPVS_CMD_ATTR.SERVICE);
  if (!a) throw decodeError(top, 'a service');
  const family = familyOf(a.u16(IPVS_SVC_ATTR.AF));
  const fwmark = a.u32(IPVS_SVC_ATTR.FWMARK) ?? 0;
  const scheduler = a.string(IPVS_SVC_ATTR.SCHED_NAME);
  const flagBuf = a.get(IPVS_SVC_ATTR.FLAGS);
  const timeoutS = a.u32(IPVS_SVC_ATTR.TIMEOUT);
  const maskBuf = a.get(IPVS_SVC_ATTR.NETMASK);
  if (!family || scheduler === undefined || !flagBuf || flagBuf.length < 4 || timeoutS === undefined || !maskBuf || maskBuf.length !== 4 || a.error) {
    throw decodeError(a, 'a service');
  }
  let id: ServiceId;
  if (fwmark !== 0) id = { kind: 'fwmark', family, mark: fwmark };
  else {
    const protocol = PROTOCOL_NAMES[a.u16(IPVS_SVC_ATTR.PROTOCOL) ?? -1];
    const addr = a.get(IPVS_SVC_ATTR.ADDR);
    const port = a.be16(IPVS_SVC_ATTR.PORT);
    if (!protocol || !addr || port === undefined) throw decodeError(a, 'a service address');
    id = { kind: 'addr', family, protocol, address: addressText(addr, family), port };
  }
  const f = flagBuf.readUInt32LE(0);
  const pe = a.string(IPVS_SVC_ATTR.PE_NAME);
  const entry: ServiceEntry = {
    id,
    scheduler,
    flags: {
      persistent: (f & IP_VS_SVC_F.PERSISTENT) !== 0,
      onePacket: (f & IP_VS_SVC_F.ONEPACKET) !== 0,
      shFallback: (f & IP_VS_SVC_F.SCHED1) !== 0,
      shPort: (f & IP_VS_SVC_F.SCHED2) !== 0,
      schedFlag3: (f & IP_VS_SVC_F.SCHED3) !== 0,
    },
    timeoutS,
    netmask: family === 4 ? inetNtop(maskBuf) : String(maskBuf.readUInt32LE(0)),
    stats: decodeStats(a.nested(IPVS_SVC_ATTR.STATS64)),
    ...(pe ? { pe } : {}),
  };
  if (a.error) throw decodeError(a, 'a service');
  return entry;
}

/** A GET_DEST reply's top-level attributes → the destination; `serviceFamily` when the kernel omits ADDR_FAMILY. */
export function decodeDest(top: Attrs, serviceFamily: Family): DestinationEntry {
  const a = top.nested(IPVS_CMD_ATTR.DEST);
  if (!a) throw decodeError(top, 'a destination');
  const family = familyOf(a.u16(IPVS_DEST_ATTR.ADDR_FAMILY)) ?? serviceFamily;
  const addr = a.get(IPVS_DEST_ATTR.ADDR);
  const port = a.be16(IPVS_DEST_ATTR.PORT);
  const fwd = a.u32(IPVS_DEST_ATTR.FWD_METHOD);
  const weight = a.s32(IPVS_DEST_ATTR.WEIGHT);
  if (!addr || port === undefined || fwd === undefined || weight === undefined || a.error) throw decodeError(a, 'a destination');
  const forward = (Object.keys(FORWARD_BITS) as ForwardMethod[]).find((m) => FORWARD_BITS[m] === (fwd & IP_VS_CONN_F_FWD_MASK)) ?? 'masq';
  const entry: DestinationEntry = {
    address: addressText(addr, family),
    family,
    port,
    forward,
    weight,
    upperThreshold: a.u32(IPVS_DEST_ATTR.U_THRESH) ?? 0,
    lowerThreshold: a.u32(IPVS_DEST_ATTR.L_THRESH) ?? 0,
    activeConns: a.u32(IPVS_DEST_ATTR.ACTIVE_CONNS) ?? 0,
    inactiveConns: a.u32(IPVS_DEST_ATTR.INACT_CONNS) ?? 0,
    persistConns: a.u32(IPVS_DEST_ATTR.PERSIST_CONNS) ?? 0,
    stats: decodeStats(a.nested(IPVS_DEST_ATTR.STATS64)),
    ...(forward === 'tunnel' ? { tunnel: decodeTunnel(a) } : {}),
  };
  if (a.error) throw decodeError(a, 'a destination');
  return entry;
}

function decodeTunnel(a: Attrs): NonNullable<DestinationSpec['tunnel']> {
  const type = TUNNEL_TYPES[a.u8(IPVS_DEST_ATTR.TUN_TYPE) ?? 0] ?? 'ipip';
  const port = a.be16(IPVS_DEST_ATTR.TUN_PORT) ?? 0;
  const flags = a.u16(IPVS_DEST_ATTR.TUN_FLAGS) ?? 0;
  const csum = flags & IP_VS_TUNNEL_ENCAP_FLAG.REMCSUM ? 'remote' : flags & IP_VS_TUNNEL_ENCAP_FLAG.CSUM ? 'checksum' : 'none';
  return { type, ...(port ? { port } : {}), ...(csum !== 'none' ? { csum } : {}) };
}

export interface IpvsInfo {
  /** e.g. "1.2.1" */
  readonly version: string;
  readonly connTableSize: number;
}

export function decodeInfo(a: Attrs): IpvsInfo {
  const v = a.u32(IPVS_INFO_ATTR.VERSION);
  const size = a.u32(IPVS_INFO_ATTR.CONN_TAB_SIZE);
  if (v === undefined || size === undefined || a.error) throw decodeError(a, 'IPVS info');
  return { version: `${(v >> 16) & 0xff}.${(v >> 8) & 0xff}.${v & 0xff}`, connTableSize: size };
}

export function decodeConfig(a: Attrs): IpvsTimeouts {
  const t = { tcp: a.u32(IPVS_CMD_ATTR.TIMEOUT_TCP), tcpFin: a.u32(IPVS_CMD_ATTR.TIMEOUT_TCP_FIN), udp: a.u32(IPVS_CMD_ATTR.TIMEOUT_UDP) };
  if (t.tcp === undefined || t.tcpFin === undefined || t.udp === undefined || a.error) throw decodeError(a, 'IPVS timeouts');
  return { tcp: t.tcp, tcpFin: t.tcpFin, udp: t.udp };
}

/** One GET_DAEMON reply message (one per running daemon). */
export function decodeDaemon(top: Attrs): SyncDaemon {
  const a = top.nested(IPVS_CMD_ATTR.DAEMON);
  const state = a?.u32(IPVS_DAEMON_ATTR.STATE);
  const ifn = a?.string(IPVS_DAEMON_ATTR.MCAST_IFN);
  const syncId = a?.u32(IPVS_DAEMON_ATTR.SYNC_ID);
  if (!a || state === undefined || ifn === undefined || syncId === undefined || a.error) throw decodeError(top, 'a sync daemon');
  const g4 = a.get(IPVS_DAEMON_ATTR.MCAST_GROUP);
  const g6 = a.get(IPVS_DAEMON_ATTR.MCAST_GROUP6);
  const maxlen = a.u16(IPVS_DAEMON_ATTR.SYNC_MAXLEN);
  const port = a.u16(IPVS_DAEMON_ATTR.MCAST_PORT);
  const ttl = a.u8(IPVS_DAEMON_ATTR.MCAST_TTL);
  const group = g6 && g6.length === 16 && g6.some((b) => b !== 0) ? inetNtop(g6) : g4 && g4.length === 4 ? inetNtop(g4) : undefined;
  return {
    state: state === IP_VS_STATE.MASTER ? 'master' : 'backup',
    interface: ifn,
    syncId,
    ...(maxlen !== undefined ? { maxlen } : {}),
    ...(group !== undefined ? { group } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(ttl !== undefined ? { ttl } : {}),
  };
}

/** The kernel sends addresses as a 16-byte union; an IPv4 one is its first four bytes. */
function addressText(bytes: Buffer, family: Family): string {
  return inetNtop(family === 4 ? bytes.subarray(0, 4) : bytes.subarray(0, 16));
}
