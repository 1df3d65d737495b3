// `bgp_announcer { … }`, the ipvs-ts extension block for BGP announcement of VIPs (docs/bgp.md). keepalived
// itself reports every line of it as an unknown keyword and ignores it.
import { posOf, type Token } from './lexer.ts';
import { walk, type Mutable } from './blocks.ts';
import type { BgpAnnouncer, BgpNeighbor, BgpVip, Config } from './model.ts';
import type { Problems } from './problems.ts';
import type { Stmt } from './tree.ts';
import type { ArgReader } from './values.ts';
import { inetNtop, inetPton } from '../sys/inet.ts';

const MAX_AS = 4_294_967_295;
export const BGP_DEFAULTS = { intervalMs: 1000, rise: 3, fall: 1, withdrawHoldMs: 5000, holdS: 9, port: 179, birdDir: '/run/ipvs-ts/bird', backend: 'bird', gobgpDir: '/run/ipvs-ts/gobgp' } as const;
const BACKENDS = ['bird', 'gobgp'] as const;

const NEIGHBOR_USAGE = 'neighbor ADDRESS remote_as N [hold SECONDS] [port N] [source ADDRESS] [multihop TTL] [passive]';

export function readBgpAnnouncer(s: Stmt, r: ArgReader): BgpAnnouncer {
  const p = r.problems;
  r.arity(s, 0, 0, 'bgp_announcer { local_as N  neighbor ADDRESS remote_as N … }');
  const d: Mutable<BgpAnnouncer> & { neighbors: BgpNeighbor[]; vips: BgpVip[] } = {
    localAs: 0, neighbors: [], vips: [], intervalMs: BGP_DEFAULTS.intervalMs, rise: BGP_DEFAULTS.rise, fall: BGP_DEFAULTS.fall,
    withdrawHoldMs: BGP_DEFAULTS.withdrawHoldMs, birdDir: BGP_DEFAULTS.birdDir, backend: BGP_DEFAULTS.backend,
    gobgpDir: BGP_DEFAULTS.gobgpDir, pos: posOf(s.key),
  };
  const absolute = (t: Stmt, usage: string): string | undefined => {
    const dir = r.word(t, usage);
    if (dir === undefined || dir.startsWith('/')) return dir;
    p.error('bad-value', `${t.key.text}: '${dir}' is not an absolute path`, posOf(t.args[0] as Token));
    return undefined;
  };
  walk(r.needBlock(s), {
    name: 'bgp_announcer',
    keywords: {
      router_id: (t) => {
        const a = r.address(t);
        if (a && a.family !== 4) p.error('bad-value', `router_id: BGP router ids are IPv4 addresses, got '${a.address}'`, posOf(t.args[0] as Token));
        else if (a) d.routerId = a.address;
      },
      local_as: (t) => {
        d.localAs = r.int(t, 1, MAX_AS) ?? d.localAs;
      },
      neighbor: (t) => {
        const n = readNeighbor(t, r);
        if (n) d.neighbors.push(n);
      },
      vip: (t) => {
        const v = readVip(t, r);
        if (v) d.vips.push(v);
      },
      interval: (t) => {
        d.intervalMs = r.seconds(t, 100, 3_600_000) ?? d.intervalMs;
      },
      rise: (t) => {
        d.rise = r.int(t, 1, 1000) ?? d.rise;
      },
      fall: (t) => {
        d.fall = r.int(t, 1, 1000) ?? d.fall;
      },
      withdraw_hold: (t) => {
        d.withdrawHoldMs = r.seconds(t, 0, 3_600_000) ?? d.withdrawHoldMs;
      },
      bird_dir: (t) => {
        d.birdDir = absolute(t, 'bird_dir PATH') ?? d.birdDir;
      },
      backend: (t) => {
        if (r.word(t, `backend ${BACKENDS.join('|')}`) !== undefined) d.backend = r.oneOf(t.args[0] as Token, 'backend', BACKENDS) ?? d.backend;
      },
      gobgpd_dir: (t) => {
        d.gobgpDir = absolute(t, 'gobgpd_dir PATH') ?? d.gobgpDir;
      },
      grpc_port: (t) => {
        d.grpcPort = r.int(t, 1, 65535) ?? d.grpcPort;
      },
    },
  }, undefined, r, s);
  if (d.localAs === 0) p.error('missing', 'bgp_announcer has no local_as line', posOf(s.key));
  if (d.neighbors.length === 0) p.error('missing', `bgp_announcer has no neighbor; usage: ${NEIGHBOR_USAGE}`, posOf(s.key));
  if (d.backend === 'gobgp') checkGobgp(d, p);
  return d;
}

