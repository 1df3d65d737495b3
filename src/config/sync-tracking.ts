// Which tracking weights keepalived does not honour (2.2.x vrrp.c: vrrp_complete_instance and
// sync_group_tracking_init). A sync group moves its members together, so a member's priority must not float: its
// own weighted interfaces are tracked with weight 0 (down = the whole group in FAULT), its own weighted scripts are
// not tracked at all, and its track files with the default weight 1 are tracked with weight 0 (a non-zero value =
// FAULT) while those with another weight are not tracked; unless the group says sync_group_tracking_weight. An
// address owner (priority 255) never floats either: its own weighted interfaces and scripts are dropped and its
// files are treated as in a sync group, and a sync group with an owner among its members tracks its own
// interfaces, scripts, files and processes with weight 0. A member's own track_process keeps its weight (keepalived
// 2.2 has no rule for it). Pure, so check-config warns about exactly what the engine applies.
import type { Config, SourcePos, TrackRef, VrrpInstance, VrrpSyncGroup } from './model.ts';

export type TrackKind = 'interface' | 'script' | 'file' | 'process';

export interface TrackOverride {
  readonly kind: TrackKind;
  readonly name: string;
  /** `zero`: tracked with weight 0, so a failure is FAULT; `ignored`: not tracked at all. */
  readonly effect: 'zero' | 'ignored';
  /** Why, for the warning: `sync group NAME` or `the address owner`. */
  readonly why: string;
  readonly pos: SourcePos;
}

/** The sync group an instance belongs to (keepalived keeps an instance in the first group that lists it). */
export function syncGroupOf(c: Config, instance: string): VrrpSyncGroup | undefined {
  return c.vrrpSyncGroups.find((g) => g.members.includes(instance));
}

/** The weight a track entry runs with: its own override, else the script's or file's (interfaces default to 0). */
function weightOf(c: Config, kind: TrackKind, t: TrackRef): number {
  if (t.weight !== undefined) return t.weight;
  if (kind === 'script') return c.vrrpScripts.find((s) => s.name === t.name)?.weight ?? 0;
  if (kind === 'file') return c.trackFiles.find((f) => f.name === t.name)?.weight ?? 1;
  if (kind === 'process') return c.vrrpTrackProcesses.find((x) => x.name === t.name)?.weight ?? 0;
  return 0;
}

/** What happens to the instance's own track_interface, track_script and track_file entries. */
export function instanceOverrides(c: Config, i: VrrpInstance): TrackOverride[] {
  const g = syncGroupOf(c, i.name);
  const sync = g !== undefined && g.trackingWeight !== true;
  if (!sync && i.priority !== 255) return [];
  const why = sync ? `sync group ${g.name}` : 'the address owner';
  const out: TrackOverride[] = [];
  for (const t of i.trackInterfaces) {
    if (weightOf(c, 'interface', t) !== 0) out.push({ kind: 'interface', name: t.name, effect: sync ? 'zero' : 'ignored', why, pos: t.pos });
  }
  for (const t of i.trackScripts) {
    if (weightOf(c, 'script', t) !== 0) out.push({ kind: 'script', name: t.name, effect: 'ignored', why, pos: t.pos });
  }
  for (const t of i.trackFiles) {
    // keepalived tells the default weight 1 from a chosen one: the first becomes a status, the second is dropped.
    const w = weightOf(c, 'file', t);
    if (w !== 0) out.push({ kind: 'file', name: t.name, effect: w === 1 ? 'zero' : 'ignored', why, pos: t.pos });
  }
  return out;
}

/** What happens to a sync group's own tracked objects: weight 0 when a member owns the address. */
export function groupOverrides(c: Config, g: VrrpSyncGroup): TrackOverride[] {
  const owner = c.vrrpInstances.find((i) => i.priority === 255 && syncGroupOf(c, i.name) === g);
  if (owner === undefined) return [];
  const why = `member ${owner.name} is the address owner (priority 255)`;
  const zeroed = (kind: TrackKind, refs: readonly TrackRef[]): TrackOverride[] =>
    refs.filter((t) => weightOf(c, kind, t) !== 0).map((t) => ({ kind, name: t.name, effect: 'zero' as const, why, pos: t.pos }));
  return [
    ...zeroed('interface', g.trackInterfaces), ...zeroed('script', g.trackScripts), ...zeroed('file', g.trackFiles), ...zeroed('process', g.trackProcesses),
  ];
}

/** The warning check-config prints for one override, in keepalived's terms. */
export function overrideWarning(owner: string, o: TrackOverride): string {
  const what = `${owner}: tracked ${o.kind} ${o.name}`;
  if (o.effect === 'ignored') return `${what} has a weight, so it is not tracked at all: ${o.why} cannot have a floating priority (as keepalived does)`;
  const opt = o.why.startsWith('sync group') ? '; add sync_group_tracking_weight to the group to keep weights' : '';
  const down = o.kind === 'file' ? 'a non-zero value' : o.kind === 'process' ? 'no quorum' : 'down';
  const who = o.why.startsWith('sync group') ? 'the instance and its group' : o.why === 'the address owner' ? 'the instance' : 'the group';
  return `${what}: its weight is taken as 0 (${down} puts ${who} in FAULT) because of ${o.why}, as keepalived does${opt}`;
}

/** Applies overrides to track entries: dropped, weight forced to 0, or as written. */
export function applyOverrides(refs: readonly TrackRef[], kind: TrackKind, overrides: readonly TrackOverride[]): TrackRef[] {
  const out: TrackRef[] = [];
  for (const t of refs) {
    const o = overrides.find((x) => x.kind === kind && x.name === t.name && samePos(x.pos, t.pos));
    if (o?.effect === 'ignored') continue;
    out.push(o?.effect === 'zero' ? { ...t, weight: 0 } : t);
  }
  return out;
}

function samePos(a: SourcePos, b: SourcePos): boolean {
  return a.file === b.file && a.line === b.line && a.col === b.col;
}
