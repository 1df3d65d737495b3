// The kernel's traffic counters for status and /metrics. The view (src/ipvs/view.ts) knows what the table holds but
// not its counters, and a full dump is the one costly read: it is made at most once per `maxAgeMs`, in the
// background, and a caller waits for a fresh one at most `waitMs` before it gets the previous one (with its age).
import { performance } from 'node:perf_hooks';
import { destKey, serviceKey } from '../ipvs/identity.ts';
import type { IpvsStats } from '../ipvs/types.ts';
import type { KernelService } from '../ipvs/view.ts';

/** The kernel's totals as plain numbers (what status and /metrics show). */
export interface Counters {
  readonly conns: number;
  readonly inPkts: number;
  readonly outPkts: number;
  readonly inBytes: number;
  readonly outBytes: number;
}

export interface LiveDestination {
  readonly activeConns: number;
  readonly inactiveConns: number;
  readonly stats: Counters;
}

/** One service as read: its totals, and per destination key the destination's slot in the read's `values`. */
export interface ServiceCounters {
  readonly stats: Counters;
  readonly slots: ReadonlyMap<string, number>;
}

export interface CountersSnapshot {
  /** performance.now() of the read. */
  readonly at: number;
  readonly services: ReadonlyMap<string, ServiceCounters>;
  /**
   * SLOT numbers per destination: active and inactive connections, then conns, inPkts, outPkts, inBytes, outBytes.
   * Numbers in one array, not two objects per destination: a snapshot lives until the next read (old space), and
   * at 100,000 destinations those objects were most of what the garbage collector marked for it.
   */
  readonly values: Float64Array;
}

/** Numbers per destination in CountersSnapshot.values. */
export const SLOT = 7;

/** A destination's slot as its own objects (status rows keep them). */
export function liveAt(values: Float64Array, slot: number): LiveDestination {
  const o = slot * SLOT;
  return { activeConns: values[o]!, inactiveConns: values[o + 1]!, stats: statsAt(values, slot, { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 }) };
}

/** A destination's counters written into `into` (a walk reuses one object for every destination) and returned. */
export function statsAt(values: Float64Array, slot: number, into: { -readonly [K in keyof Counters]: number }): Counters {
  const o = slot * SLOT;
  into.conns = values[o + 2]!;
  into.inPkts = values[o + 3]!;
  into.outPkts = values[o + 4]!;
  into.inBytes = values[o + 5]!;
  into.outBytes = values[o + 6]!;
  return into;
}

export const ZERO_COUNTERS: Counters = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 };

export function countersOf(s: IpvsStats): Counters {
  return { conns: Number(s.conns), inPkts: Number(s.inPkts), outPkts: Number(s.outPkts), inBytes: Number(s.inBytes), outBytes: Number(s.outBytes) };
}

export interface KernelCountersOptions {
  readonly read: () => Promise<{ readonly services: readonly KernelService[] }>;
  /** A snapshot older than this starts a read in the background. */
  readonly maxAgeMs: number;
  /** How long a caller waits for the first read, and for a refresh while reads are quick (see QUICK_MS). */
  readonly waitMs: number;
  /** Share of the time reads may take: the next read starts no sooner than the last one's duration / duty. */
  readonly duty?: number;
  readonly onError: (err: unknown) => void;
}

/**
 * At 100,000 destinations a full dump takes seconds (12.6 s in the emulated VM), so once a snapshot exists a status
 * or a scrape does not wait for one: it gets the snapshot with its age (status `countersAgeMs`, metric
 * ipvs_ts_kernel_counters_age_seconds) and a stale one starts a read off the request's path. Only while reads are
 * quick (a small table: the last took at most QUICK_MS) does a caller wait for the refresh, so there a status after
 * traffic shows it. Reads run only while someone asks (an idle daemon dumps nothing), one at a time, and at most
 * `duty` of the time.
 */
export class KernelCounters {
  readonly #opts: KernelCountersOptions;
  #snapshot: CountersSnapshot | undefined;
  #refresh: Promise<void> | undefined;
  #failed = false;
  /** performance.now() before which no read starts (the duty cycle). */
  #nextReadAt = 0;
  #lastReadMs = Infinity;

  constructor(opts: KernelCountersOptions) {
    this.#opts = opts;
  }

  /** Whether the latest read failed (IPVS unreachable). */
  get failed(): boolean {
    return this.#failed;
  }

  async get(): Promise<CountersSnapshot | undefined> {
    const s = this.#snapshot;
    const now = performance.now();
    if (s && now - s.at < this.#opts.maxAgeMs) return s;
    if (!this.#refresh && (!s || now >= this.#nextReadAt)) {
      this.#refresh = this.#read().finally(() => {
        this.#refresh = undefined;
      });
    }
    if (!this.#refresh || (s && this.#lastReadMs > QUICK_MS)) return s;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#refresh, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#opts.waitMs)))]);
    clearTimeout(timer);
    return this.#snapshot;
  }

  async #read(): Promise<void> {
    const at = performance.now();
    try {
      const table = await this.#opts.read();
      // Converted once per read, so every status and scrape until the next one shares it.
      let n = 0;
      for (const s of table.services) n += s.destinations.length;
      const values = new Float64Array(n * SLOT);
      const services = new Map<string, ServiceCounters>();
      let slot = 0;
      for (const s of table.services) {
        const slots = new Map<string, number>();
        for (const d of s.destinations) {
          const o = slot * SLOT;
          const st = d.stats;
          values[o] = d.activeConns;
          values[o + 1] = d.inactiveConns;
          values[o + 2] = Number(st.conns);
          values[o + 3] = Number(st.inPkts);
          values[o + 4] = Number(st.outPkts);
          values[o + 5] = Number(st.inBytes);
          values[o + 6] = Number(st.outBytes);
          slots.set(destKey(d), slot++);
        }
        services.set(serviceKey(s.service.id), { stats: countersOf(s.service.stats), slots });
      }
      this.#snapshot = { at, services, values };
      this.#failed = false;
    } catch (err) {
      this.#failed = true;
      this.#opts.onError(err);
    } finally {
      this.#lastReadMs = performance.now() - at;
      this.#nextReadAt = at + this.#lastReadMs / (this.#opts.duty ?? DUTY);
    }
  }
}

/** A read this fast (a table of a few thousand destinations) is worth waiting for. */
const QUICK_MS = 100;

/** Counter reads may take a tenth of the time: at 100,000 destinations a 1 s dump runs at most every 10 s. */
const DUTY = 0.1;
