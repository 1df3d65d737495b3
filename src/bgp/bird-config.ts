// The BIRD 2 configuration ipvs-ts writes for the BIRD it owns. Each VIP route lives in its own static protocol,
// so announcing and withdrawing a VIP is `enable`/`disable` of that protocol over the control socket: no file
// written, no configuration re-read, no other route or session touched. The file is rewritten and re-read
// (`configure`) only when the set of routes or their attributes change, and each protocol's `disabled` line
// carries the wanted state, so a BIRD restarted from the file announces exactly what ipvs-ts wants.
import type { BgpNeighbor } from '../config/model.ts';
import { inetPton } from '../sys/inet.ts';
import type { RouteAttrs } from './announcer.ts';

export interface BirdSettings {
  readonly routerId?: string;
  readonly localAs: number;
  readonly neighbors: readonly BgpNeighbor[];
}

export interface BirdRoute {
  readonly prefix: string;
  readonly attrs: RouteAttrs;
  readonly enabled: boolean;
}

/**
 * Seconds BIRD waits before its first connect, before reconnecting after a failed attempt, after an error; its
 * defaults (5 s, 120 s, 60-300 s) make a restarted BIRD or a rebooted router take minutes to announce again.
 */
const CONNECT_DELAY_S = 1;
const CONNECT_RETRY_S = 5;
const ERROR_WAIT_S = [5, 60] as const;

export function birdConfig(s: BirdSettings, routes: readonly BirdRoute[]): string {
  const lines = ['# Written by ipvs-ts from its bgp_announcer block; rewritten whenever the announced routes change.'];
  if (s.routerId) lines.push(`router id ${s.routerId};`);
  // Warnings and errors only: BGP session changes are read from `show protocols`, not from the log.
  lines.push('log stderr { warning, error, fatal, bug };', '', '# Interface states, which directly connected BGP sessions need.', 'protocol device {', '}', '');
  for (const fam of [4, 6] as const) {
    const mine = routes.filter((r) => familyOf(r.prefix) === fam);
    lines.push(`filter ${filterName(fam)} {`);
    for (const r of mine) if (r.attrs.med !== undefined) lines.push(`  if net = ${r.prefix} then bgp_med = ${r.attrs.med};`);
    lines.push(mine.length > 0 ? `  if net ~ [ ${mine.map((r) => r.prefix).join(', ')} ] then accept;` : '  # nothing to announce', '  reject;', '}', '');
  }
  for (const r of routes) {
    // A blackhole route: it exists only to be exported; BIRD installs nothing in this host's kernel (no kernel protocol).
    lines.push(`protocol static ${staticName(r.prefix)} {`, `  ipv${familyOf(r.prefix)};`, `  disabled ${r.enabled ? 'no' : 'yes'};`, `  route ${r.prefix} blackhole;`, '}', '');
  }
  for (const n of s.neighbors) {
    lines.push(`protocol bgp ${neighborName(n.address)} {`);
    lines.push(`  local${n.source ? ` ${n.source}` : ''} as ${s.localAs};`);
    lines.push(`  neighbor ${n.address}${n.port !== 179 ? ` port ${n.port}` : ''} as ${n.remoteAs};`);
    lines.push(`  hold time ${n.holdS};`);
    if (n.holdS >= 3) lines.push(`  keepalive time ${Math.max(1, Math.floor(n.holdS / 3))};`);
    lines.push(`  connect delay time ${CONNECT_DELAY_S};`, `  connect retry time ${CONNECT_RETRY_S};`, `  error wait time ${ERROR_WAIT_S[0]}, ${ERROR_WAIT_S[1]};`);
    if (n.multihop !== undefined) lines.push(`  multihop ${n.multihop};`);
    if (n.passive) lines.push('  passive on;');
    lines.push(`  ipv${n.family} {`, '    import none;', `    export filter ${filterName(n.family)};`, '    next hop self;', '  };', '}', '');
  }
  return lines.join('\n');
}

export function familyOf(prefix: string): 4 | 6 {
  return prefix.includes(':') ? 6 : 4;
}

function filterName(fam: 4 | 6): string {
  return `ipvs_ts_vips${fam}`;
}

/** BIRD symbols are letters, digits and underscores: an IPv4 address keeps its dots as underscores, IPv6 is spelt out in hex. */
export function staticName(prefix: string): string {
  return `vip${symbolOf(prefix.split('/')[0] ?? prefix)}`;
}

export function neighborName(address: string): string {
  return `peer${symbolOf(address)}`;
}

function symbolOf(address: string): string {
  return address.includes(':') ? `6_${inetPton(address).toString('hex')}` : `4_${address.replaceAll('.', '_')}`;
}
