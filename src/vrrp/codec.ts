// VRRP advertisement wire format: VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798), with the receive checks both RFCs
// require. Drop reasons use keepalived's counter names so operators can compare statistics side by side.
import type { Family } from '../config/model.ts';
import { addrToBytes, bytesToAddr } from './addr.ts';

export const VRRP_PROTO = 112;
export const VRRP_TTL = 255;
export const HEADER_LEN = 8;
export const AUTH_LEN = 8;

export const AUTH_NONE = 0;
export const AUTH_PASS = 1;
export const AUTH_AH = 2;

/** Every reason an advert is dropped (or, for addr_list_err / pri_zero_rcvd, noted), named as keepalived counts them. */
export const DROP_REASONS = [
  'packet_len_err',
  'ip_ttl_err',
  'vers_err',
  'invalid_type_rcvd',
  'chk_err',
  'vrid_err',
  'invalid_authtype',
  'authtype_mismatch',
  'auth_failure',
  'advert_interval_err',
  'addr_list_err',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface Advert {
  readonly version: 2 | 3;
  readonly vrid: number;
  readonly priority: number;
  /** v2: whole seconds on the wire; v3: centiseconds. Kept in milliseconds here. */
  readonly intervalMs: number;
  readonly family: Family;
  readonly addresses: readonly string[];
  /** v2 only. */
  readonly authType: number;
  /** v2 only: the 8 authentication octets. */
  readonly authData: Buffer;
}

/** Addresses of the IP header around the advert: the VRRPv3 checksum covers them through the pseudo-header. */
export interface PseudoHeader {
  readonly src: string;
  readonly dst: string;
}

export type Decoded = { readonly ok: true; readonly advert: Advert } | { readonly ok: false; readonly reason: DropReason; readonly detail: string };

/** The 8 octets a v2 PASS advert carries: the password truncated or zero-padded (as keepalived). */
export function passAuthData(pass: string): Buffer {
  const out = Buffer.alloc(AUTH_LEN);
  Buffer.from(pass, 'utf8').copy(out, 0, 0, AUTH_LEN);
  return out;
}

export function encodeAdvert(a: Advert, pseudo: PseudoHeader): Buffer {
  const alen = a.family === 4 ? 4 : 16;
  const len = HEADER_LEN + a.addresses.length * alen + (a.version === 2 ? AUTH_LEN : 0);
  const buf = Buffer.alloc(len);
  buf[0] = (a.version << 4) | 1;
  buf[1] = a.vrid;
  buf[2] = a.priority;
  buf[3] = a.addresses.length;
  if (a.version === 2) {
    buf[4] = a.authType;
    buf[5] = Math.round(a.intervalMs / 1000);
    a.authData.copy(buf, HEADER_LEN + a.addresses.length * alen, 0, AUTH_LEN);
  } else {
    buf.writeUInt16BE(Math.round(a.intervalMs / 10) & 0x0fff, 4);
  }
  a.addresses.forEach((addr, i) => addrToBytes(addr).copy(buf, HEADER_LEN + i * alen));
  buf.writeUInt16BE(checksum(buf, a.version === 3 ? pseudoHeader(a.family, pseudo, len) : undefined), 6);
  return buf;
}

/** Structural checks that need no instance: length, version, type, checksum. */
export function decodeAdvert(buf: Buffer, family: Family, pseudo: PseudoHeader): Decoded {
  if (buf.length < HEADER_LEN) return drop('packet_len_err', `${buf.length} bytes is shorter than the VRRP header`);
  const version = buf[0]! >> 4;
  if (version !== 2 && version !== 3) return drop('vers_err', `version ${version}`);
  const alen = family === 4 ? 4 : 16;
  const naddr = buf[3]!;
  const expected = HEADER_LEN + naddr * alen + (version === 2 ? AUTH_LEN : 0);
  if (buf.length !== expected) {
    return drop('packet_len_err', `${buf.length} bytes but ${naddr} addresses need ${expected}`);
  }
  const type = buf[0]! & 0x0f;
  if (type !== 1) return drop('invalid_type_rcvd', `type ${type}`);
  const sum = checksum(buf, version === 3 ? pseudoHeader(family, pseudo, buf.length) : undefined);
  if (sum !== 0) return drop('chk_err', `bad v${version} checksum 0x${buf.readUInt16BE(6).toString(16)}`);
  const addresses: string[] = [];
  for (let i = 0; i < naddr; i++) addresses.push(bytesToAddr(buf.subarray(HEADER_LEN + i * alen, HEADER_LEN + (i + 1) * alen)));
  const v2 = version === 2;
  return {
    ok: true,
    advert: {
      version,
      vrid: buf[1]!,
      priority: buf[2]!,
      intervalMs: v2 ? buf[5]! * 1000 : (buf.readUInt16BE(4) & 0x0fff) * 10,
      family,
      addresses,
      authType: v2 ? buf[4]! : AUTH_NONE,
      authData: v2 ? Buffer.from(buf.subarray(expected - AUTH_LEN)) : Buffer.alloc(0),
    },
  };
}

/** What one instance expects of the adverts for its VRID. */
export interface Expectation {
  readonly version: 2 | 3;
  readonly vrid: number;
  readonly intervalMs: number;
  readonly addresses: readonly string[];
  readonly authType: number;
  readonly authData: Buffer;
  /** Unicast instances do not require TTL 255 (peers may be routed), as keepalived. */
  readonly unicast: boolean;
}

export type Checked =
  | { readonly ok: true; readonly notes: readonly ('addr_list_err' | 'pri_zero_rcvd')[] }
  | { readonly ok: false; readonly reason: DropReason; readonly detail: string };

/**
 * The per-instance checks, in keepalived's order. An address list that differs from ours is counted but the advert
 * is still used (RFC 5798 7.1 only asks to log it), as keepalived does.
 */
export function checkAdvert(a: Advert, ttl: number | undefined, e: Expectation): Checked {
  if (a.vrid !== e.vrid) return drop('vrid_err', `VRID ${a.vrid}, expected ${e.vrid}`);
  if (!e.unicast && ttl !== undefined && ttl !== VRRP_TTL) return drop('ip_ttl_err', `TTL/hop limit ${ttl}, expected 255`);
  if (a.version !== e.version) return drop('vers_err', `version ${a.version}, expected ${e.version}`);
  if (a.version === 2) {
    if (a.authType === AUTH_AH) return drop('invalid_authtype', 'IPSEC-AH authentication is not supported');
    if (a.authType !== AUTH_NONE && a.authType !== AUTH_PASS) return drop('invalid_authtype', `auth type ${a.authType}`);
    if (a.authType !== e.authType) return drop('authtype_mismatch', `auth type ${a.authType}, expected ${e.authType}`);
    if (a.authType === AUTH_PASS && !a.authData.equals(e.authData)) return drop('auth_failure', 'wrong password');
    if (a.intervalMs !== e.intervalMs) return drop('advert_interval_err', `advert interval ${a.intervalMs} ms, ours ${e.intervalMs} ms`);
  }
  const notes: ('addr_list_err' | 'pri_zero_rcvd')[] = [];
  const mine = new Set(e.addresses);
  if (a.addresses.length !== e.addresses.length || !a.addresses.every((x) => mine.has(x))) notes.push('addr_list_err');
  if (a.priority === 0) notes.push('pri_zero_rcvd');
  return { ok: true, notes };
}

function drop(reason: DropReason, detail: string): { ok: false; reason: DropReason; detail: string } {
  return { ok: false, reason, detail };
}

function pseudoHeader(family: Family, p: PseudoHeader, len: number): Buffer {
  if (family === 4) {
    const h = Buffer.alloc(12);
    addrToBytes(p.src).copy(h, 0);
    addrToBytes(p.dst).copy(h, 4);
    h[9] = VRRP_PROTO;
    h.writeUInt16BE(len, 10);
    return h;
  }
  const h = Buffer.alloc(40);
  addrToBytes(p.src).copy(h, 0);
  addrToBytes(p.dst).copy(h, 16);
  h.writeUInt32BE(len, 32);
  h[39] = VRRP_PROTO;
  return h;
}

/** RFC 1071 one's-complement sum; 0 when verifying a buffer whose checksum field is right. */
export function checksum(buf: Uint8Array, prefix?: Uint8Array): number {
  let sum = 0;
  for (const part of prefix === undefined ? [buf] : [prefix, buf]) {
    for (let i = 0; i + 1 < part.length; i += 2) sum += (part[i]! << 8) | part[i + 1]!;
    if (part.length % 2 === 1) sum += part[part.length - 1]! << 8;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The parts of a received IPv4 header the receive path needs (raw IPv4 sockets deliver the header). */
export interface Ipv4Info {
  readonly src: string;
  readonly dst: string;
  readonly ttl: number;
  readonly protocol: number;
  readonly payload: Buffer;
}

export function parseIpv4(buf: Buffer): Ipv4Info | undefined {
  if (buf.length < 20 || buf[0]! >> 4 !== 4) return undefined;
  const ihl = (buf[0]! & 0x0f) * 4;
  const total = buf.readUInt16BE(2);
  if (ihl < 20 || total < ihl || total > buf.length) return undefined;
  return {
    src: bytesToAddr(buf.subarray(12, 16)),
    dst: bytesToAddr(buf.subarray(16, 20)),
    ttl: buf[8]!,
    protocol: buf[9]!,
    payload: buf.subarray(ihl, total),
  };
}
