// global_defs → GlobalDefs.
import { posOf, type Token } from './lexer.ts';
import { notApplied, walk, type BlockSpec, type Mutable } from './blocks.ts';
import { DEFAULTS, type GlobalDefs, type LvsGlobals, type LvsSyncDaemon, type NotifyFifo, type NotifyFifoScript, type SourcePos, type VrrpGlobals, type VrrpInstance } from './model.ts';
import type { Problems } from './problems.ts';
import type { Stmt } from './tree.ts';
import { canonicalAddress, scriptUser, type ArgReader } from './values.ts';

/** The sync id is settled once the instances are known: it defaults to the followed instance's VRID. */
type SyncDaemonDraft = Omit<Mutable<LvsSyncDaemon>, 'syncId'> & { syncId?: number };

export interface GlobalDraft {
  routerId?: string;
  notificationEmail: string[];
  notificationEmailFrom?: string;
  smtpServer?: { host: string; port: number };
  smtpConnectTimeoutMs: number;
  smtpHeloName?: string;
  smtpAlert?: boolean;
  smtpAlertVrrp?: boolean;
  smtpAlertChecker?: boolean;
  noEmailFaults: boolean;
  scriptUser?: { user: string; group?: string };
  enableScriptSecurity: boolean;
  /** The three notify FIFOs by keyword prefix; settled once global_defs is read (keepalived's conflict rules). */
  fifos: Record<FifoPrefix, FifoDraft>;
  vrrp: Mutable<VrrpGlobals>;
  lvs: Omit<Mutable<LvsGlobals>, 'syncDaemon'> & { syncDaemon?: SyncDaemonDraft };
}

type FifoPrefix = '' | 'vrrp_' | 'lvs_';

interface FifoDraft {
  fifo?: Omit<NotifyFifo, 'script'>;
  fifoPos?: SourcePos;
  script?: NotifyFifoScript;
  scriptPos?: SourcePos;
}

export function newGlobalDraft(): GlobalDraft {
  return {
    notificationEmail: [],
    smtpConnectTimeoutMs: DEFAULTS.smtpConnectTimeoutMs,
    enableScriptSecurity: false,
    noEmailFaults: false,
    fifos: { '': {}, vrrp_: {}, lvs_: {} },
    vrrp: {
      version: 2,
      strict: false,
      skipCheckAdvAddr: false,
      mcastGroup4: DEFAULTS.mcastGroup4,
      mcastGroup6: DEFAULTS.mcastGroup6,
      garpMasterDelayMs: DEFAULTS.garpMasterDelayMs,
      garpMasterRepeat: DEFAULTS.garpMasterRepeat,
      garpMasterRefreshMs: 0,
      garpMasterRefreshRepeat: 1,
      garpIntervalMs: 0,
      gnaIntervalMs: 0,
    },
    lvs: { flushOnStop: false, flushOnStart: false },
  };
}

export function finishGlobals(d: GlobalDraft, instances: readonly VrrpInstance[], p: Problems): GlobalDefs {
  const { lvs: { syncDaemon: draft, ...lvs }, fifos, vrrp, ...globals } = d;
  const syncDaemon = resolveSyncDaemon(draft, instances, p);
  const { all, vrrpOnly, lvsOnly } = resolveFifos(fifos, p);
  return {
    ...globals,
    ...(all ? { notifyFifo: all } : {}),
    vrrp: vrrpOnly ? { ...vrrp, notifyFifo: vrrpOnly } : vrrp,
    lvs: { ...lvs, ...(syncDaemon ? { syncDaemon } : {}), ...(lvsOnly ? { notifyFifo: lvsOnly } : {}) },
  };
}

/**
 * keepalived's rules for the three FIFOs (global_data.c): a script without its FIFO never runs; a vrrp_ or lvs_
 * FIFO that is notify_fifo's own would get every line twice, so it is ignored with its script; when the vrrp_ and
 * lvs_ FIFOs are one and both have a script, the vrrp_ one reads it.
 */
