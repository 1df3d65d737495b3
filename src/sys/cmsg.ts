// Ancillary data (struct cmsghdr lists) for sendmsg/recvmsg, laid out for 64-bit Linux: an 8-byte cmsg_len,
// int level, int type, then data, each element padded to CMSG_ALIGN (8 bytes).
import { IP_PKTINFO, IP_TTL, IPV6_HOPLIMIT, IPV6_PKTINFO, SOL_IP, SOL_IPV6 } from './constants.ts';
import { inetNtop, inetPton } from './inet.ts';

export interface Cmsg {
  readonly level: number;
  readonly type: number;
  readonly data: Buffer;
}

const HDR = 16;
export const cmsgAlign = (n: number): number => (n + 7) & ~7;
export const cmsgSpace = (dataLength: number): number => HDR + cmsgAlign(dataLength);

export function encodeCmsgs(list: readonly Cmsg[]): Buffer {
  const out = Buffer.alloc(list.reduce((n, c) => n + cmsgSpace(c.data.length), 0));
  let off = 0;
  for (const c of list) {
    out.writeBigUInt64LE(BigInt(HDR + c.data.length), off);
    out.writeInt32LE(c.level, off + 8);
    out.writeInt32LE(c.type, off + 12);
    out.set(c.data, off + HDR);
    off += cmsgSpace(c.data.length);
  }
  return out;
}

/** Decodes a control buffer; a malformed tail (bad cmsg_len) ends the list rather than throwing. */
export function decodeCmsgs(buf: Uint8Array): Cmsg[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const out: Cmsg[] = [];
  let off = 0;
  while (off + HDR <= b.length) {
    const len = Number(b.readBigUInt64LE(off));
    if (len < HDR || off + len > b.length) break;
    out.push({ level: b.readInt32LE(off + 8), type: b.readInt32LE(off + 12), data: Buffer.from(b.subarray(off + HDR, off + len)) });
    off += cmsgAlign(len);
  }
  return out;
}

/** What IP_PKTINFO/IP_RECVTTL (IPv4) and IPV6_RECVPKTINFO/IPV6_RECVHOPLIMIT (IPv6) report for a datagram. */
export interface PacketInfo {
  /** Interface the packet arrived on. */
  readonly ifindex?: number;
  /** Destination address of the packet (e.g. the multicast group). */
  readonly destination?: string;
  /** IPv4 TTL or IPv6 hop limit. */
  readonly ttl?: number;
}

export function decodePacketInfo(list: readonly Cmsg[]): PacketInfo {
  let info: { ifindex?: number; destination?: string; ttl?: number } = {};
  for (const c of list) {
    if (c.level === SOL_IP && c.type === IP_PKTINFO && c.data.length >= 12) {
      info = { ...info, ifindex: c.data.readInt32LE(0), destination: inetNtop(c.data.subarray(8, 12)) };
    } else if (c.level === SOL_IPV6 && c.type === IPV6_PKTINFO && c.data.length >= 20) {
      info = { ...info, destination: inetNtop(c.data.subarray(0, 16)), ifindex: c.data.readUInt32LE(16) };
    } else if ((c.level === SOL_IP && c.type === IP_TTL) || (c.level === SOL_IPV6 && c.type === IPV6_HOPLIMIT)) {
      if (c.data.length >= 4) info = { ...info, ttl: c.data.readInt32LE(0) };
      else if (c.data.length >= 1) info = { ...info, ttl: c.data.readUInt8(0) };
    }
  }
  return info;
}

/** IP_PKTINFO / IPV6_PKTINFO for sendmsg: choose the source address and/or outgoing interface. */
export function pktinfoCmsg(family: 4 | 6, source: string | undefined, ifindex = 0): Cmsg {
  if (family === 4) {
    const data = Buffer.alloc(12);
    data.writeInt32LE(ifindex, 0);
    if (source) data.set(inetPton(source), 4);
    return { level: SOL_IP, type: IP_PKTINFO, data };
  }
  const data = Buffer.alloc(20);
  if (source) data.set(inetPton(source), 0);
  data.writeUInt32LE(ifindex, 16);
  return { level: SOL_IPV6, type: IPV6_PKTINFO, data };
}
