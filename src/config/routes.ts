// virtual_routes / virtual_rules (in a vrrp_instance) and static_routes / static_rules / static_ipaddress (top
// level) → model objects, with keepalived 2.2.7's grammar and meaning (vrrp_iproute.c alloc_route, vrrp_iprule.c
// alloc_rule). Every option keepalived knows that ipvs-ts does not program is refused at its own column: a route
// that silently lost its mtu or its second nexthop would be a different route.
import { posOf, type Token } from './lexer.ts';
import type { Family, IpPrefix, IpRoute, IpRule, RouteType, VirtualIp } from './model.ts';
import type { Stmt } from './tree.ts';
import { canonicalAddress, type ArgReader } from './values.ts';

/** keepalived's own rtm_protocol (vrrp_iproute.h), which iproute2 names `keepalived`. */
export const RTPROT_KEEPALIVED = 18;

const TABLES: Record<string, number> = { default: 253, main: 254, local: 255 };
const SCOPES: Record<string, number> = { global: 0, universe: 0, site: 200, link: 253, host: 254, nowhere: 255 };
// iproute2's rt_protos names.
const PROTOCOLS: Record<string, number> = {
  redirect: 1, kernel: 2, boot: 3, static: 4, gated: 8, ra: 9, mrt: 10, zebra: 11, bird: 12, dnrouted: 13, xorp: 14, ntk: 15,
  dhcp: 16, keepalived: 18, babel: 42, bgp: 186, isis: 187, ospf: 188, rip: 189, eigrp: 192,
};
const ROUTE_TYPES: readonly RouteType[] = ['unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw'];

// What keepalived's route and rule lines accept that ipvs-ts does not program; each is refused where it stands.
const ROUTE_UNSUPPORTED = new Set(
  ('as encap expires mtu hoplimit advmss rtt rttvar reordering window cwnd ssthresh realms rto_min initcwnd initrwnd ' +
    'features quickack congctl pref ttl-propagate fastopen_no_cookie nexthop or track_group vrf append prepend').split(' '),
);
const RULE_UNSUPPORTED = new Set(
  ('realms suppress_prefixlength sup_pl suppress_ifgroup sup_group tunnel-id uidrange l3mdev ipproto sport dport track_group').split(' '),
);

/** keepalived numbers rules without a preference downwards from here, per family, in the order it reads them. */
const RULE_START_PRIORITY = 16384;
const nextRulePriority = new WeakMap<ArgReader, Record<Family, number>>();

type Reader<T> = (e: Stmt, r: ArgReader) => T | undefined;

/** `NAME { LINE … }` → one model object per line that reads. */
export function lineBlock<T>(s: Stmt, r: ArgReader, usage: string, read: Reader<T>): T[] {
  r.arity(s, 0, 0, usage);
  const out: T[] = [];
  for (const e of r.needBlock(s)) {
    r.noBlock(e);
    const v = read(e, r);
    if (v) out.push(v);
  }
  return out;
}

export const ROUTE_USAGE = '{ [TYPE] DEST[/LEN]|default [via GW] [dev IF] [src ADDR] [table N] [metric N] [scope S] [protocol P] [onlink] … }';
export const RULE_USAGE = '{ [from PREFIX] [to PREFIX] [iif IF] [oif IF] [fwmark N[/MASK]] [not] [preference N] table N|goto N|nop|blackhole|unreachable|prohibit … }';

/** Reads tokens left to right, as keepalived's loops do, with the position of each for messages. */
class Line {
  readonly #toks: readonly Token[];
  readonly #r: ArgReader;
  readonly #what: string;
  i = 0;
  failed = false;

  constructor(e: Stmt, r: ArgReader, what: string) {
    this.#toks = [e.key, ...e.args];
    this.#r = r;
    this.#what = what;
  }

  get done(): boolean {
    return this.failed || this.i >= this.#toks.length;
  }

  next(): Token {
    return this.#toks[this.i++] as Token;
  }

  peek(): string | undefined {
    return this.#toks[this.i]?.text;
  }

  /** The value after an option keyword; a missing one fails the line. */
  value(opt: Token): Token | undefined {
    const v = this.#toks[this.i];
    if (v === undefined) return this.fail('arguments', `${this.#what}: ${opt.text} needs a value`, opt);
    this.i++;
    return v;
  }

