// nlmsghdr framing: encode one message, split a received datagram into messages, and parse NLMSG_ERROR /
// NLMSG_DONE payloads including extended-ACK TLVs (the kernel's error text).
//
// struct nlmsghdr { u32 len; u16 type; u16 flags; u32 seq; u32 pid; } — host order, 16 bytes, each message
// padded to 4 bytes.
import { decodeAttrs } from './attributes.ts';

export const NLMSG_HDRLEN = 16;
export const nlmsgAlign = (n: number): number => (n + 3) & ~3;

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;
/** Types below this are netlink control messages. */
export const NLMSG_MIN_TYPE = 0x10;

export const NLM_F_REQUEST = 0x01;
export const NLM_F_MULTI = 0x02;
export const NLM_F_ACK = 0x04;
export const NLM_F_ECHO = 0x08;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_DUMP_FILTERED = 0x20;
// GET requests
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
// NEW requests
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_APPEND = 0x800;
// ACK flags
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;

export const NLMSGERR_ATTR_MSG = 1;
export const NLMSGERR_ATTR_OFFS = 2;
export const NLMSGERR_ATTR_COOKIE = 3;
export const NLMSGERR_ATTR_POLICY = 4;
export const NLMSGERR_ATTR_MISS_TYPE = 5;
export const NLMSGERR_ATTR_MISS_NEST = 6;

export interface NetlinkMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
  /** Bytes after the header (family header + attributes). */
  readonly payload: Buffer;
}

export function encodeMessage(m: { type: number; flags: number; seq: number; pid?: number; payload: Uint8Array }): Buffer {
  const len = NLMSG_HDRLEN + m.payload.length;
  const out = Buffer.alloc(nlmsgAlign(len));
  writeHeader(out, 0, len, m.type, m.flags, m.seq, m.pid ?? 0);
  out.set(m.payload, NLMSG_HDRLEN);
  return out;
}

export function writeHeader(out: Buffer, off: number, len: number, type: number, flags: number, seq: number, pid: number): void {
  out.writeUInt32LE(len, off);
  out.writeUInt16LE(type, off + 4);
  out.writeUInt16LE(flags, off + 6);
  out.writeUInt32LE(seq >>> 0, off + 8);
  out.writeUInt32LE(pid >>> 0, off + 12);
}

export interface DecodedMessages {
  readonly messages: NetlinkMessage[];
  /** Set when the datagram held a malformed header; messages before it are still returned. */
  readonly error?: string;
}

/** Splits one received datagram into its messages (payloads are views into `buf`). */
export function decodeMessages(buf: Buffer): DecodedMessages {
  const messages: NetlinkMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) return { messages, error: malformedAt(buf, off, 0, buf.length) };
    messages.push(messageAt(buf, off, len));
    off += nlmsgAlign(len);
  }
  return { messages };
}

/** The message of `len` bytes at `off` (its payload a view into `buf`). */
export function messageAt(buf: Buffer, off: number, len: number): NetlinkMessage {
  return {
    type: buf.readUInt16LE(off + 4),
    flags: buf.readUInt16LE(off + 6),
    seq: buf.readUInt32LE(off + 8),
    pid: buf.readUInt32LE(off + 12),
    payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
  };
}

/** Why the header at `off` cannot be a message of the datagram buf[start, end). */
export function malformedAt(buf: Buffer, off: number, start: number, end: number): string {
  return `malformed netlink message at offset ${off - start} (length ${buf.readUInt32LE(off)}, ${end - off} bytes left)`;
}

export interface ExtAck {
  /** The kernel's human-readable reason (NLMSGERR_ATTR_MSG). */
  readonly message?: string;
  /** Byte offset of the offending attribute within the request (NLMSGERR_ATTR_OFFS). */
  readonly offset?: number;
  /** Type of a missing mandatory attribute (NLMSGERR_ATTR_MISS_TYPE). */
  readonly missingType?: number;
}

export interface ErrorPayload {
  /** 0 for an ACK, otherwise a positive errno. */
  readonly errno: number;
  /** The header of the request this answers. */
  readonly request: { readonly len: number; readonly type: number; readonly flags: number; readonly seq: number; readonly pid: number };
  readonly extack: ExtAck;
}

/** Parses struct nlmsgerr (+ echoed request unless NLM_F_CAPPED, + TLVs when NLM_F_ACK_TLVS). */
export function decodeError(msg: NetlinkMessage): ErrorPayload | undefined {
  const p = msg.payload;
  if (p.length < 4 + NLMSG_HDRLEN) return undefined;
  const errno = -p.readInt32LE(0) | 0;
  const request = {
    len: p.readUInt32LE(4),
    type: p.readUInt16LE(8),
    flags: p.readUInt16LE(10),
    seq: p.readUInt32LE(12),
    pid: p.readUInt32LE(16),
  };
  let tlvStart = 4 + NLMSG_HDRLEN;
  if (!(msg.flags & NLM_F_CAPPED)) tlvStart = 4 + nlmsgAlign(Math.max(request.len, NLMSG_HDRLEN));
  const extack = msg.flags & NLM_F_ACK_TLVS && tlvStart <= p.length ? decodeExtAck(p.subarray(tlvStart)) : {};
  return { errno, request, extack };
}

/** NLMSG_DONE carries an int status (negative errno when the dump failed) and, with NLM_F_ACK_TLVS, extack. */
export function decodeDone(msg: NetlinkMessage): { errno: number; extack: ExtAck } {
  const p = msg.payload;
  const errno = p.length >= 4 ? -p.readInt32LE(0) | 0 : 0;
  return { errno, extack: msg.flags & NLM_F_ACK_TLVS && p.length > 4 ? decodeExtAck(p.subarray(4)) : {} };
}

function decodeExtAck(tlvs: Buffer): ExtAck {
  const a = decodeAttrs(tlvs);
  const out: { message?: string; offset?: number; missingType?: number } = {};
  const message = a.string(NLMSGERR_ATTR_MSG);
  const offset = a.u32(NLMSGERR_ATTR_OFFS);
  const missingType = a.u32(NLMSGERR_ATTR_MISS_TYPE);
  if (message !== undefined) out.message = message;
  if (offset !== undefined) out.offset = offset;
  if (missingType !== undefined) out.missingType = missingType;
  return out;
}
