// The director's picture of the kernel's IPVS table: filled by one dump at start (adoption), then kept true by
// every operation the kernel acknowledged and by verification reads of single services. Planning a change against
// it costs what the change touches; nothing walks or dumps the whole table again.
import { destKey, serviceKey } from './identity.ts';
import { sameDest, sameService } from './plan.ts';
import type { DestinationEntry, DestinationSpec, IpvsOp, ServiceEntry, ServiceSpec } from './types.ts';

/** One service as the kernel holds it: specs after our own writes, entries (with counters) after a read. */
export interface ViewService {
  readonly service: ServiceSpec | ServiceEntry;
  readonly destinations: ReadonlyMap<string, DestinationSpec | DestinationEntry>;
}

export interface KernelService {
  readonly service: ServiceEntry;
  readonly destinations: readonly DestinationEntry[];
}

export class KernelView {
  readonly #services = new Map<string, { service: ServiceSpec | ServiceEntry; destinations: Map<string, DestinationSpec | DestinationEntry> }>();

  /** Every service of a full dump (the kernel at adoption). */
  static of(services: readonly KernelService[]): KernelView {
    const view = new KernelView();
    for (const s of services) view.replace(serviceKey(s.service.id), s);
    return view;
  }

  get(key: string): ViewService | undefined {
    return this.#services.get(key);
  }

  keys(): IterableIterator<string> {
    return this.#services.keys();
  }

  get size(): number {
    return this.#services.size;
  }

  /** Records what the kernel acknowledged (after the client's idempotent fallbacks). */
  applied(ops: readonly IpvsOp[]): void {
    for (const op of ops) {
      switch (op.op) {
        case 'add-service':
        case 'edit-service': {
          const key = serviceKey(op.service.id);
          const old = this.#services.get(key);
          if (old) old.service = op.service;
          else this.#services.set(key, { service: op.service, destinations: new Map() });
          break;
        }
        case 'del-service':
          this.replace(serviceKey(op.id), undefined);
          break;
        case 'add-dest':
        case 'edit-dest': {
          const s = this.#services.get(serviceKey(op.service));
          if (!s) break;
          const k = destKey(op.dest);
          // Connection counts of an edited destination stay what the last read said: a drain waits on them.
          const old = s.destinations.get(k);
          s.destinations.set(k, old && 'activeConns' in old ? { ...old, ...op.dest } : op.dest);
          break;
        }
        case 'del-dest': {
          this.#services.get(serviceKey(op.service))?.destinations.delete(destKey(op.dest));
          break;
        }
      }
    }
  }

  /**
   * Puts what a read of one service found (undefined: the kernel has no such service); returns whether it differs
   * from what the view held in anything IPVS acts on (counters aside).
   */
  replace(key: string, read: KernelService | undefined): boolean {
    const old = this.#services.get(key);
    const differs = !same(old, read);
    if (!read) {
      this.#services.delete(key);
      return differs;
    }
    this.#services.set(key, { service: read.service, destinations: new Map(read.destinations.map((d) => [destKey(d), d])) });
    return differs;
  }
}

function same(view: ViewService | undefined, read: KernelService | undefined): boolean {
  if (!view || !read) return view === read;
  if (!sameService(view.service, read.service) || view.destinations.size !== read.destinations.length) return false;
  return read.destinations.every((d) => {
    const v = view.destinations.get(destKey(d));
    return v !== undefined && sameDest(v, d);
  });
}
