// The routes, policy rules and static addresses ipvs-ts holds in the kernel: an instance's virtual_routes and
// virtual_rules while it is MASTER, static_* from start to stop. A set of wanted entries is applied by difference,
// so a reload touches only what changed.
//
// Which routes are ours: the protocol the configuration gives them, 18 (RTPROT_KEEPALIVED) unless a line says
// no_track + protocol. A delete names that protocol, which the kernel matches, so a route or rule another daemon
// (or an administrator, proto static/boot) installed with the same key is never removed. A route already present
// at add time (EEXIST) is adopted when it has our protocol (a run killed with -9 left it) and is made to match the
// configuration; with another protocol it is left alone and reported.
import { describeRoute, describeRule } from '../config/routes.ts';
import { modelKey } from '../config/compare.ts';
import type { IpRoute, IpRule, SourcePos, VirtualIp } from '../config/model.ts';
import { NetlinkError } from '../netlink/errors.ts';
import { addRoute, addRule, deleteRoute, deleteRule, FIB_RULE_INVERT, FR_ACT, listRoutes, RTN, RTNH_F_ONLINK, type RouteSpec, type RuleSpec } from '../netlink/routes.ts';
import type { NetlinkSocket } from '../netlink/socket.ts';
import { sys } from '../sys/native.ts';
import { VrrpError } from './errors.ts';
import { addVip, deleteVip } from './vips.ts';

export type Entry =
  | { readonly kind: 'route'; readonly route: IpRoute }
  | { readonly kind: 'rule'; readonly rule: IpRule }
  | { readonly kind: 'address'; readonly address: VirtualIp };

/** Equal for two entries exactly when they are the same kernel object (source positions do not count). */
export function entryKey(e: Entry): string {
  return `${e.kind} ${modelKey(e.kind === 'route' ? e.route : e.kind === 'rule' ? e.rule : e.address)}`;
}

export function describeEntry(e: Entry): string {
  if (e.kind === 'route') return `route ${describeRoute(e.route)}`;
  if (e.kind === 'rule') return `rule ${describeRule(e.rule)}`;
  return `address ${e.address.address}/${e.address.prefix} dev ${e.address.dev}`;
}

function posOfEntry(e: Entry): SourcePos {
  return e.kind === 'route' ? e.route.pos : e.kind === 'rule' ? e.rule.pos : e.address.pos;
}

/** Rules go before the routes they lead to, routes before the addresses they may use as source (keepalived's order). */
const REMOVE_ORDER = { rule: 0, route: 1, address: 2 } as const;

/**
 * The entries one owner (the VRRP masters, or static_*) holds. What it could not do is logged as
 * `cannot add route … (FILE:LINE): RTM_NEWROUTE failed: <extack or errno text> (ERRNO)`.
 */
export class KernelEntries {
  readonly #nl: NetlinkSocket;
  readonly #log: (line: string) => void;
  readonly #held = new Map<string, Entry>();

  constructor(nl: NetlinkSocket, log: (line: string) => void) {
    this.#nl = nl;
    this.#log = log;
  }

  has(e: Entry): boolean {
    return this.#held.has(entryKey(e));
  }

