// What the checkers last said about each virtual server: per real server the verdict (health, and what the IPVS
// table should hold), the pool's quorum and the sorry server. Keyed by labels, so a reload keeps the entries of
// real servers that remain even though the model objects are new.
import type { CheckEvent } from '../check/types.ts';
import { endpointLabel, virtualServerLabel } from '../check/labels.ts';
import type { RealServer, VirtualServer } from '../config/model.ts';

export interface RsHealth {
  readonly up: boolean;
  readonly present: boolean;
  readonly weight: number;
  readonly reason: string;
  readonly latencyMs: number;
  /** Wall-clock ms of the verdict that set `up` to its current value. */
  readonly since: number;
}

export interface VsHealth {
  /** Wall-clock ms at which its checkers started: from then on a real server without checkers is up (see rsHealth). */
  since: number;
  quorumUp: boolean;
  liveWeight: number | undefined;
  sorry: { present: boolean; weight: number } | undefined;
  readonly rs: Map<string, RsHealth>;
  /** The implied verdicts of its real servers without checkers, one per weight (see rsHealth), made when first asked. */
  alwaysUp?: Map<number, RsHealth>;
}

export class HealthStore {
  readonly #vs = new Map<string, VsHealth>();

  get(vs: VirtualServer): VsHealth | undefined {
    return this.#vs.get(virtualServerLabel(vs));
  }

  /** Its checkers have started: its real servers without checkers are up from now on. */
  started(vs: VirtualServer, now: number): void {
    this.#entry(virtualServerLabel(vs), now);
  }

  /** Records an event; returns whether the IPVS table may need to change. */
  apply(event: CheckEvent, now: number): boolean {
    if (event.kind === 'script') return false;
    const h = this.#entry(virtualServerLabel(event.virtualServer), now);
    if (event.kind === 'quorum') {
      h.quorumUp = event.up;
      h.liveWeight = event.liveWeight;
      return false;
    }
    if (event.kind === 'sorryServer') {
      h.sorry = { present: event.present, weight: event.weight };
      return true;
    }
    const key = endpointLabel(event.realServer);
    const old = h.rs.get(key);
    h.rs.set(key, {
      up: event.up,
      present: event.present,
      weight: event.weight,
      reason: event.reason,
      latencyMs: event.latencyMs,
      since: old && old.up === event.up ? old.since : now,
    });
    return true;
  }

  /** Drops what no longer exists after a reload; entries of remaining real servers are kept. */
  retain(virtualServers: readonly VirtualServer[]): void {
    const keep = new Map(virtualServers.map((vs) => [virtualServerLabel(vs), new Set(vs.realServers.map(endpointLabel))]));
    for (const [label, h] of this.#vs) {
      const rss = keep.get(label);
      if (!rss) this.#vs.delete(label);
      else for (const rs of h.rs.keys()) if (!rss.has(rs)) h.rs.delete(rs);
    }
  }

  #entry(label: string, now: number): VsHealth {
    let h = this.#vs.get(label);
    if (!h) this.#vs.set(label, (h = { since: now, quorumUp: true, liveWeight: undefined, sorry: undefined, rs: new Map() }));
    return h;
  }
}

const ALWAYS_UP = 'no checkers: always up';

/**
 * One real server's health: its last verdict; or, once its virtual server's checkers have started, up at its
 * configured weight for one without checkers, since they publish nothing for it until that changes (the
 * scheduler's quietAlwaysUp). Undefined: nobody has decided yet.
 */
export function rsHealth(h: VsHealth | undefined, rs: RealServer, label: string): RsHealth | undefined {
  if (h === undefined) return undefined;
  const verdict = h.rs.get(label);
  if (verdict !== undefined || rs.checkers.length > 0) return verdict;
  // Shared: a status or /metrics walk asks this for each of 100,000 real servers, and they are alike.
  h.alwaysUp ??= new Map();
  let implied = h.alwaysUp.get(rs.weight);
  if (implied === undefined) h.alwaysUp.set(rs.weight, (implied = { up: true, present: true, weight: rs.weight, reason: ALWAYS_UP, latencyMs: 0, since: h.since }));
  return implied;
}
