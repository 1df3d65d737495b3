// rtnetlink routes and policy rules: add, delete, list (RTM_{NEW,DEL,GET}ROUTE, RTM_{NEW,DEL,GET}RULE). A codec
// plus requests over a NetlinkConnection; what to install, and which routes are ipvs-ts's, is src/vrrp/routes.ts's.
//
//   await addRoute(nl, { family: 4, dst: '10.1.0.0', dstLen: 16, gateway: '10.0.0.254', protocol: 18, … });
//     // NLM_F_CREATE|NLM_F_EXCL: a route with the same key (table, dst, tos, metric) rejects with code 'EEXIST'
//   await deleteRoute(nl, spec);   // matches the protocol too, so another daemon's route is never deleted
//   const routes = await listRoutes(nl, 4);
//   await addRule(nl, { family: 4, action: FR_ACT_TO_TBL, table: 100, priority: 100, src: { address: '10.0.0.0', len: 8 }, … });
import { AF_INET, AF_INET6 } from '../sys/constants.ts';
import { inetNtop, inetPton } from '../sys/inet.ts';
import { type Attr, attrsLength, binary, decodeAttrs, string, u32, u8, writeAttrs } from './attributes.ts';
import { NetlinkError } from './errors.ts';
import { type NetlinkMessage, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE } from './message.ts';
import type { NetlinkConnection } from './socket.ts';

export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;
export const RTM_NEWRULE = 32;
export const RTM_DELRULE = 33;
export const RTM_GETRULE = 34;

export const RTA_DST = 1;
export const RTA_SRC = 2;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_PRIORITY = 6;
export const RTA_PREFSRC = 7;
export const RTA_TABLE = 15;

export const RTN = { unicast: 1, local: 2, broadcast: 3, anycast: 4, multicast: 5, blackhole: 6, unreachable: 7, prohibit: 8, throw: 9 } as const;
export const RTNH_F_ONLINK = 4;
export const RT_SCOPE_NOWHERE = 255;
export const RT_TABLE_MAIN = 254;

export const FRA_DST = 1;
export const FRA_SRC = 2;
export const FRA_IIFNAME = 3;
export const FRA_GOTO = 4;
export const FRA_PRIORITY = 6;
export const FRA_FWMARK = 10;
export const FRA_TABLE = 15;
export const FRA_FWMASK = 16;
export const FRA_OIFNAME = 17;
export const FRA_PROTOCOL = 21;

export const FR_ACT = { table: 1, goto: 2, nop: 3, blackhole: 6, unreachable: 7, prohibit: 8 } as const;
export const FIB_RULE_INVERT = 0x2;

export interface Prefix {
  readonly address: string;
  readonly len: number;
}

export interface RouteSpec {
  readonly family: 4 | 6;
  /** RTN_* (RTN.unicast …). */
  readonly type: number;
  /** Network address; '0.0.0.0' / '::' with dstLen 0 for a default route. */
  readonly dst: string;
  readonly dstLen: number;
  /** IPv6 source-specific routing (RTA_SRC). */
  readonly src?: Prefix;
  readonly gateway?: string;
  readonly oif?: number;
  readonly prefsrc?: string;
  readonly table: number;
  /** RTA_PRIORITY, the metric. */
  readonly priority?: number;
  /** RT_SCOPE_*. */
  readonly scope: number;
  /** rtm_protocol. */
  readonly protocol: number;
  readonly tos: number;
  /** RTNH_F_* (RTNH_F_ONLINK). */
  readonly flags: number;
}

export interface RuleSpec {
  readonly family: 4 | 6;
  /** FR_ACT_*. */
  readonly action: number;
  readonly table?: number;
  readonly goto?: number;
  readonly priority: number;
  readonly src?: Prefix;
  readonly dst?: Prefix;
  /** FIB_RULE_* flags (FIB_RULE_INVERT). */
  readonly flags: number;
  readonly tos: number;
  readonly fwmark?: number;
  readonly fwmask?: number;
  readonly iifname?: string;
  readonly oifname?: string;
  readonly protocol: number;
}

