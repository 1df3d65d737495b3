// The IPVS table the director wants, service by service: the configuration's services (src/ipvs/desired.ts) with
// only the real servers the checkers allow, at the weights they allow, the sorry server when the pool has lost
// quorum, and real servers removed by a reload kept at weight 0 until their connections drain. A real server
// nobody has checked yet is taken as the kernel has it: a restarted daemon adopts the running table instead of
// emptying it. Indexed by service key and by virtual server, so a verdict re-plans only its own services.
// With `mh` and `mh-fallback`, real servers that are not in stay at weight 0 instead (src/ipvs/mh.ts).
import type { Config, LbKind, VirtualServer } from '../config/model.ts';
import { modelKey } from '../config/compare.ts';
import { type GroupMembers, groupsOf, virtualServerServices } from '../ipvs/desired.ts';
import { destKey, serviceKey } from '../ipvs/identity.ts';
import { withFailedAtZero } from '../ipvs/mh.ts';
import { specOf } from '../ipvs/plan.ts';
import type { DestinationSpec, ForwardMethod, IpvsTable } from '../ipvs/types.ts';
import type { ViewService } from '../ipvs/view.ts';
import { endpointLabel, virtualServerLabel } from '../check/labels.ts';
import { rsHealth, type VsHealth } from './health.ts';

const FORWARD: Record<LbKind, ForwardMethod> = { NAT: 'masq', DR: 'droute', TUN: 'tunnel' };

type TableService = IpvsTable['services'][number];

export interface DesiredEntry {
  /** The virtual server that asks for this service (the first in the file when several do). */
  readonly vs: VirtualServer;
  /** The service with every configured real server at its configured weight. */
  readonly configured: TableService;
}

export class DesiredIndex {
  readonly #byKey = new Map<string, DesiredEntry>();
  readonly #byLabel = new Map<string, string[]>();
  readonly #fingerprints = new Map<string, string>();

  constructor(config: Config) {
    for (const vs of config.virtualServers) {
      const keys: string[] = [];
      for (const s of servicesOf(config, vs)) {
        const key = serviceKey(s.service.id);
        if (this.#byKey.has(key)) continue;
        this.#byKey.set(key, { vs, configured: s });
        keys.push(key);
      }
      this.#byLabel.set(virtualServerLabel(vs), keys);
    }
  }

  get(key: string): DesiredEntry | undefined {
    return this.#byKey.get(key);
  }

  keys(): IterableIterator<string> {
    return this.#byKey.keys();
  }

  /** The services whose destinations follow this virtual server's verdicts. */
  keysOf(label: string): readonly string[] {
    return this.#byLabel.get(label) ?? [];
  }

  /** Services a reload to `next` may change: added, removed, or asked for by a virtual server that changed. */
  changedTo(next: DesiredIndex): Set<string> {
    const changed = new Set<string>();
    for (const key of this.#byKey.keys()) if (next.#fingerprint(key) !== this.#fingerprint(key)) changed.add(key);
    for (const key of next.#byKey.keys()) if (!this.#byKey.has(key)) changed.add(key);
    return changed;
  }

  #fingerprint(key: string): string | undefined {
    const e = this.#byKey.get(key);
    if (!e) return undefined;
    const label = virtualServerLabel(e.vs);
    let f = this.#fingerprints.get(label);
    if (f === undefined) this.#fingerprints.set(label, (f = modelKey(e.vs)));
    return `${f}\n${modelKey(e.configured)}`;
  }
}

/**
 * One service as it should be now. `have` is the kernel's entry (for real servers not checked yet and for
 * draining ones); `draining` the destKeys a reload removed from it that still carry connections.
 */
export function wantedService(entry: DesiredEntry, health: VsHealth | undefined, have: ViewService | undefined, draining: ReadonlySet<string> | undefined): TableService {
  const { vs, configured } = entry;
  const { destKeys, labels } = realServerKeys(vs, configured);
  const dests = new Map<string, DestinationSpec>();
  const rss = vs.realServers;
  for (let i = 0; i < rss.length; i++) {
    const spec = configured.destinations[i];
    if (!spec) continue;
    const key = destKeys[i]!;
    const verdict = rsHealth(health, rss[i]!, labels[i]!);
    const weight = verdict ? (verdict.present ? verdict.weight : undefined) : have?.destinations.get(key)?.weight;
    // The configured spec itself when the weight is the configured one (most of 100,000 at a start).
    if (weight !== undefined && !dests.has(key)) dests.set(key, weight === spec.weight ? spec : { ...spec, weight });
  }
  const sorry = vs.sorryServer;
  if (sorry && health?.sorry?.present && !dests.has(destKey(sorry))) {
    const forward = FORWARD[sorry.lbKind ?? vs.lbKind];
    dests.set(destKey(sorry), { address: sorry.address, family: sorry.family, port: sorry.port, forward, weight: health.sorry.weight, upperThreshold: 0, lowerThreshold: 0 });
  }
  for (const k of draining ?? []) {
    const old = have?.destinations.get(k);
    if (old && !dests.has(k)) dests.set(k, { ...specOf(old), weight: 0 });
  }
  return withFailedAtZero({ service: configured.service, destinations: [...dests.values()] }, configured);
}

export interface RealServerKeys {
  /** Per configured real server: its destination key in the virtual server's services ('' if it has none). */
  readonly destKeys: readonly string[];
  /** Per configured real server: its health key (endpointLabel). */
  readonly labels: readonly string[];
}

const realServerKeysCache = new WeakMap<VirtualServer, RealServerKeys>();

/**
 * A virtual server's per-real-server keys, made once per (immutable) model object: the planner and status and
 * /metrics look them up for every real server. `service` is any of its services: a group's services hold the same
 * destinations, in the order of its real servers.
 */
export function realServerKeys(vs: VirtualServer, service: TableService | undefined): RealServerKeys {
  let keys = realServerKeysCache.get(vs);
  if (!keys) {
    const specs = service?.destinations ?? [];
    const destKeys = vs.realServers.map((_, i) => (specs[i] ? destKey(specs[i]) : ''));
    // Both are host:port of the same real server: one string for the two where they are equal (100,000 fewer
    // strings kept at 100,000 real servers).
    const labels = vs.realServers.map((rs, i) => {
      const label = endpointLabel(rs);
      return label === destKeys[i] ? destKeys[i] : label;
    });
    keys = { destKeys, labels };
    realServerKeysCache.set(vs, keys);
  }
  return keys;
}

const servicesCache = new WeakMap<VirtualServer, IpvsTable['services']>();
/** Each configuration's groups by name, for servicesOf (a reload brings a new configuration object). */
const groupsCache = new WeakMap<Config, GroupMembers>();

/** The services one virtual server stands for (a group expands to several), with every real server in order. */
export function servicesOf(config: Config, vs: VirtualServer): IpvsTable['services'] {
  // Model objects are immutable and a reload brings new ones, so the expansion is computed once per object.
  let services = servicesCache.get(vs);
  if (!services) {
    let groups = groupsCache.get(config);
    if (!groups) groupsCache.set(config, (groups = groupsOf(config)));
    servicesCache.set(vs, (services = virtualServerServices(vs, groups)));
  }
  return services;
}
