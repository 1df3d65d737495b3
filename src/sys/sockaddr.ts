// struct sockaddr_* encoders and decoders. Multi-byte fields marked "host order" in the uapi headers are
// little-endian on every target this project runs on (x86-64, arm64); ports and addresses are network order.
import { AF_INET, AF_INET6, AF_NETLINK, AF_PACKET } from './constants.ts';
import { inetNtop, inetPton } from './inet.ts';

export interface SockaddrIn { readonly family: 4; readonly address: string; readonly port: number }
export interface SockaddrIn6 {
  readonly family: 6;
  readonly address: string;
  readonly port: number;
  readonly flowinfo?: number;
  /** Interface index for link-local addresses. */
  readonly scopeId?: number;
}
export interface SockaddrNl { readonly family: 'netlink'; readonly pid: number; readonly groups: number }
export interface SockaddrLl {
  readonly family: 'packet';
  /** Ethertype, e.g. ETH_P_ARP. */
  readonly protocol: number;
  readonly ifindex: number;
  readonly hatype?: number;
  readonly pkttype?: number;
  /** Link-layer address bytes (up to 8), e.g. the destination MAC when sending. */
  readonly addr?: Uint8Array;
}
export type Sockaddr = SockaddrIn | SockaddrIn6 | SockaddrNl | SockaddrLl;

/** Bytes large enough for any address this module decodes (sizeof struct sockaddr_storage). */
export const SOCKADDR_CAPACITY = 128;

export function encodeSockaddr(sa: Sockaddr): Buffer {
  switch (sa.family) {
    case 4: {
      const b = Buffer.alloc(16);
      b.writeUInt16LE(AF_INET, 0);
      b.writeUInt16BE(sa.port, 2);
      b.set(inetPton4(sa.address), 4);
      return b;
    }
    case 6: {
      const b = Buffer.alloc(28);
      b.writeUInt16LE(AF_INET6, 0);
      b.writeUInt16BE(sa.port, 2);
      b.writeUInt32BE(sa.flowinfo ?? 0, 4);
      const bytes = inetPton(sa.address);
      if (bytes.length !== 16) throw new TypeError(`not an IPv6 address: ${sa.address}`);
      b.set(bytes, 8);
      b.writeUInt32LE(sa.scopeId ?? 0, 24);
      return b;
    }
    case 'netlink': {
      const b = Buffer.alloc(12);
      b.writeUInt16LE(AF_NETLINK, 0);
      b.writeUInt32LE(sa.pid, 4);
      b.writeUInt32LE(sa.groups, 8);
      return b;
    }
    case 'packet': {
      const b = Buffer.alloc(20);
      const addr = sa.addr ?? new Uint8Array();
      if (addr.length > 8) throw new RangeError('sockaddr_ll address is at most 8 bytes');
      b.writeUInt16LE(AF_PACKET, 0);
      b.writeUInt16BE(sa.protocol, 2);
      b.writeInt32LE(sa.ifindex, 4);
      b.writeUInt16LE(sa.hatype ?? 0, 8);
      b.writeUInt8(sa.pkttype ?? 0, 10);
      b.writeUInt8(addr.length, 11);
      b.set(addr, 12);
      return b;
    }
  }
}

/** Decodes what recvmsg/getsockname returned; undefined for an empty or unknown address. */
export function decodeSockaddr(bytes: Uint8Array): Sockaddr | undefined {
  if (bytes.length < 2) return undefined;
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const family = b.readUInt16LE(0);
  if (family === AF_INET && b.length >= 8) {
    return { family: 4, port: b.readUInt16BE(2), address: inetNtop(b.subarray(4, 8)) };
  }
  if (family === AF_INET6 && b.length >= 24) {
    return {
      family: 6,
      port: b.readUInt16BE(2),
      flowinfo: b.readUInt32BE(4),
      address: inetNtop(b.subarray(8, 24)),
      scopeId: b.length >= 28 ? b.readUInt32LE(24) : 0,
    };
  }
  if (family === AF_NETLINK && b.length >= 12) return { family: 'netlink', pid: b.readUInt32LE(4), groups: b.readUInt32LE(8) };
  if (family === AF_PACKET && b.length >= 12) {
    const halen = Math.min(b.readUInt8(11), 8, Math.max(0, b.length - 12));
    return {
      family: 'packet',
      protocol: b.readUInt16BE(2),
      ifindex: b.readInt32LE(4),
      hatype: b.readUInt16LE(8),
      pkttype: b.readUInt8(10),
      addr: Buffer.from(b.subarray(12, 12 + halen)),
    };
  }
  return undefined;
}

function inetPton4(address: string): Buffer {
  const bytes = inetPton(address);
  if (bytes.length !== 4) throw new TypeError(`not an IPv4 address: ${address}`);
  return bytes;
}
