// Pacing of gratuitous ARPs and unsolicited NAs per interface, keepalived 2.2.7's garp_delay (vrrp_arp.c,
// vrrp_ndisc.c, vrrp_arp_thread): for switches that drop a flood of them. A garp_group's interfaces share one pace
// per family; an interface in no group gets its own from vrrp_garp_interval / vrrp_gna_interval when those are set.
// On a paced interface one packet leaves per interval; the rest wait in order, and an address already waiting for
// the same instance is not queued again: as in keepalived, a burst's repeats fold into that one pending packet.
import type { GarpGroup, VrrpGlobals } from '../config/model.ts';

export interface PacerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** One announcement: `send` runs when the pace allows and `live` still holds (the instance is still master). */
export interface Announcement {
  readonly ifname: string;
  readonly family: 4 | 6;
  /** With `address`, what makes two announcements the same: the instance that makes it. */
  readonly owner: object;
  readonly address: string;
  readonly live: () => boolean;
  readonly send: () => void;
}

interface Pace {
  readonly intervalMs: number;
  /** No packet before this time. */
  next: number;
  readonly queue: Announcement[];
  timer: unknown;
}

type Paces = { 4?: Pace; 6?: Pace };

export class GarpPacer {
  readonly #clock: PacerClock;
  /** By interface; the interfaces of a garp_group share their Pace objects. */
  #paces = new Map<string, Paces>();
  #defaults: { garp: number; gna: number } = { garp: 0, gna: 0 };

  constructor(clock: PacerClock) {
    this.#clock = clock;
  }

  /**
   * Takes the groups and globals of a (re)loaded configuration. What waits is queued again under the new paces,
   * and no interface sends sooner than its old pace allowed.
   */
  configure(groups: readonly GarpGroup[], vrrp: Pick<VrrpGlobals, 'garpIntervalMs' | 'gnaIntervalMs'>): void {
    const old = this.#paces;
    const waiting = new Set<Announcement>();
    for (const ps of old.values()) {
      for (const p of [ps[4], ps[6]]) {
        if (p === undefined) continue;
        this.#clock.clearTimeout(p.timer);
        p.timer = undefined;
        for (const a of p.queue) waiting.add(a);
      }
    }
    this.#paces = new Map();
    this.#defaults = { garp: vrrp.garpIntervalMs, gna: vrrp.gnaIntervalMs };
    for (const g of groups) {
      const ps: Paces = {};
      if (g.garpIntervalMs !== undefined) ps[4] = newPace(g.garpIntervalMs);
      if (g.gnaIntervalMs !== undefined) ps[6] = newPace(g.gnaIntervalMs);
      for (const name of g.interfaces) this.#paces.set(name, ps);
    }
    for (const [name, was] of old) {
      for (const family of [4, 6] as const) {
        const p = this.#pace(name, family);
        const before = was[family]?.next;
        if (p !== undefined && before !== undefined) p.next = Math.max(p.next, before);
      }
    }
    for (const a of waiting) this.announce(a);
  }

  /** Sends at once when the interface's pace allows, else queues (unless the same announcement waits already). */
  announce(a: Announcement): void {
    const p = this.#pace(a.ifname, a.family);
    if (p === undefined || p.intervalMs <= 0) {
      if (a.live()) a.send();
      return;
    }
    if (p.queue.some((q) => q.owner === a.owner && q.address === a.address)) return;
    p.queue.push(a);
    this.#drain(p);
  }

  close(): void {
    for (const ps of this.#paces.values()) {
      for (const p of [ps[4], ps[6]]) {
        if (p === undefined) continue;
        this.#clock.clearTimeout(p.timer);
        p.timer = undefined;
        p.queue.length = 0;
      }
    }
  }

  #pace(ifname: string, family: 4 | 6): Pace | undefined {
    let ps = this.#paces.get(ifname);
    if (ps === undefined) {
      // An interface in no group: its own pace from the globals, made when it first announces.
      ps = {};
      if (this.#defaults.garp > 0) ps[4] = newPace(this.#defaults.garp);
      if (this.#defaults.gna > 0) ps[6] = newPace(this.#defaults.gna);
      this.#paces.set(ifname, ps);
    }
    return ps[family];
  }

  /** Sends what the pace allows now; a packet whose instance is no longer master is dropped and takes no slot. */
  #drain(p: Pace): void {
    this.#clock.clearTimeout(p.timer);
    p.timer = undefined;
    for (let a = p.queue[0]; a !== undefined; a = p.queue[0]) {
      const now = this.#clock.now();
      if (now < p.next) {
        p.timer = this.#clock.setTimeout(() => this.#drain(p), p.next - now);
        return;
      }
      p.queue.shift();
      if (!a.live()) continue;
      a.send();
      p.next = now + p.intervalMs;
    }
  }
}

function newPace(intervalMs: number): Pace {
  return { intervalMs, next: -Infinity, queue: [], timer: undefined };
}
