// Each configured VRRP instance as one JSON-safe object, for the daemon's status and both commands' state dumps:
// the configuration's facts, the worker's live answer when there is one, else what its last transition said.
import type { Config } from '../config/model.ts';
import type { Stats } from './engine.ts';
import type { VrrpReloadPlan } from './reload-plan.ts';
import type { VrrpStatus } from './service.ts';
import { describeEntry, virtualEntries } from './routes.ts';

export interface VrrpInstanceStatus {
  readonly name: string;
  readonly interface: string;
  /** The VMAC interface (use_vmac) holding the instance's VIPs, or null. */
  readonly vmac: string | null;
  readonly vrid: number;
  readonly state: string;
  readonly priority: number;
  readonly configuredPriority: number;
  readonly master: string | null;
  readonly vips: readonly string[];
  readonly excludedVips: readonly string[];
  /** virtual_routes then virtual_rules, and whether each is in the kernel (only while MASTER, unless it failed). */
  readonly virtualRoutes: readonly { readonly what: string; readonly installed: boolean }[];
  readonly since: number;
  readonly lastTransition: { readonly from: string; readonly to: string; readonly why: string } | null;
  readonly stats: Stats | null;
}

/** The VRRP worker died after start-up: what it said, and when (wall-clock ms). */
export interface VrrpFailure {
  readonly code: string;
  readonly message: string;
  readonly at: number;
}

/** VRRP as the main thread sees it: the worker's answer (if any), each instance's last transition, a failure. */
export interface VrrpInput {
  readonly live: VrrpStatus | undefined;
  readonly views: ReadonlyMap<string, { state: string; priority: number; since: number; from: string | undefined }>;
  readonly failure: VrrpFailure | undefined;
}

/** Each configured instance as the worker reports it, else as its last transition left it; STOP once VRRP died. */
export function vrrpInstances(config: Config, input: VrrpInput, startedAt: number): VrrpInstanceStatus[] {
  const vrrpLive = new Map((input.live?.instances ?? []).map((i) => [i.name, i]));
  return config.vrrpInstances.map((i): VrrpInstanceStatus => {
    const live = vrrpLive.get(i.name);
    const view = input.views.get(i.name);
    return {
      name: i.name,
      interface: i.interface,
      vmac: i.useVmac ?? null,
      vrid: i.vrid,
      // keepalived's name (and keepalived_vrrp_state value 98) for an instance that is not running.
      state: input.failure ? 'STOP' : (live?.state ?? view?.state ?? 'INIT'),
      priority: live?.priority ?? view?.priority ?? i.priority,
      configuredPriority: i.priority,
      master: live?.master ?? null,
      vips: i.virtualIps.map((v) => `${v.address}/${v.prefix}`),
      excludedVips: i.virtualIpsExcluded.map((v) => `${v.address}/${v.prefix}`),
      virtualRoutes: live?.routes ?? virtualEntries(i).map((e) => ({ what: describeEntry(e), installed: false })),
      since: input.failure?.at ?? view?.since ?? startedAt,
      lastTransition: input.failure
        ? { from: view?.state ?? 'INIT', to: 'STOP', why: `VRRP failed: ${input.failure.message}` }
        : view?.from ? { from: view.from, to: view.state, why: transitionWhy(view.from, view.state, view.priority, i.priority) } : null,
      stats: live?.stats ?? null,
    };
  });
}

/** The engine reports only from/to/priority; say what that combination means. */
function transitionWhy(from: string, to: string, priority: number, configured: number): string {
  if (to === 'FAULT') return 'a tracked interface or script failed';
  if (to === 'MASTER' && from === 'BACKUP') return 'master down or lower priority (takeover)';
  if (to === 'MASTER') return `priority ${priority}${priority === 255 ? ' (address owner)' : ''}: no higher master seen`;
  if (to === 'BACKUP' && from === 'MASTER') return 'higher-priority master seen (preempted)';
  if (to === 'BACKUP' && from === 'FAULT') return 'fault cleared';
  if (priority !== configured) return `priority ${priority} (configured ${configured})`;
  return 'start-up';
}

/**
 * After a reload, the main thread's view of each instance's last transition: a removed instance's goes, a renamed
 * one's follows it; restarted and new instances report their own transitions.
 */
export function followReload<V>(views: Map<string, V>, plan: VrrpReloadPlan): void {
  // Removed first: a renamed instance may take the name of one that was removed.
  for (const p of plan.instances) if (p.action === 'stop') views.delete(p.name);
  const renamed = plan.instances.flatMap((p) => (p.action === 'update' && p.was !== p.name ? [{ from: p.was, to: p.name, view: views.get(p.was) }] : []));
  for (const r of renamed) views.delete(r.from);
  for (const r of renamed) if (r.view !== undefined) views.set(r.to, r.view);
}
