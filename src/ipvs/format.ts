// The kernel table as text laid out like `ipvsadm -Ln --exact` (same header, columns and flag words), so
// operators read it at a glance and tests can compare it with ipvsadm's own output line for line.
import { inetPton } from '../sys/inet.ts';
import type { KernelTable } from './client.ts';
import type { IpvsInfo } from './codec.ts';
import { hostPort } from '../sys/inet.ts';
import type { DestinationEntry, ForwardMethod, IpvsStats, ServiceEntry } from './types.ts';

export type ListMode = 'plain' | 'stats' | 'rate';

const FORWARD_NAMES: Record<ForwardMethod, string> = { masq: 'Masq', local: 'Local', tunnel: 'Tunnel', droute: 'Route', bypass: 'Bypass' };

/** ipvsadm's order (libipvs ipvs_cmp_services/ipvs_cmp_dests): fwmark, family, protocol, address, port. */
export function sortTable(table: KernelTable): KernelTable {
  // Each entry's key is computed once: parsing addresses inside the comparator cost a Buffer per comparison.
  const services = table.services.map((s) => ({ key: serviceKey(s.service), service: s.service, destinations: sortBy(s.destinations, destKey) }));
  return { services: services.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map(({ service, destinations }) => ({ service, destinations })) };
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

export function formatTable(info: IpvsInfo, table: KernelTable, mode: ListMode = 'plain'): string {
  const lines = [`IP Virtual Server version ${info.version} (size=${info.connTableSize})`];
  if (mode === 'stats') lines.push(`${'Prot LocalAddress:Port'.padEnd(33)} ${cols(['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'])}`, '  -> RemoteAddress:Port');
  else if (mode === 'rate') lines.push(`${'Prot LocalAddress:Port'.padEnd(33)} ${cols(['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'])}`, '  -> RemoteAddress:Port');
  else lines.push('Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn');
  for (const { service, destinations } of table.services) {
    lines.push(serviceLine(service, mode));
    for (const d of destinations) lines.push(destLine(d, mode));
  }
  return lines.join('\n') + '\n';
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

function destLine(d: DestinationEntry, mode: ListMode): string {
  const name = hostPort(d.address, d.port);
  if (mode !== 'plain') return `  -> ${name.padEnd(28)} ${numbers(d.stats, mode)}`;
  return `  -> ${name.padEnd(28)} ${FORWARD_COLUMN[d.forward]} ${padded(d.weight, 6)} ${padded(d.activeConns, 10)} ${padded(d.inactiveConns, 10)}`;
}

const FORWARD_COLUMN = Object.fromEntries(Object.entries(FORWARD_NAMES).map(([k, v]) => [k, v.padEnd(7)])) as Record<ForwardMethod, string>;
/** Padded small numbers, made once: most weights and connection counts of a large table repeat a few values. */
const PADDED: Record<number, string[]> = { 6: [], 10: [] };

function padded(v: number, width: 6 | 10): string {
  if (v >= 0 && v < 256) return (PADDED[width]![v] ??= String(v).padEnd(width));
  return String(v).padEnd(width);
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
