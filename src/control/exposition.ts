// Prometheus text exposition for the families with one series per real server or backend. prom-client keeps a
// labelled child object per series and hashes the labels on every set; at 100,000 destinations that made a scrape
// take most of a minute. These families are written straight from a status snapshot instead, each series' label
// text built once per scrape and shared by the families that have the same labels.

export type Labels = readonly (readonly [string, string])[];

/**
 * Writes the text into 1 MB buffers as it goes: a million small strings joined at the end cost more in garbage
 * collection than everything else in a scrape of 100,000 destinations.
 */
export class ExpositionWriter {
  readonly #chunks: Buffer[] = [];
  #buf = Buffer.allocUnsafe(CHUNK);
  #at = 0;

  family(name: string, type: 'gauge' | 'counter', help: string, fill: (sample: (labels: string, value: number) => void) => void): void {
    this.#write(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} ${type}\n`);
    fill((labels, value) => {
      this.#write(name);
      this.#write(labels);
      this.#write(` ${formatValue(value)}\n`);
    });
  }

  /** The text so far, as the buffers it was written into (a scrape sends them as they are). */
  chunks(): Buffer[] {
    return [...this.#chunks, this.#buf.subarray(0, this.#at)];
  }

  #write(s: string): void {
    // Byte length is at most 3 per UTF-16 unit; labels are nearly always ASCII, so check cheaply first.
    if (this.#at + s.length * 3 > this.#buf.length) {
      this.#chunks.push(this.#buf.subarray(0, this.#at));
      this.#buf = Buffer.allocUnsafe(Math.max(CHUNK, s.length * 3));
      this.#at = 0;
    }
    this.#at += this.#buf.write(s, this.#at, 'utf8');
  }
}

const CHUNK = 1 << 20;

export function labelText(labels: Labels): string {
  let out = '{';
  for (let i = 0; i < labels.length; i++) {
    const [k, v] = labels[i]!;
    out += `${i ? ',' : ''}${k}="${NEEDS_ESCAPE.test(v) ? v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : v}"`;
  }
  return `${out}}`;
}

const NEEDS_ESCAPE = /[\\"\n]/;

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
