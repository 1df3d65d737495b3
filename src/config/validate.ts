// Checks that need the whole config: names that refer to other blocks, and things defined twice.
import { closest } from './suggest.ts';
import type { Config, SourcePos, TrackRef, VirtualServerKey } from './model.ts';
import type { Problems } from './problems.ts';
import { groupOverrides, instanceOverrides, overrideWarning } from './sync-tracking.ts';

function at(pos: SourcePos): string {
  return `${pos.file}:${pos.line}:${pos.col}`;
}

function duplicates<T extends { name: string; pos: SourcePos }>(items: readonly T[], what: string, p: Problems): void {
  const seen = new Map<string, T>();
  for (const item of items) {
    const prev = seen.get(item.name);
    if (prev) p.error('duplicate', `${what} ${item.name} is defined twice (first at ${at(prev.pos)})`, item.pos);
    else seen.set(item.name, item);
  }
}

function keyText(k: VirtualServerKey): string {
  if (k.kind === 'addr') return `${k.family === 6 ? `[${k.address}]` : k.address}:${k.port}`;
  if (k.kind === 'fwmark') return `fwmark ${k.mark}${k.family === 6 ? ' (inet6)' : ''}`;
  return `group ${k.name}`;
}

export function validateConfig(c: Config, p: Problems): void {
  duplicates(c.vrrpScripts, 'vrrp_script', p);
  duplicates(c.vrrpInstances, 'vrrp_instance', p);
  duplicates(c.vrrpSyncGroups, 'vrrp_sync_group', p);
  duplicates(c.virtualServerGroups, 'virtual_server_group', p);
  duplicates(c.trackFiles, 'track_file', p);
  duplicates(c.vrrpTrackProcesses, 'vrrp_track_process', p);

  const scripts = new Set(c.vrrpScripts.map((s) => s.name));
  const checkTracks = (refs: readonly TrackRef[], owner: string): void => {
    for (const ref of refs) {
      if (scripts.has(ref.name)) continue;
      const hint = closest(ref.name, scripts);
      p.error('reference', `${owner}: track_script ${ref.name} names no vrrp_script${hint ? `; did you mean '${hint}'?` : ''}`, ref.pos);
    }
  };
  for (const i of c.vrrpInstances) checkTracks(i.trackScripts, `vrrp_instance ${i.name}`);
  for (const g of c.vrrpSyncGroups) checkTracks(g.trackScripts, `vrrp_sync_group ${g.name}`);
  const files = new Set(c.trackFiles.map((f) => f.name));
  const checkFiles = (refs: readonly TrackRef[], owner: string): void => {
    for (const ref of refs) {
      if (files.has(ref.name)) continue;
      const hint = closest(ref.name, files);
      p.error('reference', `${owner}: track_file ${ref.name} names no top-level track_file block${hint ? `; did you mean '${hint}'?` : ''}`, ref.pos);
    }
  };
  for (const i of c.vrrpInstances) checkFiles(i.trackFiles, `vrrp_instance ${i.name}`);
  for (const g of c.vrrpSyncGroups) checkFiles(g.trackFiles, `vrrp_sync_group ${g.name}`);
  const processes = new Set(c.vrrpTrackProcesses.map((x) => x.name));
  const checkProcesses = (refs: readonly TrackRef[], owner: string): void => {
    for (const ref of refs) {
      if (processes.has(ref.name)) continue;
      const hint = closest(ref.name, processes);
      p.error('reference', `${owner}: track_process ${ref.name} names no vrrp_track_process${hint ? `; did you mean '${hint}'?` : ''}`, ref.pos);
    }
  };
  for (const i of c.vrrpInstances) checkProcesses(i.trackProcesses, `vrrp_instance ${i.name}`);
  for (const g of c.vrrpSyncGroups) checkProcesses(g.trackProcesses, `vrrp_sync_group ${g.name}`);

  const instances = new Set(c.vrrpInstances.map((i) => i.name));
  const memberOf = new Map<string, string>();
  for (const g of c.vrrpSyncGroups) {
    for (const m of g.members) {
      if (!instances.has(m)) {
        const hint = closest(m, instances);
        p.error('reference', `vrrp_sync_group ${g.name}: group member ${m} names no vrrp_instance${hint ? `; did you mean '${hint}'?` : ''}`, g.pos);
      } else if (memberOf.get(m) === g.name) {
        p.error('duplicate', `vrrp_sync_group ${g.name} lists vrrp_instance ${m} twice`, g.pos);
      } else if (memberOf.has(m)) {
        p.error('duplicate', `vrrp_instance ${m} is in two sync groups (${memberOf.get(m)} and ${g.name})`, g.pos);
      } else {
        memberOf.set(m, g.name);
      }
    }
  }

  for (const i of c.vrrpInstances) for (const o of instanceOverrides(c, i)) p.warn('lenient', overrideWarning(`vrrp_instance ${i.name}`, o), o.pos);
  for (const g of c.vrrpSyncGroups) for (const o of groupOverrides(c, g)) p.warn('lenient', overrideWarning(`vrrp_sync_group ${g.name}`, o), o.pos);

  const vrids = new Map<string, string>();
  for (const i of c.vrrpInstances) {
    // An instance without an interface sends from its unicast_src_ip, on whichever interface holds that address.
    const on = i.interface || i.unicastSrcIp || i.mcastSrcIp;
    if (!on || !i.vrid) continue;
    const k = `${on}|${i.family}|${i.vrid}`;
    const prev = vrids.get(k);
    if (prev) p.error('duplicate', `vrrp_instance ${i.name}: virtual_router_id ${i.vrid} on ${on} is already used by vrrp_instance ${prev}`, i.pos);
    else vrids.set(k, i.name);
  }

  const sd = c.globalDefs.lvs.syncDaemon;
  if (sd?.instance !== undefined && !instances.has(sd.instance)) {
    p.error('reference', `lvs_sync_daemon: ${sd.instance} names no vrrp_instance`, sd.pos);
  }

  const groups = new Set(c.virtualServerGroups.map((g) => g.name));
  const services = new Map<string, SourcePos>();
  for (const vs of c.virtualServers) {
    if (vs.key.kind === 'group' && !groups.has(vs.key.name)) {
      const hint = closest(vs.key.name, groups);
      p.error('reference', `virtual_server group ${vs.key.name} names no virtual_server_group${hint ? `; did you mean '${hint}'?` : ''}`, vs.pos);
    }
    const k = `${keyText(vs.key)}|${vs.key.kind === 'fwmark' ? '' : vs.protocol}`;
    const prev = services.get(k);
    if (prev) p.error('duplicate', `virtual_server ${keyText(vs.key)} ${vs.protocol} is defined twice (first at ${at(prev)})`, vs.pos);
    else services.set(k, vs.pos);
  }
}
