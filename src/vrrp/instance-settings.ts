// What a vrrp_instance's configuration means once its interface and source address are known: the state
// machine's parameters, where adverts go, what a received advert must carry and what the instance tracks. Pure, so
// start-up and a reload derive an instance's settings in exactly the same way.
import type { Config, Family, TrackRef, VirtualIp, VrrpInstance } from '../config/model.ts';
import { applyOverrides, groupOverrides, instanceOverrides, syncGroupOf } from '../config/sync-tracking.ts';
import { AUTH_NONE, AUTH_PASS, passAuthData, type Expectation } from './codec.ts';
import { VrrpError } from './errors.ts';
import type { MachineParams } from './machine.ts';

export interface TrackSource {
  readonly kind: 'script' | 'iface' | 'file' | 'process';
  readonly name: string;
  readonly weight: number;
  readonly reverse: boolean;
}

export interface InstanceSettings {
  readonly params: MachineParams;
  /** The multicast group, or the unicast peers. */
  readonly dsts: readonly string[];
  readonly expect: Expectation;
  readonly tracked: readonly TrackSource[];
}

export function isUnicast(ic: VrrpInstance): boolean {
  return ic.unicastPeers.length > 0;
}

export function multicastGroup(config: Config, family: Family): string {
  return family === 4 ? config.globalDefs.vrrp.mcastGroup4 : config.globalDefs.vrrp.mcastGroup6;
}

/** Both lists: the excluded addresses are added and removed with the others, only left out of the adverts. */
/**
 * The instance's addresses as they go into the kernel. With use_vmac, those of the instance's family on its own
 * interface go on the VMAC instead (keepalived's vrrp_complete_instance); the others stay where they are.
 */
export function vipsOf(ic: VrrpInstance): VirtualIp[] {
  const all = [...ic.virtualIps, ...ic.virtualIpsExcluded];
  const vmac = ic.useVmac;
  if (vmac === undefined) return all;
  return all.map((v) => (v.family === ic.family && v.dev === ic.interface ? { ...v, dev: vmac, ...(v.label !== undefined ? { label: relabel(v.label, ic.interface, vmac) } : {}) } : v));
}

/** An IPv4 label must start with its interface's name: eth0:vip on the VMAC vrrp.51 becomes vrrp.51:vip. */
function relabel(label: string, from: string, to: string): string {
  return label.startsWith(from) ? `${to}${label.slice(from.length)}` : label;
}

/** `src` is the instance's primary address: the adverts' source, and the tie-break between equal priorities. */
export function instanceSettings(config: Config, ic: VrrpInstance, src: string): InstanceSettings {
  const authType = ic.auth?.type === 'PASS' ? AUTH_PASS : AUTH_NONE;
  return {
    params: {
      version: ic.version,
      advertIntMs: ic.advertIntMs,
      preempt: !(ic.nopreempt && ic.state === 'BACKUP' && ic.priority !== 255),
      preemptDelayMs: ic.preemptDelayMs,
      primaryAddress: src,
      ...(ic.strict ? { lowerPrioNoAdvert: true } : {}),
    },
    dsts: isUnicast(ic) ? ic.unicastPeers : [multicastGroup(config, ic.family)],
    expect: {
      version: ic.version,
      vrid: ic.vrid,
      intervalMs: ic.advertIntMs,
      addresses: ic.virtualIps.map((v) => v.address),
      authType,
      authData: authType === AUTH_PASS ? passAuthData(ic.auth?.pass ?? '') : Buffer.alloc(0),
      unicast: isUnicast(ic),
    },
    tracked: trackSources(config, ic),
  };
}

/** What the instance tracks, with keepalived's sync-group and address-owner weight rules applied (sync-tracking.ts). */
export function trackSources(config: Config, ic: VrrpInstance): TrackSource[] {
  const own = instanceOverrides(config, ic);
  const g = syncGroupOf(config, ic.name);
  const ofGroup = g === undefined ? [] : groupOverrides(config, g);
  return merged([
    // keepalived tracks the instance's own interface only when one is configured.
    ...(ic.interface ? [{ kind: 'iface' as const, name: ic.interface, weight: 0, reverse: false }] : []),
    ...applyOverrides(ic.trackInterfaces, 'interface', own).map(ifaceSource),
    ...applyOverrides(ic.trackScripts, 'script', own).map((t) => scriptSource(config, ic.name, t)),
    ...applyOverrides(ic.trackFiles, 'file', own).map((t) => fileSource(config, ic.name, t)),
    ...ic.trackProcesses.map((t) => processSource(config, ic.name, t)),
    ...(g === undefined ? [] : [
      ...applyOverrides(g.trackInterfaces, 'interface', ofGroup).map(ifaceSource),
      ...applyOverrides(g.trackScripts, 'script', ofGroup).map((t) => scriptSource(config, ic.name, t)),
      ...applyOverrides(g.trackFiles, 'file', ofGroup).map((t) => fileSource(config, ic.name, t)),
      ...applyOverrides(g.trackProcesses, 'process', ofGroup).map((t) => processSource(config, ic.name, t)),
    ]),
  ]);
}

/**
 * keepalived links an instance to a tracked object once (vrrp.c add_vrrp_to_track_*, add_vrrp_to_interface,
 * track_file.c add_obj_to_track_file): an object the instance and its sync group both name (or the instance's own
 * interface named again) keeps its first place and takes the later weight, unless the first is unweighted. The
 * later `reverse` comes with it, except for a process, whose link keeps its own.
 */
function merged(sources: readonly TrackSource[]): TrackSource[] {
  const out: TrackSource[] = [];
  const at = new Map<string, number>();
  for (const s of sources) {
    const key = `${s.kind} ${s.name}`;
    const i = at.get(key);
    if (i === undefined) {
      at.set(key, out.push(s) - 1);
      continue;
    }
    const first = out[i]!;
    if (first.weight !== 0) out[i] = { ...first, weight: s.weight, reverse: s.kind === 'process' ? first.reverse : s.reverse };
  }
  return out;
}

function ifaceSource(t: TrackRef): TrackSource {
  return { kind: 'iface', name: t.name, weight: t.weight ?? 0, reverse: t.reverse ?? false };
}

function scriptSource(config: Config, instance: string, t: TrackRef): TrackSource {
  const s = config.vrrpScripts.find((x) => x.name === t.name);
  if (s === undefined) throw new VrrpError('VRRP_NO_SCRIPT', `(${instance}) track_script ${t.name} is not a defined vrrp_script`);
  return { kind: 'script', name: t.name, weight: t.weight ?? s.weight, reverse: t.reverse ?? s.weightReverse };
}

function fileSource(config: Config, instance: string, t: TrackRef): TrackSource {
  const f = config.trackFiles.find((x) => x.name === t.name);
  if (f === undefined) throw new VrrpError('VRRP_NO_TRACK_FILE', `(${instance}) track_file ${t.name} is not a defined track_file`);
  return { kind: 'file', name: t.name, weight: t.weight ?? f.weight, reverse: t.reverse ?? f.weightReverse };
}

function processSource(config: Config, instance: string, t: TrackRef): TrackSource {
  const p = config.vrrpTrackProcesses.find((x) => x.name === t.name);
  if (p === undefined) throw new VrrpError('VRRP_NO_TRACK_PROCESS', `(${instance}) track_process ${t.name} is not a defined vrrp_track_process`);
  return { kind: 'process', name: t.name, weight: t.weight ?? p.weight, reverse: t.reverse ?? p.weightReverse };
}
