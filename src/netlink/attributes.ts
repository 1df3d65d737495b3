// Netlink attributes (struct nlattr TLVs): a declarative encoder and a forgiving decoder.
//
// Encode: build a list of Attr values with the helpers, then encodeAttrs() writes them into one buffer with
// 4-byte alignment; nested() sets NLA_F_NESTED.
//   encodeAttrs([u16(1, 2), nested(2, [string(1, 'rr'), u32(2, 0)])])
//
// Decode: decodeAttrs() returns an Attrs view. Getters never throw: a malformed TLV or a value of the wrong
// length records the FIRST error (shared with nested views) and yields undefined, so a codec reads every field
// and checks `attrs.error` once at the end.
//   const a = decodeAttrs(buf); const af = a.u16(1); const svc = a.nested(2); if (a.error) throw ...
//
// Integers are host order (little-endian on x86-64/arm64) unless the name says be (network order).

export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;
export const NLA_HDRLEN = 4;
export const nlaAlign = (n: number): number => (n + 3) & ~3;

export interface Attr {
  /** Attribute type, possibly with NLA_F_* flag bits. */
  readonly type: number;
  /** Raw payload, or child attributes for a nested attribute. */
  readonly value: Uint8Array | readonly Attr[];
}

export const binary = (type: number, value: Uint8Array): Attr => ({ type, value });
/** A flag attribute: present with no payload. */
export const flag = (type: number): Attr => ({ type, value: EMPTY });
export const u8 = (type: number, v: number): Attr => ({ type, value: Uint8Array.of(v & 0xff) });
export const u16 = (type: number, v: number): Attr => fixed(type, 2, (b) => b.writeUInt16LE(v, 0));
export const be16 = (type: number, v: number): Attr => fixed(type, 2, (b) => b.writeUInt16BE(v, 0));
export const u32 = (type: number, v: number): Attr => fixed(type, 4, (b) => b.writeUInt32LE(v >>> 0, 0));
export const be32 = (type: number, v: number): Attr => fixed(type, 4, (b) => b.writeUInt32BE(v >>> 0, 0));
export const s32 = (type: number, v: number): Attr => fixed(type, 4, (b) => b.writeInt32LE(v, 0));
export const u64 = (type: number, v: bigint): Attr => fixed(type, 8, (b) => b.writeBigUInt64LE(v, 0));
/** A NUL-terminated string (NLA_NUL_STRING / NLA_STRING both accept the terminator). */
export const string = (type: number, v: string): Attr => ({ type, value: Buffer.from(`${v}\0`, 'utf8') });
export const nested = (type: number, children: readonly Attr[]): Attr => ({ type: type | NLA_F_NESTED, value: children });

const EMPTY = new Uint8Array(0);

function fixed(type: number, size: number, write: (b: Buffer) => void): Attr {
  const b = Buffer.allocUnsafe(size);
  write(b);
  return { type, value: b };
}

/** Encoded size of a list of attributes, padding included. */
export function attrsLength(attrs: readonly Attr[]): number {
  let n = 0;
  for (const a of attrs) n += nlaAlign(NLA_HDRLEN + payloadLength(a));
  return n;
}

function payloadLength(a: Attr): number {
  return a.value instanceof Uint8Array ? a.value.length : attrsLength(a.value);
}

export function encodeAttrs(attrs: readonly Attr[]): Buffer {
  const out = Buffer.alloc(attrsLength(attrs));
  writeAttrs(out, 0, attrs);
  return out;
}

/** Writes attributes at `offset` of a zero-filled buffer; returns the offset after them. */
export function writeAttrs(out: Buffer, offset: number, attrs: readonly Attr[]): number {
  let off = offset;
  for (const a of attrs) {
    const len = NLA_HDRLEN + payloadLength(a);
    if (len > 0xffff) throw new RangeError(`attribute ${a.type & NLA_TYPE_MASK} is too long (${len} bytes)`);
    out.writeUInt16LE(len, off);
    out.writeUInt16LE(a.type & 0xffff, off + 2);
    if (a.value instanceof Uint8Array) out.set(a.value, off + NLA_HDRLEN);
    else writeAttrs(out, off + NLA_HDRLEN, a.value);
    off += nlaAlign(len);
  }
  return off;
}

export interface RawAttr {
  /** Type without flag bits. */
  readonly type: number;
  readonly nested: boolean;
  readonly value: Buffer;
}