  /** The kernel dropped the routes and addresses on a deleted link (a VMAC made again): the next addMissing re-adds them. */
  forgetDev(dev: string): void {
    for (const [k, e] of this.#held) if ((e.kind === 'route' ? e.route.dev : e.kind === 'address' ? e.address.dev : undefined) === dev) this.#held.delete(k);
  }

  /** Removes what is held and not in `want`. */
  async removeUnwanted(want: readonly Entry[]): Promise<void> {
    const keys = new Set(want.map(entryKey));
    const gone = [...this.#held].filter(([k]) => !keys.has(k)).sort(([, a], [, b]) => REMOVE_ORDER[a.kind] - REMOVE_ORDER[b.kind]);
    for (const [k, e] of gone) {
      this.#held.delete(k);
      await remove(this.#nl, e).catch((err: Error) => this.#log(`cannot remove ${describeEntry(e)} (${where(e)}): ${err.message}`));
    }
  }

  /** Adds what is in `want` and not held; a failure is logged and retried at the next call. */
  async addMissing(want: readonly Entry[], logPrefix = ''): Promise<void> {
    const missing = want.filter((e) => !this.#held.has(entryKey(e))).sort((a, b) => REMOVE_ORDER[b.kind] - REMOVE_ORDER[a.kind]);
    for (const e of missing) {
      const k = entryKey(e);
      if (this.#held.has(k)) continue;
      try {
        const how = await install(this.#nl, e);
        this.#held.set(k, e);
        if (how !== 'added') this.#log(`${logPrefix}${how} ${describeEntry(e)} (${where(e)})`);
      } catch (err) {
        this.#log(`${logPrefix}cannot add ${describeEntry(e)} (${where(e)}): ${(err as Error).message}`);
      }
    }
  }

  async sync(want: readonly Entry[], logPrefix = ''): Promise<void> {
    await this.removeUnwanted(want);
    await this.addMissing(want, logPrefix);
  }
}

/**
 * Removes entries a killed run may have left, without holding them: an instance starts outside MASTER, so its
 * virtual routes and rules must not be there (as its VIPs, engine.ts start()). Absent ones are fine.
 */
export async function clearLeftovers(nl: NetlinkSocket, entries: readonly Entry[]): Promise<void> {
  for (const e of [...entries].sort((a, b) => REMOVE_ORDER[a.kind] - REMOVE_ORDER[b.kind])) await remove(nl, e).catch(() => undefined);
}

function where(e: Entry): string {
  const p = posOfEntry(e);
  return `${p.file}:${p.line}`;
}

async function install(nl: NetlinkSocket, e: Entry): Promise<'added' | 'adopted' | 'replaced'> {
  if (e.kind === 'address') {
    await addVip(nl, e.address);
    return 'added';
  }
  if (e.kind === 'rule') {
    try {
      await addRule(nl, ruleSpec(e.rule), 'RTM_NEWRULE');
      return 'added';
    } catch (err) {
      // NLM_F_EXCL on a rule: EEXIST means an identical one, protocol included, is there.
      if (err instanceof NetlinkError && err.code === 'EEXIST') return 'adopted';
      throw err;
    }
  }
  const spec = routeSpec(e.route);
  try {
    await addRoute(nl, spec, { what: 'RTM_NEWROUTE' });
    return 'added';
  } catch (err) {
    if (!(err instanceof NetlinkError) || err.code !== 'EEXIST') throw err;
  }
  const there = (await listRoutes(nl, spec.family)).filter((r) => sameKey(r, spec));
  if (there.some((r) => sameRoute(r, spec))) return 'adopted';
  if (there.length > 0 && there.every((r) => r.protocol === spec.protocol)) {
    await addRoute(nl, spec, { replace: true, what: 'RTM_NEWROUTE (replace)' });
    return 'replaced';
  }
  const theirs = there.find((r) => r.protocol !== spec.protocol);
  throw new VrrpError('VRRP_ROUTE_FOREIGN', `a route with this destination${theirs ? ` (protocol ${theirs.protocol})` : ''} that ipvs-ts did not install is there; left alone`);
}

async function remove(nl: NetlinkSocket, e: Entry): Promise<void> {
  try {
    if (e.kind === 'address') await deleteVip(nl, e.address);
    else if (e.kind === 'rule') await deleteRule(nl, ruleSpec(e.rule), 'RTM_DELRULE');
    else await deleteRoute(nl, routeSpec(e.route), 'RTM_DELROUTE');
  } catch (err) {
    // Already gone (removed by hand, or with its device): what we wanted.
    if (err instanceof NetlinkError && (err.code === 'ESRCH' || err.code === 'ENOENT' || err.code === 'ENODEV')) return;
    throw err;
  }
}

/** The kernel's key of a route: a second one with the same key is EEXIST under NLM_F_EXCL. */
function sameKey(a: RouteSpec, b: RouteSpec): boolean {
  return a.table === b.table && a.dst === b.dst && a.dstLen === b.dstLen && a.tos === b.tos && (a.src?.address ?? '') === (b.src?.address ?? '') &&
    (a.src?.len ?? 0) === (b.src?.len ?? 0) && a.priority === b.priority;
}

function sameRoute(have: RouteSpec, want: RouteSpec): boolean {
  return have.protocol === want.protocol && have.type === want.type && have.gateway === want.gateway && have.prefsrc === want.prefsrc &&
    (want.oif === undefined || have.oif === want.oif) && (want.family === 6 || have.scope === want.scope);
}

/** The configuration's route as rtnetlink wants it; a device that does not exist is an error naming it. */
export function routeSpec(rt: IpRoute): RouteSpec {
  const oif = rt.dev === undefined ? undefined : ifindex(rt.dev);
  // The kernel reports an IPv6 route without a metric at 1024 and an IPv4 one at none (0): compare like with like.
  const priority = rt.metric ?? (rt.family === 6 ? 1024 : undefined);
  return {
    family: rt.family, type: RTN[rt.type], dst: rt.dst.address, dstLen: rt.dst.len,
    ...(rt.from ? { src: rt.from } : {}), ...(rt.via ? { gateway: rt.via } : {}), ...(oif !== undefined ? { oif } : {}),
    ...(rt.src ? { prefsrc: rt.src } : {}), table: rt.table, ...(priority !== undefined ? { priority } : {}),
    scope: rt.scope, protocol: rt.protocol, tos: rt.tos ?? 0, flags: rt.onlink ? RTNH_F_ONLINK : 0,
  };
}

export function ruleSpec(ru: IpRule): RuleSpec {
  return {
    family: ru.family, action: FR_ACT[ru.action], ...(ru.table !== undefined ? { table: ru.table } : {}), ...(ru.goto !== undefined ? { goto: ru.goto } : {}),
    priority: ru.priority, ...(ru.from ? { src: ru.from } : {}), ...(ru.to ? { dst: ru.to } : {}), flags: ru.not ? FIB_RULE_INVERT : 0,
    tos: ru.tos ?? 0, ...(ru.fwmark !== undefined ? { fwmark: ru.fwmark } : {}), ...(ru.fwmask !== undefined ? { fwmask: ru.fwmask } : {}),
    ...(ru.iif !== undefined ? { iifname: ru.iif } : {}), ...(ru.oif !== undefined ? { oifname: ru.oif } : {}), protocol: ru.protocol,
  };
}

function ifindex(dev: string): number {
  try {
    return sys().ifNameToIndex(dev);
  } catch {
    throw new VrrpError('VRRP_ROUTE_DEVICE', `interface ${dev} does not exist`);
  }
}

/** An instance's virtual routes and rules as entries. */
export function virtualEntries(i: { virtualRoutes?: readonly IpRoute[]; virtualRules?: readonly IpRule[] }): Entry[] {
  return [...(i.virtualRoutes ?? []).map((route): Entry => ({ kind: 'route', route })), ...(i.virtualRules ?? []).map((rule): Entry => ({ kind: 'rule', rule }))];
}

/** static_ipaddress, static_routes and static_rules as entries. */
export function staticEntries(c: { staticAddresses?: readonly VirtualIp[]; staticRoutes?: readonly IpRoute[]; staticRules?: readonly IpRule[] }): Entry[] {
  return [
    ...(c.staticAddresses ?? []).map((address): Entry => ({ kind: 'address', address })),
    ...(c.staticRoutes ?? []).map((route): Entry => ({ kind: 'route', route })),
    ...(c.staticRules ?? []).map((rule): Entry => ({ kind: 'rule', rule })),
  ];
}