/** What GoBGP cannot do as BIRD does: pick a router id, or run a session without keepalives (it reads hold 0 as 90 s). */
function checkGobgp(d: BgpAnnouncer, p: ArgReader['problems']): void {
  if (d.routerId === undefined) p.error('missing', 'bgp_announcer: backend gobgp needs a router_id (GoBGP does not pick one)', d.pos);
  for (const n of d.neighbors) if (n.holdS === 0) p.error('bad-value', `neighbor ${n.address}: hold 0 is not supported with backend gobgp (GoBGP reads it as 90 s)`, n.pos);
}

/** The options may follow the address on the line, or stand in a { } block (one or several per line), or both. */
function readNeighbor(s: Stmt, r: ArgReader): BgpNeighbor | undefined {
  const p = r.problems;
  if (s.args.length === 0) {
    r.arity(s, 1, Infinity, NEIGHBOR_USAGE);
    return undefined;
  }
  const addr = r.addressToken(s.args[0] as Token, 'neighbor');
  const n: Mutable<BgpNeighbor> = { address: addr?.address ?? '', family: addr?.family ?? 4, remoteAs: 0, holdS: BGP_DEFAULTS.holdS, port: BGP_DEFAULTS.port, passive: false, pos: posOf(s.key) };
  const option = (key: Token, value: Token | undefined): number => {
    const need = (): Token | undefined => {
      if (!value) p.error('arguments', `neighbor: ${key.text} needs a value; usage: ${NEIGHBOR_USAGE}`, posOf(key));
      return value;
    };
    switch (key.text) {
      case 'passive':
        n.passive = true;
        return 1;
      case 'remote_as': {
        const v = need();
        if (v) n.remoteAs = r.integer(v, 'remote_as', 1, MAX_AS) ?? n.remoteAs;
        return 2;
      }
      case 'hold': {
        const v = need();
        const ms = v && r.secondsToken(v, 'hold', 0, 65_535_000);
        if (ms !== undefined && ms !== 0 && ms < 3000) p.error('range', 'hold: BGP allows 0 or 3-65535 seconds', posOf(v as Token));
        else if (ms !== undefined) n.holdS = Math.round(ms / 1000);
        return 2;
      }
      case 'port': {
        const v = need();
        if (v) n.port = r.integer(v, 'neighbor', 1, 65535, ' port') ?? n.port;
        return 2;
      }
      case 'source': {
        const v = need();
        const a = v && r.addressToken(v, 'source');
        if (a) n.source = a.address;
        return 2;
      }
      case 'multihop': {
        const v = need();
        if (v) n.multihop = r.integer(v, 'multihop', 1, 255) ?? n.multihop;
        return 2;
      }
      default:
        // The rest of the line cannot be read once one word is not understood.
        p.error('unknown-keyword', `neighbor: unknown option '${key.text}'; usage: ${NEIGHBOR_USAGE}`, posOf(key));
        return 0;
    }
  };
  const options = (tokens: readonly Token[]): void => {
    for (let i = 0; i < tokens.length; ) {
      const used = option(tokens[i] as Token, tokens[i + 1]);
      if (used === 0) return;
      i += used;
    }
  };
  options(s.args.slice(1));
  for (const t of s.block ?? []) {
    if (t.block) p.error('arguments', `${t.key.text} does not take a { } block`, posOf(t.key));
    options([t.key, ...t.args]);
  }
  if (n.remoteAs === 0) p.error('missing', `neighbor ${n.address} has no remote_as; usage: ${NEIGHBOR_USAGE}`, posOf(s.key));
  if (n.source !== undefined && addr && canonicalFamily(n.source) !== addr.family) p.error('bad-value', `neighbor ${n.address}: source ${n.source} is not of the neighbor's address family`, n.pos);
  return addr ? n : undefined;
}

function canonicalFamily(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}

function readVip(s: Stmt, r: ArgReader): BgpVip | undefined {
  r.noBlock(s);
  if (!r.arity(s, 1, 3, 'vip ADDRESS [med N]')) return undefined;
  const a = r.addressToken(s.args[0] as Token, 'vip');
  if (!a) return undefined;
  const v: Mutable<BgpVip> = { address: a.address, family: a.family, pos: posOf(s.key) };
  const [, key, value] = s.args;
  if (key && key.text !== 'med') r.problems.error('unknown-keyword', `vip: unknown option '${key.text}'; usage: vip ADDRESS [med N]`, posOf(key));
  else if (key && !value) r.problems.error('arguments', 'vip: med needs a value', posOf(key));
  else if (value) v.med = r.integer(value, 'med', 0, MAX_AS) ?? v.med;
  return v;
}