interface ErrorSink {
  error: string | undefined;
}

/** A decoded attribute list; see the module comment for the error convention. */
export class Attrs {
  readonly list: readonly RawAttr[];
  readonly #sink: ErrorSink;
  readonly #path: string;

  constructor(list: readonly RawAttr[], sink: ErrorSink, path: string) {
    this.list = list;
    this.#sink = sink;
    this.#path = path;
  }

  /** The first problem met while decoding this list, its nested lists, or reading any value. */
  get error(): string | undefined {
    return this.#sink.error;
  }

  /** Records a codec-level problem (e.g. a missing mandatory attribute) unless one is already recorded. */
  fail(message: string): void {
    this.#sink.error ??= this.#path ? `${this.#path}: ${message}` : message;
  }

  has(type: number): boolean {
    return this.list.some((a) => a.type === type);
  }

  /** The last attribute of that type (the kernel's nla_parse keeps the last one too). */
  get(type: number): Buffer | undefined {
    for (let i = this.list.length - 1; i >= 0; i--) if (this.list[i]!.type === type) return this.list[i]!.value;
    return undefined;
  }

  all(type: number): Buffer[] {
    return this.list.filter((a) => a.type === type).map((a) => a.value);
  }

  u8(type: number): number | undefined {
    return this.#sized(type, 1)?.readUInt8(0);
  }
  u16(type: number): number | undefined {
    return this.#sized(type, 2)?.readUInt16LE(0);
  }
  be16(type: number): number | undefined {
    return this.#sized(type, 2)?.readUInt16BE(0);
  }
  u32(type: number): number | undefined {
    return this.#sized(type, 4)?.readUInt32LE(0);
  }
  be32(type: number): number | undefined {
    return this.#sized(type, 4)?.readUInt32BE(0);
  }
  s32(type: number): number | undefined {
    return this.#sized(type, 4)?.readInt32LE(0);
  }
  u64(type: number): bigint | undefined {
    return this.#sized(type, 8)?.readBigUInt64LE(0);
  }

  /** A string up to its first NUL (or the whole payload when there is none). */
  string(type: number): string | undefined {
    const v = this.get(type);
    if (!v) return undefined;
    const nul = v.indexOf(0);
    return v.toString('utf8', 0, nul < 0 ? v.length : nul);
  }

  nested(type: number): Attrs | undefined {
    const v = this.get(type);
    return v && decodeInto(v, this.#sink, this.#child(type));
  }

  /** Every nested attribute of that type (lists the kernel sends as repeated attributes). */
  nestedAll(type: number): Attrs[] {
    return this.all(type).map((v) => decodeInto(v, this.#sink, this.#child(type)));
  }

  /** The children of a nested list-of-lists (e.g. CTRL_ATTR_MCAST_GROUPS: index -> group). */
  nestedList(type: number): Attrs[] {
    const outer = this.nested(type);
    return outer ? outer.list.map((a) => decodeInto(a.value, this.#sink, `${this.#child(type)}.${a.type}`)) : [];
  }

  #child(type: number): string {
    return this.#path ? `${this.#path}.${type}` : `attr ${type}`;
  }

  #sized(type: number, size: number): Buffer | undefined {
    const v = this.get(type);
    if (!v) return undefined;
    if (v.length < size) {
      this.fail(`attribute ${type} has ${v.length} bytes, expected ${size}`);
      return undefined;
    }
    return v;
  }
}

export function decodeAttrs(buf: Uint8Array): Attrs {
  return decodeInto(buf, { error: undefined }, '');
}

function decodeInto(buf: Uint8Array, sink: ErrorSink, path: string): Attrs {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const list: RawAttr[] = [];
  let off = 0;
  while (off + NLA_HDRLEN <= b.length) {
    const len = b.readUInt16LE(off);
    const rawType = b.readUInt16LE(off + 2);
    if (len < NLA_HDRLEN || off + len > b.length) {
      sink.error ??= `${path ? `${path}: ` : ''}malformed attribute at offset ${off} (length ${len}, ${b.length - off} bytes left)`;
      break;
    }
    list.push({ type: rawType & NLA_TYPE_MASK, nested: (rawType & NLA_F_NESTED) !== 0, value: b.subarray(off + NLA_HDRLEN, off + len) });
    off += nlaAlign(len);
  }
  return new Attrs(list, sink, path);
}
