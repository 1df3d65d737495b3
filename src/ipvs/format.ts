// The kernel table as text laid out like `ipvsadm -Ln --exact` (same header, columns and flag words), so
// operators read it at a glance and tests can compare it with ipvsadm's own output line for line.
import { hostPort, inetPton } from '../sys/inet.ts';
import type { KernelTable } from './client.ts';
import { forwardOf, type IpvsInfo, ZERO_STATS } from './codec.ts';
import type { Listing } from './listing.ts';
import type { DestinationEntry, ForwardMethod, IpvsStats, ServiceEntry } from './types.ts';

export type ListMode = 'plain' | 'stats' | 'rate';

const FORWARD_NAMES: Record<ForwardMethod, string> = { masq: 'Masq', local: 'Local', tunnel: 'Tunnel', droute: 'Route', bypass: 'Bypass' };

/** ipvsadm's order (libipvs ipvs_cmp_services/ipvs_cmp_dests): fwmark, family, protocol, address, port. */
export function sortTable(table: KernelTable): KernelTable {
  // Each entry's key is computed once: parsing addresses inside the comparator cost a Buffer per comparison.
  const services = table.services.map((s) => ({ key: serviceKey(s.service), service: s.service, destinations: sortBy(s.destinations, destKey) }));
  return { services: services.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map(({ service, destinations }) => ({ service, destinations })) };
}

/** sortTable's order for a listing: services by key, each one's destination rows by family, address, port. */
export function sortListing(listing: Listing): Listing {
  const { rows } = listing;
  const v6Keys = new Map<number, string>();
  const v6Key = (i: number): string => {
    let k = v6Keys.get(i);
    if (k === undefined) v6Keys.set(i, (k = addressKey(rows.v6.get(i) ?? '::')));
    return k;
  };
  const byRow = (a: number, b: number): number => {
    const fa = rows.family[a]!;
    if (fa !== rows.family[b]) return fa - rows.family[b]!;
    if (fa === 4) {
      if (rows.address[a] !== rows.address[b]) return rows.address[a]! - rows.address[b]!;
    } else {
      const ka = v6Key(a);
      const kb = v6Key(b);
      if (ka !== kb) return ka < kb ? -1 : 1;
    }
    return rows.port[a]! - rows.port[b]!;
  };
  const order = listing.services.map((service, i) => ({ key: serviceKey(service), i }));
  order.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    services: order.map((o) => listing.services[o.i]!),
    dests: order.map((o) => [...listing.dests[o.i]!].sort(byRow)),
    rows,
  };
}

const PROTO_ORDER = { TCP: 6, UDP: 17, SCTP: 132 } as const;

function sortBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  if (items.length < 2) return [...items];
  return items.map((item) => ({ k: key(item), item })).sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0)).map((e) => e.item);
}

/** A dotted quad as its 32-bit value, read digit by digit (no array or string per address). */
function ipv4Number(address: string): number {
  let value = 0;
  let octet = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 46) {
      value = value * 256 + octet;
      octet = 0;
    } else octet = octet * 10 + c - 48;
  }
  return value * 256 + octet;
}

/** Fixed-width hex, so comparing keys as strings orders as the numbers and bytes they encode. */
const hex = (v: number, digits: number): string => v.toString(16).padStart(digits, '0');

function serviceKey(s: ServiceEntry): string {
  const id = s.id;
  if (id.kind === 'fwmark') return `${hex(id.mark, 8)}${id.family}`;
  return `00000000${id.family}${hex(PROTO_ORDER[id.protocol], 2)}${addressKey(id.address)}${hex(id.port, 4)}`;
}

function destKey(d: DestinationEntry): string {
  return `${d.family}${addressKey(d.address)}${hex(d.port, 4)}`;
}

/** The address's bytes in hex (32 digits for IPv6, 8 for IPv4; families are never compared across). */
function addressKey(address: string): string {
  // IPv4 without a Buffer per address: a listing sorts every destination of the table (100,000 at scale).
  if (!address.includes(':')) return hex(ipv4Number(address), 8);
  return inetPton(address).toString('hex');
}

/**
 * The listing as ipvsadm prints it, written byte by byte into one buffer: a string per line and their join, then
 * the UTF-8 copy for the write, were seconds of a 100,000-destination listing in the VM.
 */
export function formatListing(info: IpvsInfo, listing: Listing, mode: ListMode = 'plain'): Buffer {
  const { rows } = listing;
  const out = new Output(rows.count * 80 + listing.services.length * 120 + 512);
  out.line(`IP Virtual Server version ${info.version} (size=${info.connTableSize})`);
  if (mode === 'stats') out.line(`${'Prot LocalAddress:Port'.padEnd(33)} ${cols(['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'])}\n  -> RemoteAddress:Port`);
  else if (mode === 'rate') out.line(`${'Prot LocalAddress:Port'.padEnd(33)} ${cols(['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'])}\n  -> RemoteAddress:Port`);
  else out.line('Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn');
  for (let s = 0; s < listing.services.length; s++) {
    out.line(serviceLine(listing.services[s]!, mode));
    for (const i of listing.dests[s]!) {
      out.bytes(ARROW);
      const name = out.at;
      if (rows.family[i] === 4) {
        const a = rows.address[i]!;
        out.uint(a >>> 24).byte(46).uint((a >>> 16) & 255).byte(46).uint((a >>> 8) & 255).byte(46).uint(a & 255);
      } else out.ascii(`[${rows.v6.get(i)}]`);
      out.byte(58).uint(rows.port[i]!).pad(name + 28).byte(32);
      if (mode !== 'plain') {
        out.line(numbers(rows.stats?.[i] ?? ZERO_STATS, mode));
        continue;
      }
      const column = out.bytes(FORWARD_BYTES[forwardOf(rows.fwd[i]!)]).byte(32).at;
      out.int(rows.weight[i]!).pad(column + 6).byte(32);
      const active = out.at;
      out.uint(rows.active[i]!).pad(active + 10).byte(32);
      const inactive = out.at;
      out.uint(rows.inactive[i]!).pad(inactive + 10).byte(10);
    }
  }
  return out.done();
}

