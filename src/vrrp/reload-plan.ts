// What a reload does to each VRRP instance, decided from the old and the new configuration alone. What an instance
// is on the wire (VRID, interface, version, family, unicast or multicast) cannot change without leaving the
// election and entering it again, so such an edit restarts that one instance; every other edit is applied to the
// running instance, which keeps its state, timers and VIPs. Nothing that the edit does not concern moves.
import { modelKey } from '../config/compare.ts';
import type { Config, VrrpInstance } from '../config/model.ts';
import { isUnicast, multicastGroup } from './instance-settings.ts';

export type InstancePlan =
  /** Nothing that concerns it changed. */
  | { readonly action: 'keep'; readonly name: string }
  /** Applied to the running instance; `was` differs from `name` when it was renamed. */
  | { readonly action: 'update'; readonly name: string; readonly was: string; readonly changes: readonly string[] }
  /** Its identity changed: it leaves (priority 0 from a master) and enters the election again. */
  | { readonly action: 'restart'; readonly name: string; readonly why: readonly string[] }
  | { readonly action: 'start'; readonly name: string }
  /** Removed from the configuration: leaves with priority 0 from a master. */
  | { readonly action: 'stop'; readonly name: string };

export interface ScriptPlan {
  /** The same command line and user: the rise/fall state carries over (keepalived's rule); other settings apply from now. */
  readonly carried: readonly string[];
  /** New, or another command or user: it starts as at start-up. */
  readonly fresh: readonly string[];
  readonly removed: readonly string[];
}

export interface VrrpReloadPlan {
  /** The new configuration's instances in its order, then the removed ones. */
  readonly instances: readonly InstancePlan[];
  readonly scripts: ScriptPlan;
}

export function planVrrpReload(old: Config, next: Config): VrrpReloadPlan {
  const before = pairInstances(old, next);
  const instances: InstancePlan[] = next.vrrpInstances.map((ni): InstancePlan => {
    const oi = before.get(ni);
    if (oi === undefined) return { action: 'start', name: ni.name };
    const why = differences(identity(old, oi), identity(next, ni));
    if (why.length > 0) return { action: 'restart', name: ni.name, why };
    const changes = [...(oi.name !== ni.name ? [`name ${oi.name} -> ${ni.name}`] : []), ...differences(settings(old, oi), settings(next, ni))];
    return changes.length > 0 ? { action: 'update', name: ni.name, was: oi.name, changes } : { action: 'keep', name: ni.name };
  });
  const paired = new Set(before.values());
  for (const oi of old.vrrpInstances) if (!paired.has(oi)) instances.push({ action: 'stop', name: oi.name });
  return { instances, scripts: planScripts(old, next) };
}

/**
 * Each new instance's old self: the one with its name, else (a rename) an unclaimed old one that is the same router
 * on the wire, which is how keepalived matches instances across a reload.
 */
function pairInstances(old: Config, next: Config): Map<VrrpInstance, VrrpInstance> {
  const byName = new Map(old.vrrpInstances.map((i) => [i.name, i]));
  const newNames = new Set(next.vrrpInstances.map((i) => i.name));
  const unclaimed = old.vrrpInstances.filter((i) => !newNames.has(i.name));
  const pairs = new Map<VrrpInstance, VrrpInstance>();
  for (const ni of next.vrrpInstances) {
    const same = byName.get(ni.name);
    if (same !== undefined) {
      pairs.set(ni, same);
      continue;
    }
    const wire = modelKey(identity(next, ni));
    const at = unclaimed.findIndex((oi) => modelKey(identity(old, oi)) === wire);
    if (at >= 0) pairs.set(ni, unclaimed.splice(at, 1)[0]!);
  }
  return pairs;
}

