// Statement tree → Config. global_defs is read first wherever it appears, because instances and checkers take
// their defaults from it.
import { readBgpAnnouncer, validateBgp } from './bgp.ts';
import { readIpvsSysctl } from './ipvs-sysctl.ts';
import { walk, type BlockSpec } from './blocks.ts';
import { checkGarpGroups, readGarpGroup } from './garp-group.ts';
import { finishGlobals, newGlobalDraft, readGlobalDefs } from './global.ts';
import { LvsReader, persistZeroPortGroups } from './lvs.ts';
import type { BgpAnnouncer, Config, IpvsSysctls, GarpGroup, IpRoute, IpRule, SourcePos, TrackFile, VirtualIp, VirtualServer, VirtualServerGroup, VrrpInstance, VrrpScript, VrrpSyncGroup, VrrpTrackProcess } from './model.ts';
import type { Problems } from './problems.ts';
import { readTrackFile, warnUnwatchedTrackFiles } from './track-file.ts';
import { readVrrpTrackProcess } from './track-process.ts';
import type { Stmt } from './tree.ts';
import { ArgReader } from './values.ts';
import { nameVmacs, readVrrpInstance, readVrrpScript, readVrrpSyncGroup, vipList } from './vrrp.ts';
import { checkStaticAddresses, lineBlock, readRoute, readRule, ROUTE_USAGE, RULE_USAGE } from './routes.ts';

const ROOT_UNSUPPORTED = new Set(
  ('track_group linkbeat_interfaces ' +
    'bfd_instance net_namespace net_namespace_ipvs namespace_with_ipsets use_pid_dir instance child_wait_time SSL ' +
    'linkbeat_use_polling interface_up_down_delays').split(/\s+/),
);

/**
 * Top-level statements → Config, one statement at a time. Virtual servers are built as they arrive (they need
 * nothing global) so their statement trees are garbage at once; the VRRP blocks wait for finish(), because they
 * take defaults from global_defs, which may come anywhere in the file.
 */
export class ConfigBuilder {
  readonly #problems: Problems;
  readonly #r: ArgReader;
  readonly #lvs: LvsReader;
  readonly #globals: Stmt[] = [];
  readonly #vrrp: Stmt[] = [];
  readonly #virtualServerGroups: VirtualServerGroup[] = [];
  readonly #virtualServers: VirtualServer[] = [];
  readonly #trackFiles: TrackFile[] = [];
  readonly #garpGroups: GarpGroup[] = [];
  #bgp: BgpAnnouncer | undefined;
  readonly #staticAddresses: VirtualIp[] = [];
  readonly #staticRoutes: IpRoute[] = [];
  readonly #staticRules: IpRule[] = [];
  #ipvsSysctl: IpvsSysctls | undefined;
  readonly #root: BlockSpec<undefined>;

