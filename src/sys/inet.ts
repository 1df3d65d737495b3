// Textual IPv4/IPv6 addresses <-> network-order bytes (inet_pton / inet_ntop). Output is canonical: IPv6 per
// RFC 5952 (lower case, longest zero run compressed), matching the config model's canonical form.
import { isIPv4, isIPv6 } from 'node:net';

export type InetFamily = 4 | 6;

export function inetFamily(address: string): InetFamily | undefined {
  return isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
}

export function inetPton(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  if (!isIPv6(address)) throw new TypeError(`not an IP address: ${JSON.stringify(address)}`);
  const out = Buffer.alloc(16);
  let text = address.split('%')[0] ?? '';
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    out.set(inetPton(v4[1]), 12);
    text = text.slice(0, -v4[1].length) + '0:0';
  }
  const [head = '', tail] = text.split('::');
  const words = (s: string): number[] => (s === '' ? [] : s.split(':').map((w) => parseInt(w, 16)));
  const left = words(head);
  const right = tail === undefined ? [] : words(tail);
  const all = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  all.forEach((w, i) => {
    if (i < 6 || !v4) out.writeUInt16BE(w, i * 2);
  });
  return out;
}

export function inetNtop(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) throw new RangeError(`an IP address has 4 or 16 bytes, got ${bytes.length}`);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, 16);
  const words = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

/** A 16-bit value in network byte order, as socket(AF_PACKET, type, htons(ETH_P_…)) wants its protocol. */
/** `host:port` with IPv6 bracketed, as ipvsadm prints and URLs need: `10.0.0.1:80`, `[2001:db8::1]:80`. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export function htons(v: number): number {
  return ((v & 0xff) << 8) | ((v >> 8) & 0xff);
}