/** What the instance is on the wire; unicast peers are not part of it, so a peer can be added without an election. */
function identity(c: Config, i: VrrpInstance): Record<string, unknown> {
  return {
    virtual_router_id: i.vrid,
    // Without an interface, the one holding the source address is used.
    interface: i.interface || `holding ${i.unicastSrcIp ?? i.mcastSrcIp ?? '(none)'}`,
    version: i.version,
    family: `IPv${i.family}`,
    mode: isUnicast(i) ? 'unicast' : `multicast ${multicastGroup(c, i.family)}`,
    // The VMAC is where the instance sends, receives and holds its VIPs (vmac.ts).
    use_vmac: i.useVmac === undefined ? 'no' : `${i.useVmac} ${i.vmacAddress ?? 'default MAC'}${i.vmacXmitBase ? ' vmac_xmit_base' : ''}`,
  };
}

/** Everything else that concerns the instance: its own settings, its sync groups, what it tracks, VRRP globals. */
function settings(c: Config, i: VrrpInstance): Record<string, unknown> {
  const { name: _name, pos: _pos, ...own } = i;
  const groups = c.vrrpSyncGroups.filter((g) => g.members.includes(i.name));
  const tracked = new Set([...i.trackScripts, ...groups.flatMap((g) => g.trackScripts)].map((t) => t.name));
  const files = new Set([...i.trackFiles, ...groups.flatMap((g) => g.trackFiles)].map((t) => t.name));
  const processes = new Set([...i.trackProcesses, ...groups.flatMap((g) => g.trackProcesses)].map((t) => t.name));
  return {
    ...own,
    ...Object.fromEntries(groups.map((g) => [`vrrp_sync_group ${g.name}`, g])),
    ...Object.fromEntries(c.vrrpScripts.filter((s) => tracked.has(s.name)).map((s) => [`vrrp_script ${s.name}`, s])),
    ...Object.fromEntries(c.trackFiles.filter((f) => files.has(f.name)).map((f) => [`track_file ${f.name}`, f])),
    ...Object.fromEntries(c.vrrpTrackProcesses.filter((p) => processes.has(p.name)).map((p) => [`vrrp_track_process ${p.name}`, p])),
    'global_defs (VRRP)': vrrpGlobals(c),
  };
}

/**
 * The VRRP globals a running instance follows; vrrp_startup_delay counts only from the process start (keepalived),
 * and vrrp_notify_fifo is the main thread's (src/control/notify-fifo.ts).
 */
function vrrpGlobals(c: Config): Record<string, unknown> {
  const { startupDelayMs: _startOnly, notifyFifo: _mainThread, ...globals } = c.globalDefs.vrrp;
  return globals;
}

/** One line per key that differs: `priority 150 -> 160` for plain values, the key alone for the rest. */
function differences(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const [x, y] = [a[k], b[k]];
    if (modelKey(x) === modelKey(y)) continue;
    const plain = (v: unknown) => ['string', 'number', 'boolean'].includes(typeof v);
    out.push(plain(x) && plain(y) ? `${k} ${String(x)} -> ${String(y)}` : k);
  }
  return out;
}

function planScripts(old: Config, next: Config): ScriptPlan {
  const before = new Map(old.vrrpScripts.map((s) => [s.name, s]));
  const carried: string[] = [];
  const fresh: string[] = [];
  for (const s of next.vrrpScripts) {
    const o = before.get(s.name);
    if (o !== undefined && o.script === s.script && modelKey(o.user) === modelKey(s.user)) carried.push(s.name);
    else fresh.push(s.name);
  }
  const names = new Set(next.vrrpScripts.map((s) => s.name));
  return { carried, fresh, removed: old.vrrpScripts.filter((s) => !names.has(s.name)).map((s) => s.name) };
}

/** One line for the log: how many instances got what, e.g. `1 unchanged, 1 reconfigured in place, 1 added`. */
export function summarizePlan(plan: VrrpReloadPlan): string {
  const words = { keep: 'unchanged', update: 'reconfigured in place', restart: 'restarted', start: 'added', stop: 'removed' } as const;
  const parts = (Object.keys(words) as (keyof typeof words)[]).flatMap((action) => {
    const n = plan.instances.filter((p) => p.action === action).length;
    return n > 0 ? [`${n} ${words[action]}`] : [];
  });
  return `${parts.join(', ')} VRRP instance(s)`;
}
