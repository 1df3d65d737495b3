// The kernel table as `ipvs list` reads it: the services as entries, their destinations as rows of typed-array
// columns. At 100,000 destinations an object and an address string each (what KernelTable holds for the
// reconciler) were most of a listing's time in the VM: allocating them and collecting them, while the listing
// only prints a few numbers of each.
import { inetNtop } from '../sys/inet.ts';
import { destStats, readDest } from './codec.ts';
import type { IpvsStats, ServiceEntry } from './types.ts';

export interface Listing {
  readonly services: readonly ServiceEntry[];
  /** The destination rows of services[i], as indices into `rows`. */
  readonly dests: readonly (readonly number[])[];
  readonly rows: DestinationRows;
}

export class DestinationRows {
  count = 0;
  family = new Uint8Array(0);
  /** IPv4 addresses as numbers; an IPv6 row has its text in `v6` instead. */
  address = new Uint32Array(0);
  port = new Uint16Array(0);
  /** The kernel's connection flags (forwarding method in the low bits). */
  fwd = new Uint32Array(0);
  weight = new Int32Array(0);
  active = new Uint32Array(0);
  inactive = new Uint32Array(0);
  readonly v6 = new Map<number, string>();
  /** Counters, kept only when asked for (--stats, --rate). */
  readonly stats: IpvsStats[] | undefined;

  constructor(capacity: number, withStats: boolean) {
    this.#grow(Math.max(16, capacity));
    this.stats = withStats ? [] : undefined;
  }

  /** Reads one GET_DEST reply (its top-level attributes, buf[start, end)) into the next row; returns its index. */
  add(buf: Buffer, serviceFamily: 4 | 6, start: number, end: number): number {
    const f = readDest(buf, serviceFamily, start, end);
    const i = this.count++;
    if (i === this.family.length) this.#grow(i * 2);
    const at = f.addr + 4;
    this.family[i] = f.family;
    if (f.family === 4) this.address[i] = buf.readUInt32BE(at);
    else this.v6.set(i, inetNtop(buf.subarray(at, at + 16)));
    this.port[i] = f.port;
    this.fwd[i] = f.fwd;
    this.weight[i] = f.weight;
    this.active[i] = f.active;
    this.inactive[i] = f.inactive;
    if (this.stats) this.stats[i] = destStats(buf, f);
    return i;
  }

  #grow(capacity: number): void {
    const grown = <T extends Uint8Array | Uint16Array | Uint32Array | Int32Array>(old: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(old as never);
      return next;
    };
    this.family = grown(this.family, (n) => new Uint8Array(n));
    this.address = grown(this.address, (n) => new Uint32Array(n));
    this.port = grown(this.port, (n) => new Uint16Array(n));
    this.fwd = grown(this.fwd, (n) => new Uint32Array(n));
    this.weight = grown(this.weight, (n) => new Int32Array(n));
    this.active = grown(this.active, (n) => new Uint32Array(n));
    this.inactive = grown(this.inactive, (n) => new Uint32Array(n));
  }
}
