// The director's checkers: one CheckPort per virtual server, started and stopped with the configuration and with
// ha_suspend (a virtual server whose addresses are not all local is not checked), reconfigured in place by a
// reload so every checker whose settings did not change keeps its state (keepalived's migrate).
import { endpointLabel, virtualServerLabel } from '../check/labels.ts';
import type { CheckEvent } from '../check/types.ts';
import { sameModel } from '../config/compare.ts';
import type { Config, RealServer, VirtualServer } from '../config/model.ts';
import { servicesOf } from './desired.ts';
import type { DirectorEventBody } from './events.ts';
import type { CheckPort } from './ports.ts';

interface Runner {
  readonly vs: VirtualServer;
  readonly port: CheckPort;
  readonly unsubscribe: () => void;
}

export interface CheckerSetDeps {
  readonly create: (vs: VirtualServer) => CheckPort;
  /**
   * `vs`'s checkers start (at start, a reload that adds it, ha_suspend lifting) with `realServers`, or a reload
   * brought `realServers` into it; called before they can publish anything.
   */
  readonly started: (vs: VirtualServer, realServers: readonly RealServer[]) => void;
  readonly onEvent: (label: string, e: CheckEvent) => void;
  readonly emit: (e: DirectorEventBody) => void;
}

export class CheckerSet {
  readonly #deps: CheckerSetDeps;
  readonly #runners = new Map<string, Runner>();
  readonly #local = new Set<string>();
  #stopped = false;

  constructor(deps: CheckerSetDeps) {
    this.#deps = deps;
  }

  /** This host's addresses, for ha_suspend; `sync()` afterwards applies a change. */
  get local(): Set<string> {
    return this.#local;
  }

  /** Starts the checkers of virtual servers that should run and stops those ha_suspend now suspends. */
  sync(config: Config): void {
    if (this.#stopped) return;
    for (const vs of config.virtualServers) {
      const label = virtualServerLabel(vs);
      const have = this.#runners.get(label);
      const suspended = this.suspended(config, vs);
      if (!have && !suspended) {
        const port = this.#deps.create(vs);
        this.#deps.started(vs, vs.realServers);
        const unsubscribe = port.subscribe((e) => this.#deps.onEvent(label, e));
        this.#runners.set(label, { vs, port, unsubscribe });
        port.start();
        if (vs.haSuspend) this.#deps.emit({ type: 'suspend', virtualServer: label, suspended: false });
      } else if (have && suspended) {
        this.#runners.delete(label);
        void stopRunner(have);
        this.#deps.emit({ type: 'suspend', virtualServer: label, suspended: true });
      }
    }
  }

  /** A reload: removed virtual servers' checkers stop, changed ones are reconfigured, new ones start. */
  async reload(next: Config): Promise<void> {
    const byLabel = new Map(next.virtualServers.map((vs) => [virtualServerLabel(vs), vs]));
    const stopping: Promise<void>[] = [];
    for (const [label, r] of this.#runners) {
      const nv = byLabel.get(label);
      if (nv === undefined) {
        this.#runners.delete(label);
        stopping.push(stopRunner(r));
      } else if (!sameModel(nv, r.vs)) {
        this.#runners.set(label, { ...r, vs: nv });
        const before = new Set(r.vs.realServers.map(endpointLabel));
        this.#deps.started(nv, nv.realServers.filter((rs) => !before.has(endpointLabel(rs))));
        r.port.reconfigure([nv]);
      }
    }
    await Promise.all(stopping);
    this.sync(next);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([...this.#runners.values()].map(stopRunner));
    this.#runners.clear();
  }

  /** ha_suspend: the virtual server's addresses must all be local (its VIP is ours) for its checkers to run. */
  suspended(config: Config, vs: VirtualServer): boolean {
    if (!vs.haSuspend) return false;
    const addrs = servicesOf(config, vs).flatMap((s) => (s.service.id.kind === 'addr' ? [s.service.id.address] : []));
    return addrs.length > 0 && !addrs.every((a) => this.#local.has(a));
  }
}

/** Unsubscribes first: a stopping runner's last events must not pull real servers out of the table. */
async function stopRunner(r: Runner): Promise<void> {
  r.unsubscribe();
  await r.port.stop();
}
