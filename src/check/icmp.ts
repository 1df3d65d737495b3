// ICMP (RFC 792) and ICMPv6 (RFC 4443) echo messages for PING_CHECK: the request sent, and the test a received
// packet must pass to be the reply to it.

const ECHO_REPLY = 0;
const ECHO_REQUEST = 8;
const ECHO_REPLY_V6 = 129;
const ECHO_REQUEST_V6 = 128;
const HEADER = 8;

export interface Echo {
  readonly id: number;
  readonly sequence: number;
}

/**
 * An echo request. The IPv4 checksum is computed here; an ICMPv6 checksum covers the IPv6 pseudo-header, which
 * only the kernel knows, and Linux fills it in for every ICMPv6 socket.
 */
export function echoRequest(family: 4 | 6, echo: Echo, payload: Uint8Array): Buffer {
  const b = Buffer.alloc(HEADER + payload.length);
  b[0] = family === 4 ? ECHO_REQUEST : ECHO_REQUEST_V6;
  b.writeUInt16BE(echo.id, 4);
  b.writeUInt16BE(echo.sequence, 6);
  b.set(payload, HEADER);
  if (family === 4) b.writeUInt16BE(checksum(b), 2);
  return b;
}

/**
 * The id and sequence of an echo reply, or undefined for anything else (our own request looped back, other
 * ICMP). Raw IPv4 sockets deliver the IP header in front of the message; no other ICMP socket does.
 */
export function echoReply(family: 4 | 6, packet: Uint8Array, withIpHeader: boolean): Echo | undefined {
  const b = Buffer.from(packet.buffer, packet.byteOffset, packet.length);
  const at = withIpHeader ? (b[0]! & 0x0f) * 4 : 0;
  if (b.length < at + HEADER) return undefined;
  if (b[at] !== (family === 4 ? ECHO_REPLY : ECHO_REPLY_V6) || b[at + 1] !== 0) return undefined;
  return { id: b.readUInt16BE(at + 4), sequence: b.readUInt16BE(at + 6) };
}

/** The Internet checksum (RFC 1071) of a message whose checksum field is zero. */
export function checksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (b.length % 2 === 1) sum += b[b.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
