// The kernel's traffic counters for status and /metrics. The view (src/ipvs/view.ts) knows what the table holds but
// not its counters, and a full dump is the one costly read: it is made at most once per `maxAgeMs`, in the
// background, and a caller waits for a fresh one at most `waitMs` before it gets the previous one (with its age).
import { performance } from 'node:perf_hooks';
import { destKey, serviceKey } from '../ipvs/identity.ts';
import type { DestinationEntry, ServiceEntry } from '../ipvs/types.ts';
import type { KernelService } from '../ipvs/view.ts';

export interface CountersSnapshot {
  /** performance.now() of the read. */
  readonly at: number;
  readonly services: ReadonlyMap<string, { readonly service: ServiceEntry; readonly destinations: ReadonlyMap<string, DestinationEntry> }>;
}

export interface KernelCountersOptions {
  readonly read: () => Promise<{ readonly services: readonly KernelService[] }>;
  readonly maxAgeMs: number;
  readonly waitMs: number;
  readonly onError: (err: unknown) => void;
}

export class KernelCounters {
  readonly #opts: KernelCountersOptions;
  #snapshot: CountersSnapshot | undefined;
  #refresh: Promise<void> | undefined;
  #failed = false;

  constructor(opts: KernelCountersOptions) {
    this.#opts = opts;
  }

  /** Whether the latest read failed (IPVS unreachable). */
  get failed(): boolean {
    return this.#failed;
  }

  async get(): Promise<CountersSnapshot | undefined> {
    const s = this.#snapshot;
    if (s && performance.now() - s.at < this.#opts.maxAgeMs) return s;
    this.#refresh ??= this.#read().finally(() => {
      this.#refresh = undefined;
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#refresh, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#opts.waitMs)))]);
    clearTimeout(timer);
    return this.#snapshot;
  }

  async #read(): Promise<void> {
    const at = performance.now();
    try {
      const table = await this.#opts.read();
      const services = new Map<string, { service: ServiceEntry; destinations: Map<string, DestinationEntry> }>();
      for (const s of table.services) services.set(serviceKey(s.service.id), { service: s.service, destinations: new Map(s.destinations.map((d) => [destKey(d), d])) });
      this.#snapshot = { at, services };
      this.#failed = false;
    } catch (err) {
      this.#failed = true;
      this.#opts.onError(err);
    }
  }
}