/** Checks that need the whole config: each vip is served by a virtual server, neighbors and vips are unique. */
export function validateBgp(c: Config, r: ArgReader): void {
  const b = c.bgpAnnouncer;
  if (!b) return;
  const p = r.problems;
  const served = new Set(vipAddressesOf(c));
  const seen = new Set<string>();
  for (const v of b.vips) {
    if (seen.has(v.address)) p.error('duplicate', `bgp_announcer: vip ${v.address} is listed twice`, v.pos);
    seen.add(v.address);
    if (!served.has(v.address)) p.error('reference', `bgp_announcer: vip ${v.address} is the address of no virtual_server (fwmark virtual servers are not announced yet)`, v.pos);
  }
  const peers = new Set<string>();
  for (const n of b.neighbors) {
    if (peers.has(n.address)) p.error('duplicate', `bgp_announcer: neighbor ${n.address} is listed twice`, n.pos);
    peers.add(n.address);
  }
  if (b.vips.length === 0 && served.size === 0) p.warn('missing', 'bgp_announcer: no virtual_server has an address, so nothing is announced', b.pos);
  for (const fam of [4, 6] as const) {
    const wanted = (b.vips.length > 0 ? b.vips.map((v) => v.family) : [...served].map(canonicalFamily)).includes(fam);
    if (wanted && !b.neighbors.some((n) => n.family === fam)) {
      p.warn('missing', `bgp_announcer: IPv${fam} VIPs are announced only to IPv${fam} neighbors, and there is none`, b.pos);
    }
  }
  warnMultiDirector(c, b, p);
}

/**
 * Routers spread an announced VIP's flows over every director that announces it, and move flows between them when
 * one leaves: what makes that safe (docs/bgp.md, "Several directors for one VIP") is said where it is missing.
 */
function warnMultiDirector(c: Config, b: BgpAnnouncer, p: Problems): void {
  const listed = new Set(b.vips.map((v) => v.address));
  const groups = new Map(c.virtualServerGroups.map((g) => [g.name, g]));
  for (const vs of c.virtualServers) {
    const addrs = vs.key.kind === 'addr' ? [vs.key.address] : vs.key.kind === 'group' ? groupAddresses(groups.get(vs.key.name)) : [];
    if (addrs.length === 0 || (listed.size > 0 && !addrs.some((a) => listed.has(a)))) continue;
    if (vs.lbKind === 'NAT') {
      p.warn('multi-director', 'lb_kind NAT on an announced VIP: with several directors a reply must come back through the director that holds the connection, which ECMP does not do; use DR or TUN (one director announcing alone is fine)', vs.pos);
    }
    if (vs.lbAlgo === 'mh' && !vs.schedulerFlags.includes('mh-fallback') && !vs.schedulerFlags.includes('flag-1')) {
      p.warn('multi-director', 'lb_algo mh on an announced VIP without mh-fallback: a failed real server is then deleted, which changes this director\'s Maglev table but not the others\'; with mh-fallback it stays at weight 0 and every director keeps the same table', vs.pos);
    }
  }
}

/** Every address a virtual server listens on (group members expanded), in config order, each once. */
export function vipAddressesOf(c: Config): string[] {
  const out = new Set<string>();
  const groups = new Map(c.virtualServerGroups.map((g) => [g.name, g]));
  for (const vs of c.virtualServers) {
    if (vs.key.kind === 'addr') out.add(vs.key.address);
    else if (vs.key.kind === 'group') for (const a of groupAddresses(groups.get(vs.key.name))) out.add(a);
  }
  return [...out];
}

/** A group's addresses; ranges are expanded up to a bound (a /16 of VIPs is no BGP use case). */
export function groupAddresses(g: Config['virtualServerGroups'][number] | undefined): string[] {
  const out: string[] = [];
  for (const m of g?.members ?? []) {
    if (m.kind !== 'addr') continue;
    const bytes = inetPton(m.address);
    for (let i = 0; i < Math.min(m.count, MAX_GROUP_VIPS); i++) {
      out.push(inetNtop(bytes));
      for (let j = bytes.length - 1; j >= 0; j--) {
        bytes[j] = ((bytes[j] ?? 0) + 1) & 255;
        if (bytes[j] !== 0) break;
      }
    }
  }
  return out;
}

const MAX_GROUP_VIPS = 256;