/** Adds a route with NLM_F_CREATE|NLM_F_EXCL, so one with the same key rejects with 'EEXIST'; `replace` overwrites it. */
export async function addRoute(nl: NetlinkConnection, spec: RouteSpec, opts: { replace?: boolean; what?: string } = {}): Promise<void> {
  const flags = NLM_F_CREATE | (opts.replace ? NLM_F_REPLACE : NLM_F_EXCL);
  await nl.request(routeRequest(RTM_NEWROUTE, spec, flags, opts.what ?? `add route ${spec.dst}/${spec.dstLen}`));
}

/** Deletes the route that matches `spec`, protocol included; none rejects with 'ESRCH' (or 'ENOENT'). */
export async function deleteRoute(nl: NetlinkConnection, spec: RouteSpec, what?: string): Promise<void> {
  await nl.request(routeRequest(RTM_DELROUTE, spec, 0, what ?? `delete route ${spec.dst}/${spec.dstLen}`));
}

/** Every route of a family in every table (the kernel does not filter RTM_GETROUTE dumps by table). */
export async function listRoutes(nl: NetlinkConnection, family: 4 | 6): Promise<RouteSpec[]> {
  const hdr = Buffer.alloc(12);
  hdr.writeUInt8(family === 4 ? AF_INET : AF_INET6, 0);
  const replies = await nl.dump({ type: RTM_GETROUTE, payload: hdr, what: `list IPv${family} routes` });
  return replies.filter((m) => m.type === RTM_NEWROUTE).map(decodeRoute);
}

/** The request addRoute/deleteRoute send. A delete leaves scope at "nowhere" (any) and the type at unicast unset, as iproute2 does. */
export function routeRequest(type: number, spec: RouteSpec, flags: number, what: string) {
  const del = type === RTM_DELROUTE;
  const attrs: Attr[] = [];
  if (spec.dstLen > 0) attrs.push(binary(RTA_DST, inetPton(spec.dst)));
  if (spec.src) attrs.push(binary(RTA_SRC, inetPton(spec.src.address)));
  if (spec.prefsrc) attrs.push(binary(RTA_PREFSRC, inetPton(spec.prefsrc)));
  if (spec.gateway) attrs.push(binary(RTA_GATEWAY, inetPton(spec.gateway)));
  if (spec.oif !== undefined) attrs.push(u32(RTA_OIF, spec.oif));
  if (spec.priority !== undefined) attrs.push(u32(RTA_PRIORITY, spec.priority));
  if (spec.table >= 256) attrs.push(u32(RTA_TABLE, spec.table));
  const b = Buffer.alloc(12 + attrsLength(attrs));
  b.writeUInt8(spec.family === 4 ? AF_INET : AF_INET6, 0);
  b.writeUInt8(spec.dstLen, 1);
  b.writeUInt8(spec.src?.len ?? 0, 2);
  b.writeUInt8(spec.tos, 3);
  b.writeUInt8(spec.table < 256 ? spec.table : 0, 4);
  b.writeUInt8(spec.protocol, 5);
  b.writeUInt8(del ? RT_SCOPE_NOWHERE : spec.scope, 6);
  b.writeUInt8(del && spec.type === RTN.unicast ? 0 : spec.type, 7);
  b.writeUInt32LE(spec.flags, 8);
  writeAttrs(b, 12, attrs);
  return { type, flags, what, payload: b };
}

export function decodeRoute(m: NetlinkMessage): RouteSpec {
  const p = m.payload;
  if (p.length < 12) throw new NetlinkError('MALFORMED', `route message of ${p.length} bytes is shorter than rtmsg`);
  const family = p.readUInt8(0) === AF_INET6 ? 6 : 4;
  const a = decodeAttrs(p.subarray(12));
  const addr = (type: number): string | undefined => {
    const raw = a.get(type);
    return raw && (raw.length === 4 || raw.length === 16) ? inetNtop(raw) : undefined;
  };
  const srcLen = p.readUInt8(2);
  const src = addr(RTA_SRC);
  const gateway = addr(RTA_GATEWAY);
  const prefsrc = addr(RTA_PREFSRC);
  const oif = a.u32(RTA_OIF);
  const priority = a.u32(RTA_PRIORITY);
  const route: RouteSpec = {
    family,
    type: p.readUInt8(7),
    dst: addr(RTA_DST) ?? (family === 4 ? '0.0.0.0' : '::'),
    dstLen: p.readUInt8(1),
    ...(src !== undefined && srcLen > 0 ? { src: { address: src, len: srcLen } } : {}),
    ...(gateway !== undefined ? { gateway } : {}),
    ...(oif !== undefined ? { oif } : {}),
    ...(prefsrc !== undefined ? { prefsrc } : {}),
    table: a.u32(RTA_TABLE) ?? p.readUInt8(4),
    ...(priority !== undefined ? { priority } : {}),
    scope: p.readUInt8(6),
    protocol: p.readUInt8(5),
    tos: p.readUInt8(3),
    flags: p.readUInt32LE(8),
  };
  if (a.error) throw new NetlinkError('MALFORMED', `bad route message: ${a.error}`);
  return route;
}