  fail(code: 'arguments' | 'bad-value' | 'unsupported' | 'range' | 'missing', message: string, at: Token): undefined {
    this.#r.problems.error(code, message, posOf(at));
    this.failed = true;
    return undefined;
  }

  /** An unsigned 32-bit number, decimal or 0x hex (keepalived reads these with base 0). */
  u32(opt: Token, max = 0xffffffff): number | undefined {
    const v = this.value(opt);
    if (v === undefined) return undefined;
    const n = parseUnsigned(v.text);
    if (n === undefined || n > max) return this.fail('bad-value', `${this.#what}: ${opt.text} ${v.text} is not a number in 0..${max}`, v);
    return n;
  }

  named(opt: Token, names: Record<string, number>, max: number): number | undefined {
    const v = this.value(opt);
    if (v === undefined) return undefined;
    const n = names[v.text] ?? parseUnsigned(v.text);
    if (n === undefined || n > max) return this.fail('bad-value', `${this.#what}: ${opt.text} ${v.text} is not a number in 0..${max} nor one of: ${Object.keys(names).join(' ')}`, v);
    return n;
  }
}

function parseUnsigned(text: string): number | undefined {
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** `ADDRESS[/LEN]` or `default|any|all` (family undefined: the rest of the line decides); host bits must be clear. */
function prefix(t: Token, line: Line, what: string): { family: Family | undefined; p: IpPrefix } | undefined {
  if (t.text === 'default' || t.text === 'any' || t.text === 'all') return { family: undefined, p: { address: '', len: 0 } };
  const slash = t.text.indexOf('/');
  const a = canonicalAddress(slash < 0 ? t.text : t.text.slice(0, slash));
  if (!a) return line.fail('bad-value', `${what}: '${t.text}' is not an address, a prefix or default`, t);
  const max = a.family === 4 ? 32 : 128;
  const len = slash < 0 ? max : parseUnsigned(t.text.slice(slash + 1));
  if (len === undefined || len > max) return line.fail('bad-value', `${what}: prefix length of '${t.text}' is not in 0..${max}`, t);
  const masked = maskAddress(a.address, a.family, len);
  if (masked !== a.address) return line.fail('bad-value', `${what}: '${t.text}' has host bits set; the prefix is ${masked}/${len}`, t);
  return { family: a.family, p: { address: a.address, len } };
}

function maskAddress(address: string, family: Family, len: number): string {
  const bytes = family === 4 ? address.split('.').map(Number) : ipv6Bytes(address);
  const out = bytes.map((b, i) => b & (0xff << Math.max(0, Math.min(8, 8 - (len - i * 8)))) & 0xff);
  if (family === 4) return out.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((out[i] ?? 0) << 8) | (out[i + 1] ?? 0)).toString(16));
  return canonicalAddress(groups.join(':'))?.address ?? address;
}

