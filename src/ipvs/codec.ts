// IPVS generic-netlink messages <-> the project's IPVS types. Pure: no sockets, unit-tested on bytes.
//
// The requests of a plan (and the per-service reads) are PayloadWriters: NetlinkSocket has them write their bytes
// straight into its send buffer, so programming 100,000 destinations makes no Buffer or attribute object per
// request. Dump replies are read where they were received: decodeService/decodeDest walk the attributes in place
// and build the entry directly. The rare requests (sync daemon, timeouts) keep the declarative Attr lists.
import { inetNtop, inetPton } from '../sys/inet.ts';
import { type Attr, type Attrs, binary, NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK, nested, nlaAlign, string, u16, u32, u8 } from '../netlink/attributes.ts';
import { GENL_HDRLEN } from '../netlink/genl.ts';
import type { PayloadWriter } from '../netlink/socket.ts';
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

/** One genl request as an attribute list (the rare requests). */
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

const DEST_CMDS = { 'add-dest': IPVS_CMD.NEW_DEST, 'edit-dest': IPVS_CMD.SET_DEST, 'del-dest': IPVS_CMD.DEL_DEST } as const;
const SERVICE_CMDS = { 'add-service': IPVS_CMD.NEW_SERVICE, 'edit-service': IPVS_CMD.SET_SERVICE } as const;

/** An address ready to write: IPv4 as a number, IPv6 as its 16 bytes. */
type Address = number | Buffer;

/**
 * One IPVS request written in place: genlmsghdr, the service (its identity, or for NEW/SET_SERVICE every setting
 * the kernel requires) and, for destination steps, the destination. Addresses are parsed here, so a bad one
 * throws when the request is made, not when the socket writes it.
 */
export class IpvsPayload implements PayloadWriter {
  readonly length: number;
  readonly #cmd: number;
  readonly #version: number;
  readonly #serviceId: ServiceId | undefined;
  readonly #serviceAddr: Address;
  readonly #service: ServiceSpec | undefined;
  readonly #dest: DestinationId | undefined;
  readonly #destAddr: Address;
  readonly #destSpec: DestinationSpec | undefined;

