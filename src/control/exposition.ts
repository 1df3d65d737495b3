// Prometheus text exposition for the families with one series per real server or backend. prom-client keeps a
// labelled child object per series and hashes the labels on every set; at 100,000 destinations that made a scrape
// take most of a minute. These families are written straight from a walk of the director's state instead, into
// byte buffers: each series' label text is encoded once and kept (LabelBlock) while the series exists, so a scrape
// copies bytes and formats numbers. Formatting 600,000 lines as strings cost ~1.5 s of CPU per scrape (mostly the UTF-8
// encoding and the garbage), whatever the string technique.

export type Labels = readonly (readonly [string, string])[];

/** The label texts (`{a="b",…}`) of a run of series, encoded once; `at(i)`..`at(i+1)` is series i's. */
export class LabelBlock {
  readonly bytes: Buffer;
  readonly #ends: Int32Array;

  constructor(labels: readonly string[]) {
    const text = labels.join('');
    this.bytes = Buffer.from(text, 'utf8');
    this.#ends = new Int32Array(labels.length + 1);
    // As many bytes as UTF-16 units: all ASCII (addresses, ports, most names), so each label's length is its size.
    const ascii = this.bytes.length === text.length;
    let at = 0;
    for (let i = 0; i < labels.length; i++) this.#ends[i + 1] = at += ascii ? labels[i]!.length : Buffer.byteLength(labels[i]!, 'utf8');
  }

  get length(): number {
    return this.#ends.length - 1;
  }

  start(i: number): number {
    return this.#ends[i]!;
  }

  end(i: number): number {
    return this.#ends[i + 1]!;
  }
}

export type Sample = (labels: string, value: number) => void;
export type BlockSample = (block: LabelBlock, i: number, value: number) => void;

/** Writes the text into 1 MB buffers as it goes; `take` hands over what was written since the last take. */
export class ExpositionWriter {
  #chunks: Buffer[] = [];
  #buf = Buffer.allocUnsafe(CHUNK);
  #at = 0;

  /** A family whose series' labels are given as text (the small ones). */
  family(name: string, type: 'gauge' | 'counter', help: string, fill: (sample: Sample) => void): void {
    this.#header(name, type, help);
    fill((labels, value) => {
      this.#text(`${name}${labels} `);
      this.#value(value);
    });
  }

  /** A family whose series' labels are in label blocks (one series per destination or real server). */
  blockFamily(name: string, type: 'gauge' | 'counter', help: string, fill: (sample: BlockSample) => void): void {
    this.#header(name, type, help);
    const nameBytes = Buffer.from(name, 'latin1');
    const n = nameBytes.length;
    fill((block, i, value) => {
      const from = block.start(i);
      const to = block.end(i);
      this.#room(n + (to - from) + MAX_NUMBER);
      const b = this.#buf;
      let at = this.#at;
      // Byte loops: for ~150 bytes they beat a native copy call (and subarray's view object) per piece.
      for (let k = 0; k < n; k++) b[at++] = nameBytes[k]!;
      const src = block.bytes;
      for (let k = from; k < to; k++) b[at++] = src[k]!;
      b[at++] = SPACE;
      this.#at = at;
      this.#value(value);
    });
  }

  /** The text written since the last take, as buffers to send one after the other. */
  take(): Buffer[] {
    if (this.#at > 0) {
      this.#chunks.push(this.#buf.subarray(0, this.#at));
      this.#buf = Buffer.allocUnsafe(CHUNK);
      this.#at = 0;
    }
    const out = this.#chunks;
    this.#chunks = [];
    return out;
  }

  #header(name: string, type: string, help: string): void {
    this.#text(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} ${type}\n`);
  }

  #text(s: string): void {
    // Byte length is at most 3 per UTF-16 unit.
    this.#room(s.length * 3);
    this.#at += this.#buf.write(s, this.#at, 'utf8');
  }

  /** The value and the line's end: integers digit by digit, anything else as Prometheus spells it. */
  #value(v: number): void {
    if (!Number.isSafeInteger(v)) {
      this.#text(`${Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : v}\n`);
      return;
    }
    this.#room(MAX_NUMBER);
    const b = this.#buf;
    let at = this.#at;
    if (v < 0) {
      b[at++] = 45; // '-'
      v = -v;
    }
    const first = at;
    do {
      b[at++] = 48 + (v % 10);
      v = Math.floor(v / 10);
    } while (v > 0);
    for (let i = first, j = at - 1; i < j; i++, j--) {
      const t = b[i]!;
      b[i] = b[j]!;
      b[j] = t;
    }
    b[at++] = NEWLINE;
    this.#at = at;
  }

  #room(bytes: number): void {
    if (this.#at + bytes <= this.#buf.length) return;
    this.#chunks.push(this.#buf.subarray(0, this.#at));
    this.#buf = Buffer.allocUnsafe(Math.max(CHUNK, bytes));
    this.#at = 0;
  }
}

const CHUNK = 1 << 20;
const SPACE = 32;
const NEWLINE = 10;
/** A safe integer's digits, its sign and the newline. */
const MAX_NUMBER = 20;

export function labelText(labels: Labels): string {
  let out = '{';
  for (let i = 0; i < labels.length; i++) {
    const [k, v] = labels[i]!;
    out += `${i ? ',' : ''}${k}="${escapeLabel(v)}"`;
  }
  return `${out}}`;
}

/** A label value as the exposition format quotes it (backslash, double quote and newline escaped). */
export function escapeLabel(v: string): string {
  return NEEDS_ESCAPE.test(v) ? v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : v;
}

const NEEDS_ESCAPE = /[\\"\n]/;

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/**
 * Label blocks kept from one scrape to the next, one per service (its destinations) or virtual server (its real
 * servers): a block is rebuilt only when that run of endpoints changed (one added, removed, reordered), so a scrape
 * of an unchanged table encodes no label text at all. Blocks of keys a scrape did not ask for are dropped by sweep.
 */
export class LabelBlocks {
  readonly #blocks = new Map<string, { addresses: string[]; ports: number[]; block: LabelBlock; scrape: number }>();
  #scrape = 0;
  /** Blocks (re)built since construction: what the tests watch. */
  built = 0;

  block(key: string, endpoints: readonly Endpoint[], labels: (e: Endpoint) => string): LabelBlock {
    let b = this.#blocks.get(key);
    if (!b || !same(b, endpoints)) {
      b = { addresses: endpoints.map((e) => e.address), ports: endpoints.map((e) => e.port), block: new LabelBlock(endpoints.map(labels)), scrape: 0 };
      this.#blocks.set(key, b);
      this.built++;
    }
    b.scrape = this.#scrape;
    return b.block;
  }

  get size(): number {
    return this.#blocks.size;
  }

  /** Ends a scrape: forgets the blocks it did not use (services and virtual servers gone). */
  sweep(): void {
    this.#blocks.forEach((b, k) => {
      if (b.scrape !== this.#scrape) this.#blocks.delete(k);
    });
    this.#scrape++;
  }
}

function same(b: { readonly addresses: readonly string[]; readonly ports: readonly number[] }, endpoints: readonly Endpoint[]): boolean {
  if (b.addresses.length !== endpoints.length) return false;
  for (let i = 0; i < endpoints.length; i++) if (b.addresses[i] !== endpoints[i]!.address || b.ports[i] !== endpoints[i]!.port) return false;
  return true;
}