  constructor(problems: Problems) {
    this.#problems = problems;
    this.#r = new ArgReader(problems);
    this.#lvs = new LvsReader(this.#r, this.#trackFiles);
    const later = (s: Stmt): void => {
      this.#vrrp.push(s);
    };
    this.#root = {
      name: 'the top level',
      unsupported: ROOT_UNSUPPORTED,
      keywords: {
        global_defs: (s) => {
          this.#globals.push(s);
        },
        vrrp_script: later,
        vrrp_instance: later,
        vrrp_sync_group: later,
        vrrp_track_process: later,
        virtual_server_group: (s) => push(this.#virtualServerGroups, this.#lvs.readVirtualServerGroup(s)),
        virtual_server: (s) => push(this.#virtualServers, this.#lvs.readVirtualServer(s)),
        track_file: (s) => push(this.#trackFiles, readTrackFile(s, this.#r)),
        vrrp_track_file: (s) => push(this.#trackFiles, readTrackFile(s, this.#r)),
        garp_group: (s) => push(this.#garpGroups, readGarpGroup(s, this.#r)),
        static_ipaddress: (s) => {
          this.#staticAddresses.push(...checkStaticAddresses(vipList(s, undefined, this.#r), this.#r));
        },
        static_routes: (s) => {
          this.#staticRoutes.push(...lineBlock(s, this.#r, `static_routes ${ROUTE_USAGE}`, readRoute));
        },
        static_rules: (s) => {
          this.#staticRules.push(...lineBlock(s, this.#r, `static_rules ${RULE_USAGE}`, readRule));
        },
        bgp_announcer: (s) => {
          const prev = this.#bgp;
          const b = readBgpAnnouncer(s, this.#r);
          if (prev) problems.error('duplicate', `bgp_announcer is defined twice (first at ${prev.pos.file}:${prev.pos.line}:${prev.pos.col})`, b.pos);
          else this.#bgp = b;
        },
        ipvs_sysctl: (s) => {
          const prev = this.#ipvsSysctl;
          const b = readIpvsSysctl(s, this.#r);
          if (prev) problems.error('duplicate', `ipvs_sysctl is defined twice (first at ${prev.pos.file}:${prev.pos.line}:${prev.pos.col})`, b.pos);
          else this.#ipvsSysctl = b;
        },
      },
    };
  }

  add(s: Stmt): void {
    walk([s], this.#root, undefined, this.#r);
  }

  finish(files: readonly string[]): Config {
    const r = this.#r;
    const g = newGlobalDraft();
    for (const s of this.#globals) readGlobalDefs(s, g, r);
    const vrrpScripts: VrrpScript[] = [];
    const vrrpInstances: VrrpInstance[] = [];
    const vrrpSyncGroups: VrrpSyncGroup[] = [];
    const vrrpTrackProcesses: VrrpTrackProcess[] = [];
    for (const s of this.#vrrp) {
      if (s.key.text === 'vrrp_script') push(vrrpScripts, readVrrpScript(s, r));
      else if (s.key.text === 'vrrp_instance') push(vrrpInstances, readVrrpInstance(s, g, r));
      else if (s.key.text === 'vrrp_track_process') push(vrrpTrackProcesses, readVrrpTrackProcess(s, r));
      else push(vrrpSyncGroups, readVrrpSyncGroup(s, r));
    }
    const config: Config = {
      files, globalDefs: finishGlobals(g, vrrpInstances, this.#problems), vrrpScripts, vrrpInstances: nameVmacs(vrrpInstances, r), vrrpSyncGroups, vrrpTrackProcesses,
      virtualServerGroups: this.#virtualServerGroups,
      virtualServers: persistZeroPortGroups(this.#virtualServers, this.#virtualServerGroups, this.#problems),
      trackFiles: this.#trackFiles,
      garpGroups: this.#garpGroups,
      ...(this.#bgp ? { bgpAnnouncer: this.#bgp } : {}),
      ...(this.#staticAddresses.length > 0 ? { staticAddresses: this.#staticAddresses } : {}),
      ...(this.#staticRoutes.length > 0 ? { staticRoutes: this.#staticRoutes } : {}),
      ...(this.#staticRules.length > 0 ? { staticRules: this.#staticRules } : {}),
      ...(this.#ipvsSysctl ? { ipvsSysctl: this.#ipvsSysctl } : {}),
    };
    warnStaticsWithoutVrrp(config, this.#problems);
    warnScriptSecurity(config, this.#problems);
    warnUnwatchedTrackFiles(config, r);
    checkGarpGroups(config.garpGroups, this.#problems);
    validateBgp(config, r);
    return config;
  }
}

function push<T>(list: T[], item: T | undefined): void {
  if (item) list.push(item);
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
  for (const i of c.vrrpInstances) if (Object.values(i.notify).some(Boolean)) candidates.push(i.pos);
  for (const g of c.vrrpSyncGroups) if (Object.values(g.notify).some(Boolean)) candidates.push(g.pos);
  for (const vs of c.virtualServers) {
    if (vs.quorumUp || vs.quorumDown) candidates.push(vs.pos);
    for (const rs of vs.realServers) {
      if (rs.notifyUp || rs.notifyDown) candidates.push(rs.pos);
      for (const ch of rs.checkers) if (ch.type === 'MISC_CHECK') candidates.push(ch.pos);
    }
  }
  const rank = (p: SourcePos): number => c.files.indexOf(p.file);
  const before = (a: SourcePos, b: SourcePos): boolean => rank(a) - rank(b) < 0 || (a.file === b.file && (a.line - b.line || a.col - b.col) < 0);
  return candidates.reduce<SourcePos | undefined>((best, p) => (best === undefined || before(p, best) ? p : best), undefined);
}

/** ipvs-ts holds static_* in its VRRP part, which runs only with a vrrp_instance. */
function warnStaticsWithoutVrrp(c: Config, p: Problems): void {
  if (c.vrrpInstances.length > 0) return;
  const first = c.staticAddresses?.[0] ?? c.staticRoutes?.[0] ?? c.staticRules?.[0];
  if (first) p.warn('lenient', 'static_ipaddress/static_routes/static_rules without any vrrp_instance: accepted but not installed (ipvs-ts installs them with its VRRP part)', first.pos);
}
