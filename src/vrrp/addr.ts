// IP address text <-> bytes for the VRRP wire format. The config model keeps addresses as canonical strings
// (IPv6 compressed, lower case); adverts carry them as raw bytes.
import { isIPv4, isIPv6, SocketAddress } from 'node:net';
import type { Family } from '../config/model.ts';

export function familyOf(address: string): Family {
  if (isIPv4(address)) return 4;
  if (isIPv6(address)) return 6;
  throw new RangeError(`not an IP address: ${address}`);
}

export function addrToBytes(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  if (!isIPv6(address)) throw new RangeError(`not an IP address: ${address}`);
  let text = address;
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4tail?.[1] !== undefined) {
    const b = addrToBytes(v4tail[1]);
    text = text.slice(0, -v4tail[1].length) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export function bytesToAddr(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.length !== 16) throw new RangeError(`address of ${bytes.length} bytes`);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // SocketAddress normalizes to the RFC 5952 compressed form the config model uses.
  return new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}

/** Numeric comparison of two addresses of one family (the RFC's "higher primary address wins" tie-break). */
export function compareAddr(a: string, b: string): number {
  return Buffer.compare(addrToBytes(a), addrToBytes(b));
}