  constructor(cmd: number, version: number, service: ServiceId | ServiceSpec | undefined, dest?: DestinationId | DestinationSpec, destFull = false) {
    this.#cmd = cmd;
    this.#version = version;
    const spec = service && 'scheduler' in service ? service : undefined;
    this.#service = spec;
    this.#serviceId = spec ? spec.id : (service as ServiceId | undefined);
    const id = this.#serviceId;
    this.#serviceAddr = id?.kind === 'addr' ? parseAddress(id.address, id.family) : 0;
    this.#dest = dest;
    this.#destSpec = destFull ? (dest as DestinationSpec) : undefined;
    this.#destAddr = dest ? parseAddress(dest.address, dest.family) : 0;
    let n = GENL_HDRLEN;
    if (id) n += NLA_HDRLEN + serviceIdLength(id) + (spec ? serviceSettingsLength(spec) : 0);
    if (dest) n += NLA_HDRLEN + destIdLength(dest.family) + (this.#destSpec ? destSettingsLength(this.#destSpec) : 0);
    this.length = n;
  }

  write(out: Buffer, offset: number): void {
    out[offset] = this.#cmd;
    out[offset + 1] = this.#version;
    let o = offset + GENL_HDRLEN;
    const id = this.#serviceId;
    if (id) {
      const nest = o;
      o = writeServiceId(out, o + NLA_HDRLEN, id, this.#serviceAddr);
      if (this.#service) o = writeServiceSettings(out, o, this.#service);
      header(out, nest, o - nest, IPVS_CMD_ATTR.SERVICE | NLA_F_NESTED);
    }
    const d = this.#dest;
    if (d) {
      const nest = o;
      o = writeAddressAttr(out, o + NLA_HDRLEN, IPVS_DEST_ATTR.ADDR, this.#destAddr);
      o = be16At(out, o, IPVS_DEST_ATTR.PORT, d.port);
      o = u16At(out, o, IPVS_DEST_ATTR.ADDR_FAMILY, afOf(d.family));
      if (this.#destSpec) o = writeDestSettings(out, o, this.#destSpec);
      header(out, nest, o - nest, IPVS_CMD_ATTR.DEST | NLA_F_NESTED);
    }
  }
}

/** Exactly one request per plan step. */
export function opPayload(op: IpvsOp, version: number): IpvsPayload {
  switch (op.op) {
    case 'add-service':
    case 'edit-service':
      return new IpvsPayload(SERVICE_CMDS[op.op], version, op.service);
    case 'del-service':
      return new IpvsPayload(IPVS_CMD.DEL_SERVICE, version, op.id);
    case 'add-dest':
    case 'edit-dest':
      return new IpvsPayload(DEST_CMDS[op.op], version, op.service, op.dest, true);
    case 'del-dest':
      return new IpvsPayload(IPVS_CMD.DEL_DEST, version, op.service, op.dest);
  }
}

/** A request about one service by its identity: GET_DEST, GET_SERVICE, ZERO; no service is every service. */
export function servicePayload(cmd: number, version: number, id?: ServiceId): IpvsPayload {
  return new IpvsPayload(cmd, version, id);
}

const serviceIdLength = (id: ServiceId): number => (id.kind === 'fwmark' ? 16 : 24 + addressLength(id.family));
const destIdLength = (family: Family): number => 16 + addressLength(family);
const addressLength = (family: Family): number => NLA_HDRLEN + (family === 4 ? 4 : 16);
const stringLength = (s: string): number => nlaAlign(NLA_HDRLEN + Buffer.byteLength(s) + 1);

/** SCHED_NAME, FLAGS, TIMEOUT, NETMASK and PE_NAME: NEW/SET_SERVICE are refused without the first four. */
function serviceSettingsLength(s: ServiceSpec): number {
  return stringLength(s.scheduler) + 12 + 8 + 8 + (s.pe ? stringLength(s.pe) : 0);
}

function destSettingsLength(d: DestinationSpec): number {
  return 32 + (d.forward === 'tunnel' ? 24 : 0);
}

function writeServiceId(out: Buffer, o: number, id: ServiceId, addr: Address): number {
  o = u16At(out, o, IPVS_SVC_ATTR.AF, afOf(id.family));
  if (id.kind === 'fwmark') return u32At(out, o, IPVS_SVC_ATTR.FWMARK, id.mark);
  o = u16At(out, o, IPVS_SVC_ATTR.PROTOCOL, IPPROTO[id.protocol]);
  o = writeAddressAttr(out, o, IPVS_SVC_ATTR.ADDR, addr);
  return be16At(out, o, IPVS_SVC_ATTR.PORT, id.port);
}

function writeServiceSettings(out: Buffer, o: number, s: ServiceSpec): number {
  o = stringAt(out, o, IPVS_SVC_ATTR.SCHED_NAME, s.scheduler);
  header(out, o, NLA_HDRLEN + 8, IPVS_SVC_ATTR.FLAGS);
  out.writeUInt32LE(encodeFlags(s.flags), o + NLA_HDRLEN);
  out.writeUInt32LE(ALL_SVC_FLAGS, o + NLA_HDRLEN + 4);
  o = u32At(out, o + 12, IPVS_SVC_ATTR.TIMEOUT, s.timeoutS);
  // IPv4: the mask's four bytes as they are; IPv6: the prefix length as a host-order u32 (as ipvsadm sends it).
  if (s.id.family === 4) o = writeAddressAttr(out, o, IPVS_SVC_ATTR.NETMASK, parseAddress(s.netmask, 4));
  else o = u32At(out, o, IPVS_SVC_ATTR.NETMASK, Number(s.netmask));
  if (s.pe) o = stringAt(out, o, IPVS_SVC_ATTR.PE_NAME, s.pe);
  return o;
}

function writeDestSettings(out: Buffer, o: number, d: DestinationSpec): number {
  o = u32At(out, o, IPVS_DEST_ATTR.FWD_METHOD, FORWARD_BITS[d.forward]);
  o = u32At(out, o, IPVS_DEST_ATTR.WEIGHT, d.weight);
  o = u32At(out, o, IPVS_DEST_ATTR.U_THRESH, d.upperThreshold);
  o = u32At(out, o, IPVS_DEST_ATTR.L_THRESH, d.lowerThreshold);
  if (d.forward !== 'tunnel') return o;
  const t = d.tunnel ?? { type: 'ipip' };
  const csum = t.csum === 'checksum' ? IP_VS_TUNNEL_ENCAP_FLAG.CSUM : t.csum === 'remote' ? IP_VS_TUNNEL_ENCAP_FLAG.REMCSUM : 0;
  header(out, o, NLA_HDRLEN + 1, IPVS_DEST_ATTR.TUN_TYPE);
  out[o + NLA_HDRLEN] = IP_VS_TUNNEL_TYPE[t.type];
  o = be16At(out, o + 8, IPVS_DEST_ATTR.TUN_PORT, t.port ?? 0);
  return u16At(out, o, IPVS_DEST_ATTR.TUN_FLAGS, csum);
}

function header(out: Buffer, o: number, len: number, type: number): void {
  out.writeUInt16LE(len, o);
  out.writeUInt16LE(type, o + 2);
}

function u16At(out: Buffer, o: number, type: number, v: number): number {
  header(out, o, NLA_HDRLEN + 2, type);
  out.writeUInt16LE(v, o + NLA_HDRLEN);
  return o + 8;
}

function be16At(out: Buffer, o: number, type: number, v: number): number {
  header(out, o, NLA_HDRLEN + 2, type);
  out.writeUInt16BE(v, o + NLA_HDRLEN);
  return o + 8;
}

function u32At(out: Buffer, o: number, type: number, v: number): number {
  header(out, o, NLA_HDRLEN + 4, type);
  out.writeUInt32LE(v >>> 0, o + NLA_HDRLEN);
  return o + 8;
}

function stringAt(out: Buffer, o: number, type: number, v: string): number {
  const n = out.write(v, o + NLA_HDRLEN, 'utf8');
  header(out, o, NLA_HDRLEN + n + 1, type);
  return o + nlaAlign(NLA_HDRLEN + n + 1);
}

function writeAddressAttr(out: Buffer, o: number, type: number, addr: Address): number {
  if (typeof addr === 'number') {
    header(out, o, NLA_HDRLEN + 4, type);
    out.writeUInt32BE(addr, o + NLA_HDRLEN);
    return o + 8;
  }
  header(out, o, NLA_HDRLEN + 16, type);
  out.set(addr, o + NLA_HDRLEN);
  return o + 20;
}

/** Dotted quads are read here without allocating; anything else goes through inetPton. */
function parseAddress(address: string, family: Family): Address {
  if (family === 4) {
    const v = parseDottedQuad(address);
    if (v >= 0) return v;
  }
  const b = inetPton(address);
  if (b.length !== (family === 4 ? 4 : 16)) throw new IpvsError('IPVS_DECODE', `${address} is not an IPv${family} address`);
  return family === 4 ? b.readUInt32BE(0) : b;
}

/** The address as a u32, or -1 unless it is four canonical decimal octets. */
function parseDottedQuad(s: string): number {
  let value = 0;
  let octet = -1;
  let dots = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (octet < 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = -1;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (octet === 0 && digits > 0) return -1;
      octet = (octet < 0 ? 0 : octet * 10) + (c - 48);
      if (octet > 255) return -1;
      digits++;
    } else return -1;
  }
  return dots === 3 && octet >= 0 ? value * 256 + octet : -1;
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

// ------------------------------------------------------------------------------------------------ decode
//
// The service and destination decoders read a reply's top-level attributes, buf[start, end), in place. A
// malformed attribute, a value of the wrong size or a missing mandatory one is an IPVS_DECODE error.

/** Where a nested attribute's payload lies: [at, end). */
interface Span {
  at: number;
  end: number;
}

function decodeError(what: string, reason = 'missing attributes'): IpvsError {
  return new IpvsError('IPVS_DECODE', `cannot decode ${what} from the kernel: ${reason}`);
}

/** The payload of the last top-level attribute of `type` (the kernel's nla_parse keeps the last one too). */
function findNested(buf: Buffer, start: number, end: number, type: number, what: string): Span | undefined {
  let found: Span | undefined;
  for (let o = start; o + NLA_HDRLEN <= end; ) {
    const len = attrLength(buf, o, start, end, what);
    if ((buf.readUInt16LE(o + 2) & NLA_TYPE_MASK) === type) found = { at: o + NLA_HDRLEN, end: o + len };
    o += nlaAlign(len);
  }
  return found;
}

function attrLength(buf: Buffer, o: number, start: number, end: number, what: string): number {
  const len = buf.readUInt16LE(o);
  if (len < NLA_HDRLEN || o + len > end) throw decodeError(what, `malformed attribute at offset ${o - start} (length ${len}, ${end - o} bytes left)`);
  return len;
}

/** The payload size of the attribute at `o`, checked to hold `size` bytes. */
function sized(buf: Buffer, o: number, size: number, what: string): number {
  const n = buf.readUInt16LE(o) - NLA_HDRLEN;
  if (n < size) throw decodeError(what, `attribute ${buf.readUInt16LE(o + 2) & NLA_TYPE_MASK} has ${n} bytes, expected ${size}`);
  return o + NLA_HDRLEN;
}

/** A string attribute up to its first NUL. */
function stringOf(buf: Buffer, o: number): string {
  const at = o + NLA_HDRLEN;
  const end = o + buf.readUInt16LE(o);
  const nul = buf.indexOf(0, at);
  return buf.toString('utf8', at, nul < 0 || nul > end ? end : nul);
}

export const ZERO_STATS: IpvsStats = Object.freeze({
  conns: 0n, inPkts: 0n, outPkts: 0n, inBytes: 0n, outBytes: 0n, cps: 0n, inPps: 0n, outPps: 0n, inBps: 0n, outBps: 0n,
});

/** IPVS_*_ATTR_STATS64 at buf[at, end); a table without traffic shares one all-zero object (no BigInt each). */
function statsAt(buf: Buffer, at: number, end: number, what: string): IpvsStats {
  let v: bigint[] | undefined;
  for (let o = at; o + NLA_HDRLEN <= end; ) {
    const len = attrLength(buf, o, at, end, what);
    const type = buf.readUInt16LE(o + 2) & NLA_TYPE_MASK;
    if (type >= IPVS_STATS_ATTR.CONNS && type <= IPVS_STATS_ATTR.OUTBPS) {
      const p = sized(buf, o, 8, what);
      if (buf.readUInt32LE(p) !== 0 || buf.readUInt32LE(p + 4) !== 0) (v ??= new Array<bigint>(11).fill(0n))[type] = buf.readBigUInt64LE(p);
      else if (v) v[type] = 0n;
    }
    o += nlaAlign(len);
  }
  if (!v) return ZERO_STATS;
  return {
    conns: v[IPVS_STATS_ATTR.CONNS]!, inPkts: v[IPVS_STATS_ATTR.INPKTS]!, outPkts: v[IPVS_STATS_ATTR.OUTPKTS]!,
    inBytes: v[IPVS_STATS_ATTR.INBYTES]!, outBytes: v[IPVS_STATS_ATTR.OUTBYTES]!, cps: v[IPVS_STATS_ATTR.CPS]!,
    inPps: v[IPVS_STATS_ATTR.INPPS]!, outPps: v[IPVS_STATS_ATTR.OUTPPS]!, inBps: v[IPVS_STATS_ATTR.INBPS]!, outBps: v[IPVS_STATS_ATTR.OUTBPS]!,
  };
}

/** The kernel sends addresses as a 16-byte union; an IPv4 one is its first four bytes. */
function addressAt(buf: Buffer, o: number, family: Family, what: string): string {
  const p = sized(buf, o, family === 4 ? 4 : 16, what);
  return family === 4 ? `${buf[p]}.${buf[p + 1]}.${buf[p + 2]}.${buf[p + 3]}` : inetNtop(buf.subarray(p, p + 16));
}

export function forwardOf(fwd: number): ForwardMethod {
  switch (fwd & IP_VS_CONN_F_FWD_MASK) {
    case IP_VS_CONN_F.LOCALNODE:
      return 'local';
    case IP_VS_CONN_F.TUNNEL:
      return 'tunnel';
    case IP_VS_CONN_F.DROUTE:
      return 'droute';
    case IP_VS_CONN_F.BYPASS:
      return 'bypass';
    default:
      return 'masq';
  }
}

/** A GET_SERVICE reply's top-level attributes → the service. */
export function decodeService(buf: Buffer, start = 0, end = buf.length): ServiceEntry {
  const what = 'a service';
  const svc = findNested(buf, start, end, IPVS_CMD_ATTR.SERVICE, what);
  if (!svc) throw decodeError(what);
  let af = -1, protocol = -1, addr = -1, port = -1, fwmark = 0, sched = -1, flags = -1, timeoutS = -1, mask = -1, stats = -1, pe = -1;
  for (let o = svc.at; o + NLA_HDRLEN <= svc.end; ) {
    const len = attrLength(buf, o, svc.at, svc.end, what);
    switch (buf.readUInt16LE(o + 2) & NLA_TYPE_MASK) {
      case IPVS_SVC_ATTR.AF: af = buf.readUInt16LE(sized(buf, o, 2, what)); break;
      case IPVS_SVC_ATTR.PROTOCOL: protocol = buf.readUInt16LE(sized(buf, o, 2, what)); break;
      case IPVS_SVC_ATTR.ADDR: addr = o; break;
      case IPVS_SVC_ATTR.PORT: port = buf.readUInt16BE(sized(buf, o, 2, what)); break;
      case IPVS_SVC_ATTR.FWMARK: fwmark = buf.readUInt32LE(sized(buf, o, 4, what)); break;
      case IPVS_SVC_ATTR.SCHED_NAME: sched = o; break;
      case IPVS_SVC_ATTR.FLAGS: flags = buf.readUInt32LE(sized(buf, o, 4, what)); break;
      case IPVS_SVC_ATTR.TIMEOUT: timeoutS = buf.readUInt32LE(sized(buf, o, 4, what)); break;
      case IPVS_SVC_ATTR.NETMASK: mask = o; break;
      case IPVS_SVC_ATTR.STATS64: stats = o; break;
      case IPVS_SVC_ATTR.PE_NAME: pe = o; break;
    }
    o += nlaAlign(len);
  }
  const family = familyOf(af);
  if (!family || sched < 0 || flags < 0 || timeoutS < 0 || mask < 0 || buf.readUInt16LE(mask) !== NLA_HDRLEN + 4) throw decodeError(what);
  let id: ServiceId;
  if (fwmark !== 0) id = { kind: 'fwmark', family, mark: fwmark };
  else {
    const proto = PROTOCOL_NAMES[protocol];
    if (!proto || addr < 0 || port < 0) throw decodeError('a service address');
    id = { kind: 'addr', family, protocol: proto, address: addressAt(buf, addr, family, what), port };
  }
  const m = mask + NLA_HDRLEN;
  const peName = pe < 0 ? '' : stringOf(buf, pe);
  const entry: { -readonly [K in keyof ServiceEntry]: ServiceEntry[K] } = {
    id,
    scheduler: stringOf(buf, sched),
    flags: {
      persistent: (flags & IP_VS_SVC_F.PERSISTENT) !== 0,
      onePacket: (flags & IP_VS_SVC_F.ONEPACKET) !== 0,
      shFallback: (flags & IP_VS_SVC_F.SCHED1) !== 0,
      shPort: (flags & IP_VS_SVC_F.SCHED2) !== 0,
      schedFlag3: (flags & IP_VS_SVC_F.SCHED3) !== 0,
    },
    timeoutS,
    netmask: family === 4 ? `${buf[m]}.${buf[m + 1]}.${buf[m + 2]}.${buf[m + 3]}` : String(buf.readUInt32LE(m)),
    stats: stats < 0 ? ZERO_STATS : statsAt(buf, stats + NLA_HDRLEN, stats + buf.readUInt16LE(stats), what),
  };
  if (peName) entry.pe = peName;
  return entry;
}

/**
 * A GET_DEST reply's fields as numbers, read in place (decodeDest and the listing's DestinationRows share it): the
 * address and counters stay where they are, as attribute offsets into the reply.
 */
export interface DestFields {
  /** Offset of the ADDR attribute. */
  addr: number;
  family: Family;
  port: number;
  fwd: number;
  weight: number;
  upper: number;
  lower: number;
  active: number;
  inactive: number;
  persist: number;
  /** Offset of the STATS64 attribute, -1 without one. */
  stats: number;
  tunType: number;
  tunPort: number;
  tunFlags: number;
}

/** One reused object: a listing reads 100,000 destinations, and nothing keeps a DestFields past the call. */
const FIELDS: DestFields = { addr: -1, family: 4, port: -1, fwd: -1, weight: 0, upper: 0, lower: 0, active: 0, inactive: 0, persist: 0, stats: -1, tunType: 0, tunPort: 0, tunFlags: 0 };

/** A GET_DEST reply's top-level attributes → its fields (valid until the next call); `serviceFamily` when the kernel omits ADDR_FAMILY. */
export function readDest(buf: Buffer, serviceFamily: Family, start = 0, end = buf.length): DestFields {
  const what = 'a destination';
  const dst = findNested(buf, start, end, IPVS_CMD_ATTR.DEST, what);
  if (!dst) throw decodeError(what);
  let addr = -1, port = -1, fwd = -1, weight = 0, hasWeight = false, upper = 0, lower = 0, active = 0, inactive = 0, persist = 0;
  let af = -1, stats = -1, tunType = 0, tunPort = 0, tunFlags = 0;
  for (let o = dst.at; o + NLA_HDRLEN <= dst.end; ) {
    const len = attrLength(buf, o, dst.at, dst.end, what);
    switch (buf.readUInt16LE(o + 2) & NLA_TYPE_MASK) {
      case IPVS_DEST_ATTR.ADDR: addr = o; break;
      case IPVS_DEST_ATTR.PORT: port = buf.readUInt16BE(sized(buf, o, 2, what)); break;
      case IPVS_DEST_ATTR.FWD_METHOD: fwd = buf.readUInt32LE(sized(buf, o, 4, what)); break;
      case IPVS_DEST_ATTR.WEIGHT: weight = buf.readInt32LE(sized(buf, o, 4, what)); hasWeight = true; break;
      case IPVS_DEST_ATTR.U_THRESH: upper = buf.readUInt32LE(sized(buf, o, 4, what)); break;
      case IPVS_DEST_ATTR.L_THRESH: lower = buf.readUInt32LE(sized(buf, o, 4, what)); break;
      case IPVS_DEST_ATTR.ACTIVE_CONNS: active = buf.readUInt32LE(sized(buf, o, 4, what)); break;
      case IPVS_DEST_ATTR.INACT_CONNS: inactive = buf.readUInt32LE(sized(buf, o, 4, what)); break;
      case IPVS_DEST_ATTR.PERSIST_CONNS: persist = buf.readUInt32LE(sized(buf, o, 4, what)); break;
      case IPVS_DEST_ATTR.ADDR_FAMILY: af = buf.readUInt16LE(sized(buf, o, 2, what)); break;
      case IPVS_DEST_ATTR.STATS64: stats = o; break;
      case IPVS_DEST_ATTR.TUN_TYPE: tunType = buf[sized(buf, o, 1, what)]!; break;
      case IPVS_DEST_ATTR.TUN_PORT: tunPort = buf.readUInt16BE(sized(buf, o, 2, what)); break;
      case IPVS_DEST_ATTR.TUN_FLAGS: tunFlags = buf.readUInt16LE(sized(buf, o, 2, what)); break;
    }
    o += nlaAlign(len);
  }
  if (addr < 0 || port < 0 || fwd < 0 || !hasWeight) throw decodeError(what);
  const family = familyOf(af) ?? serviceFamily;
  sized(buf, addr, family === 4 ? 4 : 16, what);
  const f = FIELDS;
  f.addr = addr; f.family = family; f.port = port; f.fwd = fwd; f.weight = weight; f.upper = upper; f.lower = lower;
  f.active = active; f.inactive = inactive; f.persist = persist; f.stats = stats; f.tunType = tunType; f.tunPort = tunPort; f.tunFlags = tunFlags;
  return f;
}

/** The counters of readDest's fields (one shared all-zero object when there is no traffic). */
export function destStats(buf: Buffer, f: DestFields): IpvsStats {
  return f.stats < 0 ? ZERO_STATS : statsAt(buf, f.stats + NLA_HDRLEN, f.stats + buf.readUInt16LE(f.stats), 'a destination');
}

/** A GET_DEST reply's top-level attributes → the destination; `serviceFamily` when the kernel omits ADDR_FAMILY. */
export function decodeDest(buf: Buffer, serviceFamily: Family, start = 0, end = buf.length): DestinationEntry {
  const f = readDest(buf, serviceFamily, start, end);
  const forward = forwardOf(f.fwd);
  const entry: { -readonly [K in keyof DestinationEntry]: DestinationEntry[K] } = {
    address: addressAt(buf, f.addr, f.family, 'a destination'),
    family: f.family,
    port: f.port,
    forward,
    weight: f.weight,
    upperThreshold: f.upper,
    lowerThreshold: f.lower,
    activeConns: f.active,
    inactiveConns: f.inactive,
    persistConns: f.persist,
    stats: destStats(buf, f),
  };
  if (forward === 'tunnel') {
    const csum = f.tunFlags & IP_VS_TUNNEL_ENCAP_FLAG.REMCSUM ? 'remote' : f.tunFlags & IP_VS_TUNNEL_ENCAP_FLAG.CSUM ? 'checksum' : 'none';
    entry.tunnel = { type: TUNNEL_TYPES[f.tunType] ?? 'ipip', ...(f.tunPort ? { port: f.tunPort } : {}), ...(csum !== 'none' ? { csum } : {}) };
  }
  return entry;
}

function attrsError(a: Attrs, what: string): IpvsError {
  return decodeError(what, a.error ?? 'missing attributes');
}

export interface IpvsInfo {
  /** e.g. "1.2.1" */
  readonly version: string;
  readonly connTableSize: number;
}

export function decodeInfo(a: Attrs): IpvsInfo {
  const v = a.u32(IPVS_INFO_ATTR.VERSION);
  const size = a.u32(IPVS_INFO_ATTR.CONN_TAB_SIZE);
  if (v === undefined || size === undefined || a.error) throw attrsError(a, 'IPVS info');
  return { version: `${(v >> 16) & 0xff}.${(v >> 8) & 0xff}.${v & 0xff}`, connTableSize: size };
}

export function decodeConfig(a: Attrs): IpvsTimeouts {
  const t = { tcp: a.u32(IPVS_CMD_ATTR.TIMEOUT_TCP), tcpFin: a.u32(IPVS_CMD_ATTR.TIMEOUT_TCP_FIN), udp: a.u32(IPVS_CMD_ATTR.TIMEOUT_UDP) };
  if (t.tcp === undefined || t.tcpFin === undefined || t.udp === undefined || a.error) throw attrsError(a, 'IPVS timeouts');
  return { tcp: t.tcp, tcpFin: t.tcpFin, udp: t.udp };
}

/** One GET_DAEMON reply message (one per running daemon). */
export function decodeDaemon(top: Attrs): SyncDaemon {
  const a = top.nested(IPVS_CMD_ATTR.DAEMON);
  const state = a?.u32(IPVS_DAEMON_ATTR.STATE);
  const ifn = a?.string(IPVS_DAEMON_ATTR.MCAST_IFN);
  const syncId = a?.u32(IPVS_DAEMON_ATTR.SYNC_ID);
  if (!a || state === undefined || ifn === undefined || syncId === undefined || a.error) throw attrsError(top, 'a sync daemon');
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