function resolveFifos(fifos: Record<FifoPrefix, FifoDraft>, p: Problems): { all?: NotifyFifo; vrrpOnly?: NotifyFifo; lvsOnly?: NotifyFifo } {
  const settled: Partial<Record<FifoPrefix, NotifyFifo>> = {};
  for (const prefix of ['', 'vrrp_', 'lvs_'] as const) {
    const { fifo, script, scriptPos } = fifos[prefix];
    if (script && !fifo) p.warn('missing', `${prefix}notify_fifo_script without ${prefix}notify_fifo: it is never run (keepalived ignores it too)`, scriptPos);
    if (fifo) settled[prefix] = script ? { ...fifo, script } : fifo;
  }
  const all = settled[''];
  for (const prefix of ['vrrp_', 'lvs_'] as const) {
    if (all && settled[prefix]?.path === all.path) {
      p.warn('duplicate', `${prefix}notify_fifo ${all.path} is notify_fifo's FIFO, which already gets every line: ignored with its script (as keepalived does)`, fifos[prefix].fifoPos);
      delete settled[prefix];
    }
  }
  const { vrrp_: vrrpOnly, lvs_: lvs } = settled;
  let lvsOnly = lvs;
  if (vrrpOnly?.script && lvs?.script && vrrpOnly.path === lvs.path) {
    p.warn('duplicate', `lvs_notify_fifo_script ignored: lvs_notify_fifo is vrrp_notify_fifo's FIFO, which vrrp_notify_fifo_script reads (as keepalived does)`, fifos.lvs_.scriptPos);
    const { script: _ignored, ...rest } = lvs;
    lvsOnly = rest;
  }
  return { ...(all ? { all } : {}), ...(vrrpOnly ? { vrrpOnly } : {}), ...(lvsOnly ? { lvsOnly } : {}) };
}

/**
 * keepalived's sync daemon settings after its vrrp_complete_init: the sync id defaults to the followed instance's
 * VRID (0 when none is followed), and an instance's `lvs_sync_daemon_interface` is the old spelling of
 * `lvs_sync_daemon IF inst THAT_INSTANCE`.
 */