// Written per destination as bytes: Buffer#write is a call into C++, which the guest's emulated CPU makes dear.
const ARROW = Buffer.from('  -> ', 'latin1');
const FORWARD_BYTES = Object.fromEntries(Object.entries(FORWARD_NAMES).map(([k, v]) => [k, Buffer.from(v.padEnd(7), 'latin1')])) as Record<ForwardMethod, Buffer>;

/** A growing byte buffer with the few writes a listing line needs; numbers are written digit by digit. */
class Output {
  #buf: Buffer;
  at = 0;

  constructor(size: number) {
    this.#buf = Buffer.allocUnsafe(size);
  }

  #room(n: number): void {
    if (this.at + n <= this.#buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.at + n));
    this.#buf.copy(bigger, 0, 0, this.at);
    this.#buf = bigger;
  }

  byte(c: number): this {
    this.#room(1);
    this.#buf[this.at++] = c;
    return this;
  }

  /** Text and a newline (UTF-8: scheduler and PE names come from the kernel as bytes). */
  line(s: string): this {
    this.#room(s.length * 3 + 1);
    this.at += this.#buf.write(s, this.at, 'utf8');
    this.#buf[this.at++] = 10;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.#room(b.length);
    for (let k = 0; k < b.length; k++) this.#buf[this.at++] = b[k]!;
    return this;
  }

  ascii(s: string): this {
    this.#room(s.length);
    this.at += this.#buf.write(s, this.at, 'latin1');
    return this;
  }

  uint(v: number): this {
    let digits = 1;
    for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
    this.#room(digits);
    for (let p = this.at + digits - 1, x = v; p >= this.at; p--, x = Math.floor(x / 10)) this.#buf[p] = 48 + (x % 10);
    this.at += digits;
    return this;
  }

  int(v: number): this {
    return v < 0 ? this.byte(45).uint(-v) : this.uint(v);
  }

  /** Spaces up to column `to` (nothing when the text already reaches it, as padEnd). */
  pad(to: number): this {
    if (to <= this.at) return this;
    this.#room(to - this.at);
    while (this.at < to) this.#buf[this.at++] = 32;
    return this;
  }

  done(): Buffer {
    return this.#buf.subarray(0, this.at);
  }
}

function serviceLine(s: ServiceEntry, mode: ListMode): string {
  const name = s.id.kind === 'fwmark' ? `FWM  ${s.id.mark}${s.id.family === 6 ? ' IPv6' : ''}` : `${s.id.protocol.padEnd(4)} ${hostPort(s.id.address, s.id.port)}`;
  if (mode !== 'plain') return `${name.padEnd(33)} ${numbers(s.stats, mode)}`;
  let line = `${name} ${s.scheduler}`;
  const sched = [s.flags.shFallback && 'flag-1', s.flags.shPort && 'flag-2', s.flags.schedFlag3 && 'flag-3'].filter(Boolean);
  if (sched.length) line += ` (${schedFlagNames(s.scheduler, sched as string[]).join(',')})`;
  if (s.flags.persistent) {
    line += ` persistent ${s.timeoutS}`;
    const full = s.id.family === 4 ? '255.255.255.255' : '128';
    if (s.netmask !== full) line += ` mask ${s.netmask}`;
    if (s.pe) line += ` pe ${s.pe}`;
  }
  if (s.flags.onePacket) line += ' ops';
  return line;
}

/** ipvsadm names scheduler flags after the scheduler that defines them (sh-fallback, mh-port, …). */
function schedFlagNames(scheduler: string, flags: string[]): string[] {
  const named: Record<string, Record<string, string>> = {
    sh: { 'flag-1': 'sh-fallback', 'flag-2': 'sh-port' },
    mh: { 'flag-1': 'mh-fallback', 'flag-2': 'mh-port' },
  };
  return flags.map((f) => named[scheduler]?.[f] ?? f);
}

function numbers(s: IpvsStats, mode: ListMode): string {
  const v = mode === 'stats' ? [s.conns, s.inPkts, s.outPkts, s.inBytes, s.outBytes] : [s.cps, s.inPps, s.outPps, s.inBps, s.outBps];
  return cols(v.map(String));
}

function cols(values: string[]): string {
  return values.map((v) => v.padStart(8)).join(' ');
}

/** JSON for programs: bigints as decimal strings so no counter loses precision. */
export function tableJson(info: IpvsInfo, table: KernelTable): string {
  return JSON.stringify({ info, services: table.services }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n';
}
