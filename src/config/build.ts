// Statement tree → Config. global_defs is read first wherever it appears, because instances and checkers take
// their defaults from it.
import { walk, type Handler } from './blocks.ts';
import { finishGlobals, newGlobalDraft, readGlobalDefs } from './global.ts';
import { readVirtualServer, readVirtualServerGroup } from './lvs.ts';
import type { Config, SourcePos, VirtualServer, VirtualServerGroup, VrrpInstance, VrrpScript, VrrpSyncGroup } from './model.ts';
import type { Problems } from './problems.ts';
import type { Stmt } from './tree.ts';
import { ArgReader } from './values.ts';
import { readVrrpInstance, readVrrpScript, readVrrpSyncGroup } from './vrrp.ts';

const ROOT_UNSUPPORTED = new Set(
  ('static_ipaddress static_routes static_rules track_group garp_group linkbeat_interfaces vrrp_track_process vrrp_track_file ' +
    'bfd_instance net_namespace net_namespace_ipvs namespace_with_ipsets use_pid_dir instance child_wait_time SSL ' +
    'linkbeat_use_polling interface_up_down_delays').split(/\s+/),
);

export function buildConfig(tree: readonly Stmt[], files: readonly string[], problems: Problems): Config {
  const r = new ArgReader(problems);
  const g = newGlobalDraft();
  for (const s of tree) if (s.key.text === 'global_defs') readGlobalDefs(s, g, r);

  const vrrpScripts: VrrpScript[] = [];
  const vrrpInstances: VrrpInstance[] = [];
  const vrrpSyncGroups: VrrpSyncGroup[] = [];
  const virtualServerGroups: VirtualServerGroup[] = [];
  const virtualServers: VirtualServer[] = [];
  const push = <T>(list: T[], item: T | undefined): void => {
    if (item) list.push(item);
  };
  const keywords: Record<string, Handler<undefined>> = {
    global_defs: () => {},
    vrrp_script: (s) => push(vrrpScripts, readVrrpScript(s, r)),
    vrrp_instance: (s) => push(vrrpInstances, readVrrpInstance(s, g, r)),
    vrrp_sync_group: (s) => push(vrrpSyncGroups, readVrrpSyncGroup(s, g, r)),
    virtual_server_group: (s) => push(virtualServerGroups, readVirtualServerGroup(s, r)),
    virtual_server: (s) => push(virtualServers, readVirtualServer(s, r)),
  };
  walk(tree, { name: 'the top level', keywords, unsupported: ROOT_UNSUPPORTED }, undefined, r);

  const config: Config = {
    files, globalDefs: finishGlobals(g), vrrpScripts, vrrpInstances, vrrpSyncGroups, virtualServerGroups, virtualServers,
  };
  warnScriptSecurity(config, problems);
  return config;
}

/** keepalived -t refuses scripts without enable_script_security; ipvs-ts runs them and says how. */
function warnScriptSecurity(c: Config, p: Problems): void {
  if (c.globalDefs.enableScriptSecurity) return;
  const first = firstScript(c);
  if (!first) return;
  const user = c.globalDefs.scriptUser?.user ?? 'root';
  p.warn('lenient', `scripts are configured without enable_script_security: accepted, they run as ${user} (add enable_script_security and script_user to global_defs for keepalived's checks)`, first);
}

function firstScript(c: Config): SourcePos | undefined {
  const candidates: SourcePos[] = [];
  for (const s of c.vrrpScripts) candidates.push(s.pos);
  for (const i of c.vrrpInstances) if (Object.keys(i.notify).length > 0) candidates.push(i.pos);
  for (const g of c.vrrpSyncGroups) if (Object.keys(g.notify).length > 0) candidates.push(g.pos);
  for (const vs of c.virtualServers) {
    if (vs.quorumUp || vs.quorumDown) candidates.push(vs.pos);
    for (const rs of vs.realServers) {
      if (rs.notifyUp || rs.notifyDown) candidates.push(rs.pos);
      for (const ch of rs.checkers) if (ch.type === 'MISC_CHECK') candidates.push(ch.pos);
    }
  }
  return candidates.sort((a, b) => (a.file === b.file ? a.line - b.line : 0))[0];
}