/** Adds a rule with NLM_F_CREATE|NLM_F_EXCL: an identical rule (protocol included) rejects with 'EEXIST'. */
export async function addRule(nl: NetlinkConnection, spec: RuleSpec, what?: string): Promise<void> {
  await nl.request(ruleRequest(RTM_NEWRULE, spec, NLM_F_CREATE | NLM_F_EXCL, what ?? `add rule ${spec.priority}`));
}

/** Deletes the rule that matches `spec`, protocol included; none rejects with 'ENOENT'. */
export async function deleteRule(nl: NetlinkConnection, spec: RuleSpec, what?: string): Promise<void> {
  await nl.request(ruleRequest(RTM_DELRULE, spec, 0, what ?? `delete rule ${spec.priority}`));
}

export function ruleRequest(type: number, spec: RuleSpec, flags: number, what: string) {
  const attrs: Attr[] = [u32(FRA_PRIORITY, spec.priority)];
  if (spec.src) attrs.push(binary(FRA_SRC, inetPton(spec.src.address)));
  if (spec.dst) attrs.push(binary(FRA_DST, inetPton(spec.dst.address)));
  if (spec.iifname !== undefined) attrs.push(string(FRA_IIFNAME, spec.iifname));
  if (spec.oifname !== undefined) attrs.push(string(FRA_OIFNAME, spec.oifname));
  if (spec.fwmark !== undefined) attrs.push(u32(FRA_FWMARK, spec.fwmark));
  if (spec.fwmask !== undefined) attrs.push(u32(FRA_FWMASK, spec.fwmask));
  if (spec.goto !== undefined) attrs.push(u32(FRA_GOTO, spec.goto));
  if (spec.table !== undefined && spec.table >= 256) attrs.push(u32(FRA_TABLE, spec.table));
  attrs.push(u8(FRA_PROTOCOL, spec.protocol));
  const b = Buffer.alloc(12 + attrsLength(attrs));
  b.writeUInt8(spec.family === 4 ? AF_INET : AF_INET6, 0);
  b.writeUInt8(spec.dst?.len ?? 0, 1);
  b.writeUInt8(spec.src?.len ?? 0, 2);
  b.writeUInt8(spec.tos, 3);
  b.writeUInt8(spec.table !== undefined && spec.table < 256 ? spec.table : 0, 4);
  b.writeUInt8(spec.action, 7);
  b.writeUInt32LE(spec.flags, 8);
  writeAttrs(b, 12, attrs);
  return { type, flags, what, payload: b };
}

/** Every rule of a family (priority and protocol are what callers look at). */
export async function listRules(nl: NetlinkConnection, family: 4 | 6): Promise<{ priority: number; protocol: number; table: number; action: number }[]> {
  const hdr = Buffer.alloc(12);
  hdr.writeUInt8(family === 4 ? AF_INET : AF_INET6, 0);
  const replies = await nl.dump({ type: RTM_GETRULE, payload: hdr, what: `list IPv${family} rules` });
  return replies.filter((m) => m.type === RTM_NEWRULE).map((m) => {
    const p = m.payload;
    if (p.length < 12) throw new NetlinkError('MALFORMED', `rule message of ${p.length} bytes is shorter than fib_rule_hdr`);
    const a = decodeAttrs(p.subarray(12));
    const rule = { priority: a.u32(FRA_PRIORITY) ?? 0, protocol: a.u8(FRA_PROTOCOL) ?? 0, table: a.u32(FRA_TABLE) ?? p.readUInt8(4), action: p.readUInt8(7) };
    if (a.error) throw new NetlinkError('MALFORMED', `bad rule message: ${a.error}`);
    return rule;
  });
}