function ipv6Bytes(address: string): number[] {
  const [head = '', tail] = address.split('::');
  const parts = (s: string) => (s === '' ? [] : s.split(':'));
  const h = parts(head);
  const t = tail === undefined ? [] : parts(tail);
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

/** Keeps one family per line, as keepalived does ("Cannot mix IPv4 and IPv6 addresses"). */
class FamilyOf {
  value: Family | undefined;
  set(f: Family | undefined, at: Token, line: Line, what: string): boolean {
    if (f === undefined) return true;
    if (this.value !== undefined && this.value !== f) {
      line.fail('bad-value', `${what}: cannot mix IPv4 and IPv6 in one line ('${at.text}')`, at);
      return false;
    }
    this.value = f;
    return true;
  }
}

function address(line: Line, opt: Token, fam: FamilyOf, what: string): string | undefined {
  const v = line.value(opt);
  if (v === undefined) return undefined;
  const a = canonicalAddress(v.text);
  if (!a) return line.fail('bad-value', `${what}: ${opt.text} '${v.text}' is not an IPv4 or IPv6 address`, v);
  return fam.set(a.family, v, line, what) ? a.address : undefined;
}

/** One `virtual_routes` / `static_routes` line. */
export function readRoute(e: Stmt, r: ArgReader): IpRoute | undefined {
  const what = `route '${[e.key, ...e.args].map((t) => t.text).join(' ')}'`;
  const line = new Line(e, r, what);
  const fam = new FamilyOf();
  const d: { -readonly [K in keyof IpRoute]?: IpRoute[K] } = { type: 'unicast', table: TABLES['main'], scope: 0, onlink: false };
  let protocol: { n: number; at: Token } | undefined;
  let noTrack = false;
  while (!line.done) {
    const t = line.next();
    const k = t.text;
    if (ROUTE_UNSUPPORTED.has(k)) line.fail('unsupported', `${what}: the route option '${k}' is not supported by ipvs-ts; remove it`, t);
    else if (k === 'inet' || k === 'inet6') fam.set(k === 'inet' ? 4 : 6, t, line, what);
    else if (k === 'src') d.src = address(line, t, fam, what);
    else if (k === 'via' || k === 'gw') {
      if (k === 'gw') r.problems.warn('deprecated', `${what}: "gw" is the old spelling of "via"; taken as via`, posOf(t));
      const marker = line.peek();
      if (marker === 'inet' || marker === 'inet6') fam.set(line.next().text === 'inet' ? 4 : 6, t, line, what);
      d.via = address(line, t, fam, what);
    } else if (k === 'from') {
      const v = line.value(t);
      const p = v && prefix(v, line, what);
      if (v && p && p.family !== 6) line.fail('bad-value', `${what}: a route's 'from' is IPv6 only (keepalived's rule)`, v);
      else if (v && p && fam.set(6, v, line, what)) d.from = p.p;
    } else if (k === 'tos' || k === 'dsfield') d.tos = line.u32(t, 255);
    else if (k === 'table') d.table = line.named(t, TABLES, 0xffffffff);
    else if (k === 'protocol') {
      const n = line.named(t, PROTOCOLS, 255);
      if (n !== undefined) protocol = { n, at: t };
    } else if (k === 'scope') d.scope = line.named(t, SCOPES, 255);
    else if (k === 'metric' || k === 'priority' || k === 'preference') d.metric = line.u32(t);
    else if (k === 'dev' || k === 'oif') d.dev = line.value(t)?.text;
    else if (k === 'onlink') d.onlink = true;
    else if (k === 'no_track') noTrack = true;
    else if (k === 'add') continue;
    else {
      // keepalived: [to] [TYPE] DEST; the last destination wins.
      let dt = k === 'to' ? line.value(t) : t;
      if (dt && (ROUTE_TYPES as readonly string[]).includes(dt.text)) {
        d.type = dt.text as RouteType;
        dt = line.value(dt);
      }
      if (dt === undefined) break;
      if (dt.text === 'default6') {
        r.problems.warn('deprecated', `${what}: 'default6' is the old spelling of 'inet6 default'`, posOf(dt));
        if (fam.set(6, dt, line, what)) d.dst = { address: '', len: 0 };
        continue;
      }
      const looksLikeDest = /^[0-9a-f:.]+(\/\d+)?$/i.test(dt.text) || ['default', 'any', 'all'].includes(dt.text);
      if (!looksLikeDest) {
        line.fail('bad-value', `${what}: unknown route keyword '${dt.text}'`, dt);
        break;
      }
      const p = prefix(dt, line, what);
      if (p && fam.set(p.family, dt, line, what)) d.dst = p.p;
    }
  }
  if (line.failed) return undefined;
  if (d.dst === undefined) return line.fail('missing', `${what}: a route must have a destination`, e.key);
  const family = fam.value ?? 4;
  const unspec = family === 4 ? '0.0.0.0' : '::';
  const route: IpRoute = {
    family,
    type: d.type ?? 'unicast',
    dst: d.dst.len === 0 ? { address: unspec, len: 0 } : d.dst,
    ...(d.from ? { from: d.from } : {}),
    ...(d.via ? { via: d.via } : {}),
    ...(d.dev !== undefined ? { dev: d.dev } : {}),
    ...(d.src ? { src: d.src } : {}),
    table: d.table ?? 254,
    ...(d.metric !== undefined ? { metric: d.metric } : {}),
    scope: d.scope ?? 0,
    protocol: ownProtocol(protocol, noTrack, what, r),
    ...(d.tos !== undefined ? { tos: d.tos } : {}),
    onlink: d.onlink ?? false,
    pos: posOf(e.key),
  };
  if (route.type !== 'unicast' && (route.via || route.dev)) {
    return line.fail('bad-value', `${what}: a ${route.type} route has no gateway or device`, e.key);
  }
  return route;
}

/** keepalived tracks its routes and rules by protocol 18 and resets another one, unless the line says no_track. */
function ownProtocol(given: { n: number; at: Token } | undefined, noTrack: boolean, what: string, r: ArgReader): number {
  if (given === undefined) return RTPROT_KEEPALIVED;
  if (noTrack) return given.n;
  if (given.n !== RTPROT_KEEPALIVED) {
    r.problems.warn('lenient', `${what}: protocol ${given.n} is reset to ${RTPROT_KEEPALIVED} (keepalived), which is how ipvs-ts knows its own routes; add no_track to keep it`, posOf(given.at));
  }
  return RTPROT_KEEPALIVED;
}

const RULE_ACTIONS = ['goto', 'nop', 'blackhole', 'unreachable', 'prohibit'] as const;

/** One `virtual_rules` / `static_rules` line. */
export function readRule(e: Stmt, r: ArgReader): IpRule | undefined {
  const what = `rule '${[e.key, ...e.args].map((t) => t.text).join(' ')}'`;
  const line = new Line(e, r, what);
  const fam = new FamilyOf();
  const d: { -readonly [K in keyof IpRule]?: IpRule[K] } = { not: false };
  let protocol: { n: number; at: Token } | undefined;
  let noTrack = false;
  let priorityAt: Token | undefined;
  const action = (a: IpRule['action'], at: Token): void => {
    if (d.action !== undefined) line.fail('bad-value', `${what}: only one of table/goto/nop/blackhole/unreachable/prohibit`, at);
    else d.action = a;
  };
  while (!line.done) {
    const t = line.next();
    const k = t.text;
    if (RULE_UNSUPPORTED.has(k)) line.fail('unsupported', `${what}: the rule option '${k}' is not supported by ipvs-ts; remove it`, t);
    else if (k === 'inet' || k === 'inet6') fam.set(k === 'inet' ? 4 : 6, t, line, what);
    else if (k === 'from' || k === 'to') {
      const v = line.value(t);
      const p = v && prefix(v, line, what);
      if (v && p && fam.set(p.family, v, line, what)) d[k] = p.p;
    } else if (k === 'table' || k === 'lookup') {
      const n = line.named(t, TABLES, 0xffffffff);
      if (n === 0) line.fail('bad-value', `${what}: table 0 is not valid`, t);
      else if (n !== undefined) {
        d.table = n;
        action('table', t);
      }
    } else if (k === 'not') d.not = true;
    else if (k === 'preference' || k === 'order' || k === 'priority') {
      d.priority = line.u32(t);
      priorityAt = t;
    } else if (k === 'tos' || k === 'dsfield') d.tos = line.u32(t, 255);
    else if (k === 'fwmark') {
      const v = line.value(t);
      const [mark, mask, ...rest] = v?.text.split('/') ?? [];
      const m = mark === undefined ? undefined : parseUnsigned(mark);
      const mk = mask === undefined ? undefined : parseUnsigned(mask);
      if (v && (m === undefined || m > 0xffffffff || (mask !== undefined && (mk === undefined || mk > 0xffffffff)) || rest.length > 0)) {
        line.fail('bad-value', `${what}: fwmark '${v.text}' is not MARK or MARK/MASK (numbers up to 0xffffffff)`, v);
      } else if (m !== undefined) {
        d.fwmark = m;
        if (mk !== undefined) d.fwmask = mk;
      }
    } else if (k === 'dev' || k === 'iif') d.iif = line.value(t)?.text;
    else if (k === 'oif') d.oif = line.value(t)?.text;
    else if (k === 'protocol') {
      const n = line.named(t, PROTOCOLS, 255);
      if (n !== undefined) protocol = { n, at: t };
    } else if (k === 'no_track') noTrack = true;
    else {
      const a = k === 'type' ? line.value(t) : t;
      if (a === undefined) break;
      if (a.text === 'goto') {
        d.goto = line.u32(a);
        action('goto', a);
      } else if ((RULE_ACTIONS as readonly string[]).includes(a.text)) action(a.text as IpRule['action'], a);
      else line.fail('bad-value', `${what}: unknown rule option '${a.text}'`, a);
    }
  }
  if (line.failed) return undefined;
  if (d.action === undefined) return line.fail('missing', `${what}: no action (table N, goto N, nop, blackhole, unreachable or prohibit)`, e.key);
  if (d.action === 'goto' && (d.priority === undefined || d.priority >= (d.goto ?? 0))) {
    return line.fail('bad-value', `${what}: goto needs a preference below its target`, priorityAt ?? e.key);
  }
  const family = fam.value ?? 4;
  let priority = d.priority;
  if (priority === undefined) {
    const next = nextRulePriority.get(r) ?? { 4: RULE_START_PRIORITY, 6: RULE_START_PRIORITY };
    nextRulePriority.set(r, next);
    priority = next[family]--;
    r.problems.warn('lenient', `${what}: no preference; set to ${priority}, as keepalived does (this is probably not what you want: add "preference N")`, posOf(e.key));
  }
  return {
    family, action: d.action, ...(d.table !== undefined ? { table: d.table } : {}), ...(d.goto !== undefined ? { goto: d.goto } : {}), priority,
    ...(d.from ? { from: d.from } : {}), ...(d.to ? { to: d.to } : {}), not: d.not ?? false,
    ...(d.tos !== undefined ? { tos: d.tos } : {}), ...(d.fwmark !== undefined ? { fwmark: d.fwmark } : {}), ...(d.fwmask !== undefined ? { fwmask: d.fwmask } : {}),
    ...(d.iif !== undefined ? { iif: d.iif } : {}), ...(d.oif !== undefined ? { oif: d.oif } : {}),
    protocol: ownProtocol(protocol, noTrack, what, r), pos: posOf(e.key),
  };
}

/** A route as `ip route` would print it; the status and the log name routes this way. */
export function describeRoute(rt: IpRoute): string {
  const dst = rt.dst.len === 0 ? 'default' : `${rt.dst.address}/${rt.dst.len}`;
  const parts = [rt.type === 'unicast' ? dst : `${rt.type} ${dst}`];
  if (rt.from) parts.push(`from ${rt.from.address}/${rt.from.len}`);
  if (rt.via) parts.push(`via ${rt.via}`);
  if (rt.dev) parts.push(`dev ${rt.dev}`);
  if (rt.src) parts.push(`src ${rt.src}`);
  if (rt.table !== 254) parts.push(`table ${rt.table}`);
  if (rt.metric !== undefined) parts.push(`metric ${rt.metric}`);
  if (rt.scope !== 0) parts.push(`scope ${Object.keys(SCOPES).find((n) => SCOPES[n] === rt.scope) ?? rt.scope}`);
  if (rt.tos !== undefined) parts.push(`tos ${rt.tos}`);
  if (rt.onlink) parts.push('onlink');
  if (rt.protocol !== RTPROT_KEEPALIVED) parts.push(`proto ${rt.protocol}`);
  return parts.join(' ');
}

/** A rule as `ip rule` would print it. */
export function describeRule(ru: IpRule): string {
  const parts = [`${ru.priority}:`];
  if (ru.not) parts.push('not');
  parts.push(ru.from ? `from ${ru.from.len === 0 ? 'all' : `${ru.from.address}/${ru.from.len}`}` : 'from all');
  if (ru.to) parts.push(`to ${ru.to.address}/${ru.to.len}`);
  if (ru.tos !== undefined) parts.push(`tos ${ru.tos}`);
  if (ru.fwmark !== undefined) parts.push(`fwmark ${ru.fwmark}${ru.fwmask !== undefined ? `/${ru.fwmask}` : ''}`);
  if (ru.iif) parts.push(`iif ${ru.iif}`);
  if (ru.oif) parts.push(`oif ${ru.oif}`);
  if (ru.action === 'table') parts.push(`lookup ${ru.table}`);
  else if (ru.action === 'goto') parts.push(`goto ${ru.goto}`);
  else parts.push(ru.action);
  if (ru.family === 6) parts.unshift('inet6');
  return parts.join(' ');
}

/** static_ipaddress lines are virtual_ipaddress lines that must name their device (there is no instance interface). */
export function checkStaticAddresses(list: readonly VirtualIp[], r: ArgReader): VirtualIp[] {
  return list.filter((v) => {
    if (v.dev) return true;
    r.problems.error('missing', `static_ipaddress ${v.address}/${v.prefix} needs "dev IF"`, v.pos);
    return false;
  });
}