function resolveSyncDaemon(draft: SyncDaemonDraft | undefined, instances: readonly VrrpInstance[], p: Problems): LvsSyncDaemon | undefined {
  const legacy = instances.filter((i) => i.lvsSyncDaemonInterface !== undefined);
  const first = legacy[0];
  for (const i of draft ? legacy : legacy.slice(1)) {
    const winner = draft ? 'global_defs lvs_sync_daemon' : `lvs_sync_daemon_interface of vrrp_instance ${first?.name}`;
    p.warn('duplicate', `vrrp_instance ${i.name}: lvs_sync_daemon_interface ignored: the sync daemon is already set by ${winner} (keepalived keeps the first)`, i.pos);
  }
  if (draft) {
    const followed = draft.instance === undefined ? undefined : instances.find((i) => i.name === draft.instance);
    return { ...draft, syncId: draft.syncId ?? followed?.vrid ?? 0 };
  }
  if (first?.lvsSyncDaemonInterface === undefined) return undefined;
  return { interface: first.lvsSyncDaemonInterface, instance: first.name, syncId: first.vrid, pos: first.pos };
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;

/** keepalived global_defs keywords that tune its own processes, SNMP, D-Bus, nftables and the like. */
const UNSUPPORTED = new Set(
  ('process_names process_name vrrp_process_name checker_process_name lvs_process_name bfd_process_name use_symlink_paths ' +
    'set_supplementary_groups startup_script startup_script_timeout shutdown_script shutdown_script_timeout ' +
    'max_auto_priority min_auto_priority_delay checker_log_all_failures dynamic_interfaces ' +
    'default_interface disable_local_igmp v3_checksum_as_v2 vrrp_garp_lower_prio_delay vrrp_garp_lower_prio_repeat ' +
    'vrrp_down_timer_adverts vrrp_min_garp vrrp_garp_extra_if vrrp_vmac_garp_intvl vrrp_lower_prio_no_advert vrrp_higher_prio_send_advert ' +
    'vrrp_iptables vrrp_ipsets nftables nftables_priority nftables_ifindex vrrp_check_unicast_src vrrp_priority vrrp_no_swap ' +
    'vrrp_rt_priority vrrp_cpu_affinity vrrp_rlimit_rttime vrrp_rlimit_rtime nftables_ipvs nftables_ipvs_priority ' +
    'nftables_ipvs_start_fwmark nftables_counters vrrp_notify_priority_changes ' +
    'fifo_write_vrrp_states_on_reload checker_priority checker_no_swap checker_rt_priority ' +
    'checker_cpu_affinity checker_rlimit_rttime checker_rlimit_rtime bfd_priority bfd_no_swap bfd_rt_priority bfd_cpu_affinity ' +
    'bfd_rlimit_rttime bfd_rlimit_rtime snmp_socket enable_traps enable_snmp_vrrp enable_snmp_keepalived enable_snmp_rfc ' +
    'enable_snmp_rfcv2 enable_snmp_rfcv3 enable_snmp_checker snmp_vs_stats_update_interval snmp_rs_stats_update_interval ' +
    'enable_dbus dbus_service_name dbus_no_interface_name vrrp_netlink_cmd_rcv_bufs vrrp_netlink_cmd_rcv_bufs_force ' +
    'vrrp_netlink_monitor_rcv_bufs vrrp_netlink_monitor_rcv_bufs_force process_monitor_rcv_bufs process_monitor_rcv_bufs_force ' +
    'lvs_netlink_cmd_rcv_bufs lvs_netlink_cmd_rcv_bufs_force lvs_netlink_monitor_rcv_bufs lvs_netlink_monitor_rcv_bufs_force ' +
    'rs_init_notifies vrrp_rx_bufs_policy vrrp_rx_bufs_multiplier vrrp_delay_after_boot ' +
    'log_unknown_vrids vrrp_owner_ignore_adverts vmac_prefix vmac_addr_prefix umask random_seed reload_check_config reload_time_file ' +
    'reload_repeat reload_file include_check config_save_dir tmp_config_directory data_use_instance json_version iproute_usr_dir ' +
    'iproute_etc_dir state_dump_file stats_dump_file json_dump_file linkbeat_use_polling vrrp_garp_lower_prio_repeat').split(/\s+/),
);

export function globalDefsSpec(r: ArgReader): BlockSpec<GlobalDraft> {
  const p = r.problems;
  const ms = (s: Stmt, set: (v: number) => void, min = 0, max = 31 * 86_400_000): void => {
    const v = r.seconds(s, min, max);
    if (v !== undefined) set(v);
  };
  const int = (s: Stmt, min: number, max: number, set: (v: number) => void): void => {
    const v = r.int(s, min, max);
    if (v !== undefined) set(v);
  };
  return {
    name: 'global_defs',
    unsupported: UNSUPPORTED,
    keywords: {
      router_id: (s, d) => {
        d.routerId = r.word(s, 'router_id NAME') ?? d.routerId;
      },
      lvs_id: (s, d) => {
        p.warn('deprecated', `lvs_id is the old name of router_id; taken as router_id`, posOf(s.key));
        d.routerId = r.word(s, 'lvs_id NAME') ?? d.routerId;
      },
      notification_email: (s, d) => {
        r.arity(s, 0, 0, 'notification_email { ADDRESS … }');
        for (const e of r.needBlock(s)) {
          r.noBlock(e);
          for (const t of [e.key, ...e.args]) d.notificationEmail.push(t.text);
        }
      },
      notification_email_from: (s, d) => {
        d.notificationEmailFrom = r.word(s, 'notification_email_from ADDRESS') ?? d.notificationEmailFrom;
      },
      smtp_server: (s, d) => {
        r.noBlock(s);
        if (!r.arity(s, 1, 2, 'smtp_server ADDRESS|HOSTNAME [PORT]')) return;
        const [hostTok, portTok] = s.args as [Token, Token | undefined];
        const port = portTok ? r.portToken(portTok, 'smtp_server') : 25;
        if (port === undefined) return;
        const ip = canonicalAddress(hostTok.text);
        if (ip) {
          d.smtpServer = { host: ip.address, port };
        } else if (/^[\d.]+$|:/.test(hostTok.text) || !HOSTNAME.test(hostTok.text)) {
          p.error('bad-value', `smtp_server: '${hostTok.text}' is neither an IP address nor a host name`, posOf(hostTok));
        } else {
          p.warn('lenient', `smtp_server ${hostTok.text} is a host name: accepted, resolved when alerts are mailed (keepalived -t wants an IP address)`, posOf(hostTok));
          d.smtpServer = { host: hostTok.text.toLowerCase(), port };
        }
      },
      smtp_connect_timeout: (s, d) => ms(s, (v) => (d.smtpConnectTimeoutMs = v), 1000, 3_600_000),
      smtp_helo_name: (s, d) => {
        d.smtpHeloName = r.word(s, 'smtp_helo_name NAME') ?? d.smtpHeloName;
      },
      smtp_alert: (s, d) => {
        d.smtpAlert = r.flag(s);
      },
      smtp_alert_vrrp: (s, d) => {
        d.smtpAlertVrrp = r.flag(s);
      },
      smtp_alert_checker: (s, d) => {
        d.smtpAlertChecker = r.flag(s);
      },
      no_email_faults: (s, d) => {
        d.noEmailFaults = r.flag(s);
      },
      // ipvs-ts mails once per change of a real server, never once per checker, which is what this asks for.
      no_checker_emails: (s) => {
        r.flag(s);
      },
      script_user: (s, d) => {
        d.scriptUser = r.user(s) ?? d.scriptUser;
      },
      enable_script_security: (s, d) => {
        d.enableScriptSecurity = r.flag(s);
      },
      vrrp_version: (s, d) => int(s, 2, 3, (v) => (d.vrrp.version = v === 3 ? 3 : 2)),
      // keepalived 2.2.7's handler ignores any argument: `vrrp_strict off` still turns strict mode on.
      vrrp_strict: (s, d) => {
        r.noBlock(s);
        d.vrrp.strict = true;
        const arg = s.args[0];
        if (arg) p.warn('lenient', `vrrp_strict takes no argument; keepalived ignores '${arg.text}' and runs strict mode, and so does ipvs-ts (remove the line to turn it off)`, posOf(arg));
      },
      vrrp_skip_check_adv_addr: (s, d) => {
        d.vrrp.skipCheckAdvAddr = r.flag(s);
        if (d.vrrp.skipCheckAdvAddr) notApplied(s, r, "every advert's address list is still compared, but a difference is only counted, never a reason to drop it, so adverts are handled the same");
      },
      vrrp_mcast_group4: (s, d) => {
        const a = r.address(s);
        if (a?.family === 4) d.vrrp.mcastGroup4 = a.address;
        else if (a) p.error('bad-value', `vrrp_mcast_group4 needs an IPv4 address`, posOf(s.args[0] ?? s.key));
      },
      vrrp_mcast_group6: (s, d) => {
        const a = r.address(s);
        if (a?.family === 6) d.vrrp.mcastGroup6 = a.address;
        else if (a) p.error('bad-value', `vrrp_mcast_group6 needs an IPv6 address`, posOf(s.args[0] ?? s.key));
      },
      vrrp_garp_master_delay: (s, d) => ms(s, (v) => (d.vrrp.garpMasterDelayMs = v), 0, 255_000),
      vrrp_garp_master_repeat: (s, d) => int(s, 1, 255, (v) => (d.vrrp.garpMasterRepeat = v)),
      vrrp_garp_master_refresh: (s, d) => ms(s, (v) => (d.vrrp.garpMasterRefreshMs = v)),
      vrrp_garp_master_refresh_repeat: (s, d) => int(s, 1, 255, (v) => (d.vrrp.garpMasterRefreshRepeat = v)),
      vrrp_garp_interval: (s, d) => ms(s, (v) => {
        d.vrrp.garpIntervalMs = v;
        if (v === 0) p.warn('lenient', 'vrrp_garp_interval 0 means no delay between gratuitous ARPs, which is the default; the line can be removed', posOf(s.key));
      }, 0, 1_000_000),
      vrrp_gna_interval: (s, d) => ms(s, (v) => {
        d.vrrp.gnaIntervalMs = v;
        if (v === 0) p.warn('lenient', 'vrrp_gna_interval 0 means no delay between unsolicited neighbour advertisements, which is the default; the line can be removed', posOf(s.key));
      }, 0, 1_000_000),
      // keepalived reads 0.001 s up to UINT_MAX microseconds and only remarks on a delay of a minute or more.
      vrrp_startup_delay: (s, d) => ms(s, (v) => {
        d.vrrp.startupDelayMs = v;
        if (v >= 60_000) p.warn('lenient', `vrrp_startup_delay ${v / 1000} s is very large: no instance can become master for that long after start`, posOf(s.key));
      }, 1, 4_294_967),
      notify_fifo: (s, d) => notifyFifo(s, r, d.fifos['']),
      vrrp_notify_fifo: (s, d) => notifyFifo(s, r, d.fifos.vrrp_),
      lvs_notify_fifo: (s, d) => notifyFifo(s, r, d.fifos.lvs_),
      notify_fifo_script: (s, d) => notifyFifoScript(s, r, d.fifos['']),
      vrrp_notify_fifo_script: (s, d) => notifyFifoScript(s, r, d.fifos.vrrp_),
      lvs_notify_fifo_script: (s, d) => notifyFifoScript(s, r, d.fifos.lvs_),
      lvs_flush: (s, d) => {
        d.lvs.flushOnStart = r.flag(s);
      },
      lvs_flush_onstop: (s, d) => flushOnStop(s, d),
      lvs_flush_on_stop: (s, d) => flushOnStop(s, d),
      lvs_sync_daemon: (s, d) => {
        const sd = syncDaemon(s, r);
        if (sd) d.lvs.syncDaemon = sd;
      },
      lvs_timeouts: (s, d) => {
        r.noBlock(s);
        const t: { tcpMs?: number; tcpFinMs?: number; udpMs?: number } = {};
        const names = { tcp: 'tcpMs', tcpfin: 'tcpFinMs', udp: 'udpMs' } as const;
        for (let i = 0; i < s.args.length; i += 2) {
          const k = s.args[i] as Token;
          const v = s.args[i + 1];
          const field = r.oneOf(k, 'lvs_timeouts kind', ['tcp', 'tcpfin', 'udp'] as const);
          if (!field) continue;
          if (!v) {
            p.error('arguments', `lvs_timeouts ${k.text} needs a number of seconds`, posOf(k));
            continue;
          }
          const ms = r.secondsToken(v, `lvs_timeouts ${k.text}`, 1000, 31 * 86_400_000);
          if (ms !== undefined) t[names[field]] = ms;
        }
        d.lvs.timeouts = t;
      },
    },
  };

  function flushOnStop(s: Stmt, d: GlobalDraft): void {
    r.noBlock(s);
    const arg = s.args[0];
    d.lvs.flushOnStop = !arg || r.oneOf(arg, 'lvs_flush_onstop mode', ['VS', 'NO'] as const, true) !== 'NO';
  }
}

/** `[vrrp_|lvs_]notify_fifo PATH [USERNAME [GROUPNAME]]`; keepalived keeps the first of two. */
function notifyFifo(s: Stmt, r: ArgReader, d: FifoDraft): void {
  r.noBlock(s);
  if (!r.arity(s, 1, 3, (k) => `${k} PATH [USERNAME [GROUPNAME]]`)) return;
  const [path, user, group] = s.args as [Token, Token | undefined, Token | undefined];
  if (d.fifo) return r.problems.warn('duplicate', `${s.key.text} is already ${d.fifo.path}: ${path.text} is ignored (keepalived keeps the first)`, posOf(s.key));
  d.fifo = user ? { path: path.text, user: scriptUser(user, group) } : { path: path.text };
  d.fifoPos = posOf(s.key);
}

/** `[vrrp_|lvs_]notify_fifo_script "COMMAND [ARGS]" [USERNAME [GROUPNAME]]`, read as keepalived reads notify scripts. */
function notifyFifoScript(s: Stmt, r: ArgReader, d: FifoDraft): void {
  const script = r.notifyScript(s);
  if (!script) return;
  if (d.script) return r.problems.warn('duplicate', `${s.key.text} is already ${d.script.command}: ${script.command} is ignored (keepalived keeps the first)`, posOf(s.key));
  d.script = script;
  d.scriptPos = posOf(s.key);
}

const SYNC_OPTIONS = ['inst', 'id', 'maxlen', 'port', 'ttl', 'group'];

/** `lvs_sync_daemon IF [inst INSTANCE] [id N] [maxlen N] [port N] [ttl N] [group ADDR]`, as global_parser.c reads it. */
function syncDaemon(s: Stmt, r: ArgReader): SyncDaemonDraft | undefined {
  r.noBlock(s);
  if (!r.arity(s, 1, 13, 'lvs_sync_daemon INTERFACE [inst VRRP_INSTANCE] [id N] [maxlen N] [port N] [ttl N] [group ADDRESS]')) return undefined;
  const [iface, ...rest] = s.args as [Token, ...Token[]];
  const sd: SyncDaemonDraft = { interface: iface.text, pos: posOf(s.key) };
  for (let i = 0; i < rest.length; i++) {
    const k = rest[i] as Token;
    if (!SYNC_OPTIONS.includes(k.text)) {
      // The older positional form, still read by keepalived: lvs_sync_daemon IF VRRP_INSTANCE [SYNC_ID].
      if (i === 0) {
        sd.instance = k.text;
      } else if (i === 1 && sd.instance !== undefined && /^\d+$/.test(k.text)) {
        r.problems.warn('deprecated', `lvs_sync_daemon: a bare sync id after the instance is the old form of "id ${k.text}"; taken as the sync id`, posOf(k));
        sd.syncId = r.integer(k, 'lvs_sync_daemon sync id', 0, 255);
      } else {
        r.problems.error('bad-value', `lvs_sync_daemon: unknown option '${k.text}'; expected one of: ${SYNC_OPTIONS.join(' ')}`, posOf(k));
      }
      continue;
    }
    const v = rest[++i];
    if (!v) {
      r.problems.error('arguments', `lvs_sync_daemon ${k.text} needs a value`, posOf(k));
      continue;
    }
    if (k.text === 'inst') sd.instance = v.text;
    else if (k.text === 'group') sd.group = syncGroup(v, r);
    else if (k.text === 'id') sd.syncId = r.integer(v, 'lvs_sync_daemon id', 0, 255);
    else if (k.text === 'maxlen') sd.maxlen = r.integer(v, 'lvs_sync_daemon maxlen', 1, 65535 - 20 - 8);
    else if (k.text === 'port') sd.port = r.integer(v, 'lvs_sync_daemon port', 1, 65535);
    else sd.ttl = r.integer(v, 'lvs_sync_daemon ttl', 1, 255);
  }
  return sd;
}

/** The sync daemon sends to a multicast group; keepalived refuses any other address. */
function syncGroup(t: Token, r: ArgReader): string | undefined {
  const a = r.addressToken(t, 'lvs_sync_daemon group');
  if (!a) return undefined;
  const multicast = a.family === 4 ? Number(a.address.split('.')[0]) >> 4 === 14 : a.address.startsWith('ff');
  if (multicast) return a.address;
  r.problems.error('bad-value', `lvs_sync_daemon group ${a.address} is not a multicast address`, posOf(t));
  return undefined;
}

export function readGlobalDefs(s: Stmt, d: GlobalDraft, r: ArgReader): void {
  r.arity(s, 0, 0, 'global_defs { … }');
  walk(r.needBlock(s), globalDefsSpec(r), d, r);
}
