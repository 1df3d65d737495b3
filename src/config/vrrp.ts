// vrrp_script, vrrp_instance and vrrp_sync_group → model objects. Global defaults are already known when these run
// (the root pass reads global_defs first, wherever it is in the file).
import { posOf, type Token } from './lexer.ts';
import { walk, type BlockSpec, type Mutable } from './blocks.ts';
import { DEFAULTS, type Family, type NotifyEvent, type NotifyScripts, type TrackRef, type VirtualIp, type VrrpInstance, type VrrpScript, type VrrpSyncGroup } from './model.ts';
import type { GlobalDraft } from './global.ts';
import { lineBlock, readRoute, readRule, ROUTE_USAGE, RULE_USAGE } from './routes.ts';
import type { Stmt } from './tree.ts';
import type { ArgReader } from './values.ts';

function blockName(s: Stmt, r: ArgReader, usage: string): string | undefined {
  if (!r.arity(s, 1, 1, usage)) return undefined;
  return (s.args[0] as Token).text;
}

// ------------------------------------------------------------------------------------------ vrrp_script

export function readVrrpScript(s: Stmt, r: ArgReader): VrrpScript | undefined {
  const name = blockName(s, r, 'vrrp_script NAME { … }');
  const block = r.needBlock(s);
  const d: Mutable<VrrpScript> & { scriptSet: boolean } = {
    name: name ?? '', script: '', intervalMs: DEFAULTS.vrrpScriptIntervalMs, weight: 0, weightReverse: false,
    rise: 1, fall: 1, initFail: false, pos: posOf(s.key), scriptSet: false,
  };
  const spec: BlockSpec<typeof d> = {
    name: `vrrp_script ${name ?? ''}`.trim(),
    keywords: {
      script: (t, d) => {
        const c = r.command(t);
        if (c !== undefined) {
          d.script = c;
          d.scriptSet = true;
        }
      },
      interval: (t, d) => {
        d.intervalMs = r.seconds(t, 1, 86_400_000) ?? d.intervalMs;
      },
      timeout: (t, d) => {
        d.timeoutMs = r.seconds(t, 1, 86_400_000) ?? d.timeoutMs;
      },
      weight: (t, d) => {
        const w = weightArgs(t, r);
        if (w) {
          d.weight = w.weight;
          d.weightReverse = w.reverse;
        }
      },
      rise: (t, d) => {
        d.rise = r.int(t, 1, 1_000_000) ?? d.rise;
      },
      fall: (t, d) => {
        d.fall = r.int(t, 1, 1_000_000) ?? d.fall;
      },
      user: (t, d) => {
        d.user = r.user(t) ?? d.user;
      },
      init_fail: (t, d) => {
        d.initFail = r.flag(t);
      },
    },
  };
  walk(block, spec, d, r);
  if (!d.scriptSet) r.problems.error('missing', `vrrp_script ${name ?? ''} has no script line`, posOf(s.key));
  if (name === undefined) return undefined;
  const { scriptSet: _, ...script } = d;
  return script;
}

/** `weight N [reverse]`, keepalived's range -253..253. */
function weightArgs(s: Stmt, r: ArgReader): { weight: number; reverse: boolean } | undefined {
  r.noBlock(s);
  if (!r.arity(s, 1, 2, 'weight N [reverse]  (N in -253..253)')) return undefined;
  const weight = r.integer(s.args[0] as Token, 'weight', -253, 253);
  const rev = s.args[1];
  if (rev && rev.text !== 'reverse') {
    r.problems.error('bad-value', `weight: expected 'reverse' after the number, got '${rev.text}'`, posOf(rev));
    return undefined;
  }
  return weight === undefined ? undefined : { weight, reverse: rev !== undefined };
}

// ------------------------------------------------------------------------------------------ shared pieces

type TrackWhat = 'script' | 'interface' | 'file' | 'process';

/**
 * Appends a `track_* { … }` block's entries to the instance's or group's list. A name already listed (in this block
 * or an earlier one) is ignored with a warning, as keepalived ignores it (vrrp_track.c, track_file.c).
 */
function trackList(s: Stmt, r: ArgReader, what: TrackWhat, refs: TrackRef[]): void {
  r.arity(s, 0, 0, `${s.key.text} { NAME [weight N [reverse${what !== 'interface' ? '|noreverse' : ''}]] … }`);
  // keepalived's bounds: ±254 for files and processes (vrrp_track.c, track_file.c), ±253 for the others.
  const max = what === 'file' || what === 'process' ? 254 : 253;
  for (const e of r.needBlock(s)) {
    r.noBlock(e);
    const first = refs.find((x) => x.name === e.key.text);
    if (first !== undefined) {
      r.problems.warn('duplicate', `track_${what} ${e.key.text} is already tracked (line ${first.pos.line}); this entry is ignored, as keepalived does`, posOf(e.key));
      continue;
    }
    const ref: Mutable<TrackRef> = { name: e.key.text, pos: posOf(e.key) };
    const [w, n, rev, ...extra] = e.args;
    if (w) {
      if (w.text !== 'weight' || !n) {
        r.problems.error('bad-value', `track_${what} entry: expected '${e.key.text} weight N', got '${e.args.map((a) => a.text).join(' ')}'`, posOf(w));
      } else {
        const weight = r.integer(n, `weight of ${e.key.text}`, -max, max);
        if (weight !== undefined) ref.weight = weight;
        if (rev) {
          const reverse = trackReverse(rev, what, r);
          if (reverse !== undefined) ref.reverse = reverse;
        }
        if (extra[0]) r.problems.error('arguments', `unexpected '${extra[0].text}' in track_${what} entry`, posOf(extra[0]));
      }
    }
    refs.push(ref);
  }
}

/** `reverse` on a weight override; `noreverse` undoes a script's or file's own `weight N reverse` (vrrp_track.c, track_file.c). */
function trackReverse(t: Token, what: TrackWhat, r: ArgReader): boolean | undefined {
  if (t.text === 'reverse') return true;
  if (t.text !== 'noreverse') {
    r.problems.error('bad-value', `expected 'reverse'${what !== 'interface' ? " or 'noreverse'" : ''} after the weight, got '${t.text}'`, posOf(t));
    return undefined;
  }
  // An interface has no weight of its own to reverse; keepalived -t rejects the word there.
  if (what === 'interface') r.problems.warn('lenient', 'noreverse on a track_interface weight: accepted as not reversed, the default (keepalived takes it only for scripts and files)', posOf(t));
  return false;
}

function notifyKeywords<D extends { notify: Mutable<NotifyScripts> }>(r: ArgReader): BlockSpec<D>['keywords'] {
  const set = (event: NotifyEvent) => (s: Stmt, d: D) => {
    const n = r.notifyScript(s);
    if (!n) return;
    d.notify[event] = n.command;
    // A later line for the same event replaces the earlier one, user included.
    const { [event]: _earlier, ...others } = d.notify.users ?? {};
    const users = n.user ? { ...others, [event]: n.user } : others;
    if (Object.keys(users).length > 0) d.notify.users = users;
    else delete d.notify.users;
  };
  return { notify_master: set('master'), notify_backup: set('backup'), notify_fault: set('fault'), notify_stop: set('stop'), notify: set('any') };
}

const VIP_OPTIONS = ['dev', 'label', 'brd', 'broadcast', 'scope'];
const VIP_UNSUPPORTED = ['metric', 'no_track', 'preferred_lft', 'home', 'nodad', 'noprefixroute', 'autojoin', 'track_group', 'peer'];

function readVip(e: Stmt, defaultDev: string | undefined, r: ArgReader): VirtualIp | undefined {
  r.noBlock(e);
  const text = e.key.text;
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const a = r.addressToken({ ...e.key, text: addrText }, 'virtual IP');
  if (!a) return undefined;
  const maxPrefix = a.family === 4 ? 32 : 128;
  let prefix = maxPrefix;
  if (slash >= 0) {
    const pv = r.integer({ ...e.key, text: text.slice(slash + 1) }, `prefix length of ${addrText}`, 0, maxPrefix);
    if (pv === undefined) return undefined;
    prefix = pv;
  }
  const vip: Mutable<VirtualIp> = { address: a.address, family: a.family, prefix, dev: defaultDev ?? '', pos: posOf(e.key) };
  for (let i = 0; i < e.args.length; i++) {
    const k = e.args[i] as Token;
    if (VIP_UNSUPPORTED.includes(k.text)) {
      r.problems.warn('unsupported', `not supported: ${k.text} (${k.file}:${k.line}) on a virtual IP; ignored`, posOf(k));
      if (!['no_track', 'home', 'nodad', 'noprefixroute', 'autojoin'].includes(k.text)) i++;
      continue;
    }
    if (!VIP_OPTIONS.includes(k.text)) {
      r.problems.error('bad-value', `virtual IP ${text}: unknown option '${k.text}'; expected one of: ${VIP_OPTIONS.join(' ')}`, posOf(k));
      continue;
    }
    const v = e.args[++i];
    if (!v) {
      r.problems.error('arguments', `virtual IP ${text}: ${k.text} needs a value`, posOf(k));
      break;
    }
    if (k.text === 'dev') vip.dev = v.text;
    else if (k.text === 'label') vip.label = v.text;
    else if (k.text === 'scope') vip.scope = v.text;
    else vip.broadcast = r.addressToken(v, 'broadcast')?.address;
  }
  return vip;
}

export function vipList(s: Stmt, defaultDev: string | undefined, r: ArgReader): VirtualIp[] {
  r.arity(s, 0, 0, `${s.key.text} { ADDRESS[/PREFIX] [dev IF] [label L] … }`);
  const out: VirtualIp[] = [];
  for (const e of r.needBlock(s)) {
    const v = readVip(e, defaultDev, r);
    if (v) out.push(v);
  }
  return out;
}

// ------------------------------------------------------------------------------------------ vrrp_instance

const INSTANCE_UNSUPPORTED = new Set(
  ('use_ipvlan unicast_fault_no_peer check_unicast_src old_unicast_checksum native_ipv6 vrf ' +
    'dont_track_primary track_bfd mcast_dst_ip track_src_ip unicast_ttl no_virtual_ipaddress ' +
    'promote_secondaries linkbeat_use_polling v3_checksum_as_v2 ' +
    'skip_check_adv_addr debug notify_deleted notify_master_rx_lower_pri notify_priority_changes ' +
    'garp_lower_prio_delay garp_lower_prio_repeat down_timer_adverts timer_expired_backup thread_timer_expired garp_extra_if ' +
    'vmac_garp_intvl lower_prio_no_advert higher_prio_send_advert owner_ignore_adverts kernel_rx_buf_size').split(/\s+/),
);

type InstanceDraft = Omit<Mutable<VrrpInstance>, 'strict' | 'accept' | 'notify' | 'unicastPeers' | 'trackInterfaces' | 'trackScripts' | 'trackFiles' | 'trackProcesses'> & {
  notify: Mutable<NotifyScripts>;
  unicastPeers: string[];
  trackInterfaces: TrackRef[];
  trackScripts: TrackRef[];
  trackFiles: TrackRef[];
  trackProcesses: TrackRef[];
  vipStmts: Stmt[];
  excludedStmts: Stmt[];
  set: Set<string>;
  strictMode?: boolean;
  acceptMode?: boolean;
};

export function readVrrpInstance(s: Stmt, g: GlobalDraft, r: ArgReader): VrrpInstance | undefined {
  const p = r.problems;
  const name = blockName(s, r, 'vrrp_instance NAME { … }');
  const block = r.needBlock(s);
  const d: InstanceDraft = {
    name: name ?? '', state: 'BACKUP', interface: '', vrid: 0, priority: DEFAULTS.vrrpPriority, advertIntMs: DEFAULTS.advertIntMs,
    version: g.vrrp.version, family: 4, nopreempt: false, preemptDelayMs: 0, unicastPeers: [], virtualIps: [], virtualIpsExcluded: [],
    trackInterfaces: [], trackScripts: [], trackFiles: [], trackProcesses: [], garpMasterDelayMs: g.vrrp.garpMasterDelayMs, garpMasterRepeat: g.vrrp.garpMasterRepeat,
    garpMasterRefreshMs: g.vrrp.garpMasterRefreshMs, garpMasterRefreshRepeat: g.vrrp.garpMasterRefreshRepeat, notify: {},
    pos: posOf(s.key), vipStmts: [], excludedStmts: [], set: new Set(),
  };
  let advertTok: Token | undefined;
  let versionTok: Token | undefined;
  let authTok: Token | undefined;
  let vmacTok: Token | undefined;
  const spec: BlockSpec<InstanceDraft> = {
    name: `vrrp_instance ${name ?? ''}`.trim(),
    unsupported: INSTANCE_UNSUPPORTED,
    keywords: {
      state: (t, d) => {
        r.noBlock(t);
        if (!r.arity(t, 1, 1, 'state MASTER|BACKUP')) return;
        const v = r.oneOf(t.args[0] as Token, 'state', ['MASTER', 'BACKUP'] as const, true);
        if (v) {
          d.state = v;
          d.set.add('state');
        }
      },
      interface: (t, d) => {
        d.interface = r.word(t, 'interface NAME') ?? d.interface;
      },
      virtual_router_id: (t, d) => {
        d.set.add('vrid');
        d.vrid = r.int(t, 1, 255) ?? d.vrid;
      },
      priority: (t, d) => {
        d.set.add('priority');
        d.priority = r.int(t, 1, 255) ?? d.priority;
      },
      advert_int: (t, d) => {
        const v = r.seconds(t, 1, 255_000);
        if (v !== undefined) {
          d.advertIntMs = v;
          advertTok = t.args[0];
        }
      },
      version: (t, d) => {
        const v = r.int(t, 2, 3);
        if (v === undefined) return;
        d.version = v === 3 ? 3 : 2;
        versionTok = t.args[0];
      },
      nopreempt: (t, d) => {
        d.nopreempt = r.flag(t);
      },
      preempt: (t, d) => {
        d.nopreempt = !r.flag(t);
      },
      preempt_delay: (t, d) => {
        d.preemptDelayMs = r.seconds(t, 0, 1_000_000) ?? d.preemptDelayMs;
      },
      mcast_src_ip: (t, d) => {
        d.mcastSrcIp = r.address(t)?.address ?? d.mcastSrcIp;
      },
      unicast_src_ip: (t, d) => {
        d.unicastSrcIp = r.address(t)?.address ?? d.unicastSrcIp;
      },
      unicast_peer: (t, d) => {
        r.arity(t, 0, 0, 'unicast_peer { ADDRESS … }');
        for (const e of r.needBlock(t)) {
          r.noBlock(e);
          const a = r.addressToken(e.key, 'unicast_peer');
          if (a) d.unicastPeers.push(a.address);
          if (e.args[0]) p.warn('unsupported', `not supported: ${e.args[0].text} (${e.args[0].file}:${e.args[0].line}) on a unicast peer; ignored`, posOf(e.args[0]));
        }
      },
      authentication: (t, d) => {
        r.arity(t, 0, 0, 'authentication { auth_type PASS|AH auth_pass SECRET }');
        const auth: { type?: 'PASS' | 'AH'; pass?: string } = {};
        walk(r.needBlock(t), {
          name: 'authentication',
          unsupported: new Set(['auth_hmac', 'key', 'active_key', 'time_window', 'anti_replay', 'mode']),
          keywords: {
            auth_type: (u) => {
              r.noBlock(u);
              if (!r.arity(u, 1, 1, 'auth_type PASS|AH')) return;
              auth.type = r.oneOf(u.args[0] as Token, 'auth_type', ['PASS', 'AH'] as const, true);
              authTok = u.args[0];
            },
            auth_pass: (u) => {
              const v = r.word(u, 'auth_pass SECRET');
              if (v === undefined) return;
              if (v.length > 8) p.warn('lenient', `auth_pass is longer than 8 characters; VRRP carries only the first 8 ('${v.slice(0, 8)}')`, posOf(u.args[0] as Token));
              auth.pass = v.slice(0, 8);
            },
          },
        }, undefined, r);
        if (!auth.type) p.error('missing', 'authentication block has no auth_type', posOf(t.key));
        else if (auth.pass === undefined) p.error('missing', 'authentication block has no auth_pass', posOf(t.key));
        else d.auth = { type: auth.type, pass: auth.pass };
      },
      virtual_ipaddress: (t, d) => {
        d.vipStmts.push(t);
      },
      virtual_ipaddress_excluded: (t, d) => {
        d.excludedStmts.push(t);
      },
      virtual_routes: (t, d) => {
        d.virtualRoutes = [...(d.virtualRoutes ?? []), ...lineBlock(t, r, `virtual_routes ${ROUTE_USAGE}`, readRoute)];
      },
      virtual_rules: (t, d) => {
        d.virtualRules = [...(d.virtualRules ?? []), ...lineBlock(t, r, `virtual_rules ${RULE_USAGE}`, readRule)];
      },
      track_interface: (t, d) => {
        trackList(t, r, 'interface', d.trackInterfaces);
      },
      track_script: (t, d) => {
        trackList(t, r, 'script', d.trackScripts);
      },
      track_file: (t, d) => {
        trackList(t, r, 'file', d.trackFiles);
      },
      track_process: (t, d) => {
        trackList(t, r, 'process', d.trackProcesses);
      },
      garp_master_delay: (t, d) => {
        d.garpMasterDelayMs = r.seconds(t, 0, 255_000) ?? d.garpMasterDelayMs;
      },
      garp_master_repeat: (t, d) => {
        d.garpMasterRepeat = r.int(t, 1, 255) ?? d.garpMasterRepeat;
      },
      garp_master_refresh: (t, d) => {
        d.garpMasterRefreshMs = r.seconds(t) ?? d.garpMasterRefreshMs;
      },
      garp_master_refresh_repeat: (t, d) => {
        d.garpMasterRefreshRepeat = r.int(t, 1, 255) ?? d.garpMasterRefreshRepeat;
      },
      ...notifyKeywords<InstanceDraft>(r),
      smtp_alert: (t, d) => {
        d.smtpAlert = r.flag(t);
      },
      use_vmac: (t, d) => {
        r.noBlock(t);
        if (!r.arity(t, 0, 2, 'use_vmac [NAME] [MAC]')) return;
        vmacTok = t.key;
        d.useVmac = '';
        // An interface name cannot contain ':', a MAC address always does: either order, as keepalived reads them.
        for (const a of t.args) {
          if (!a.text.includes(':')) d.useVmac = a.text;
          else d.vmacAddress = vmacAddress(a, r) ?? d.vmacAddress;
        }
      },
      vmac_xmit_base: (t, d) => {
        d.vmacXmitBase = r.flag(t);
      },
      use_vmac_addr: (t, d) => {
        p.warn('unsupported', `vrrp_instance ${d.name}: use_vmac_addr (a VMAC of its own for each VIP on another interface or of the other family) is not supported; ignored: those VIPs stay on their interface with its own MAC`, posOf(t.key));
      },
      strict_mode: (t, d) => {
        d.strictMode = r.flag(t);
      },
      accept: (t, d) => {
        d.acceptMode = r.flag(t);
      },
      no_accept: (t, d) => {
        d.acceptMode = !r.flag(t);
      },
      lvs_sync_daemon_interface: (t, d) => {
        d.lvsSyncDaemonInterface = r.word(t, 'lvs_sync_daemon_interface NAME') ?? d.lvsSyncDaemonInterface;
      },
    },
  };
  walk(block, spec, d, r);

  const where = `vrrp_instance ${d.name}`;
  // keepalived derives each of state and priority from the other when only one is given (vrrp.c): a MASTER
  // without a priority is the address owner (255), and priority 255 without a state starts as MASTER.
  if (!d.set.has('priority') && d.state === 'MASTER') d.priority = 255;
  if (!d.set.has('state') && d.priority === 255) d.state = 'MASTER';

  const vips = d.vipStmts.flatMap((t) => vipList(t, d.interface, r));
  const excluded = d.excludedStmts.flatMap((t) => vipList(t, d.interface, r));
  const first = vips[0];
  const family: Family = first?.family ?? familyOf(d.mcastSrcIp ?? d.unicastSrcIp ?? d.unicastPeers[0]);
  d.family = family;
  d.virtualIps = vips.filter((v) => {
    if (v.family === family) return true;
    p.warn('lenient', `${where}: ${v.address} is IPv${v.family} in an IPv${family} instance; treated as virtual_ipaddress_excluded (as keepalived does)`, v.pos);
    excluded.push(v);
    return false;
  });
  d.virtualIpsExcluded = excluded;
  if (!d.interface) checkNoInterface(d, s, r);
  if (!d.set.has('vrid')) p.error('missing', `${where} has no virtual_router_id`, posOf(s.key));

  // VRRPv2 is IPv4 only: keepalived runs every IPv6 instance as v3 (vrrp.c, vrrp_complete_instance).
  if (family === 6 && d.version === 2) {
    d.version = 3;
    const why = versionTok ? 'version 2 is IPv4 only' : 'VRRPv2 is IPv4 only';
    p.warn('lenient', `${where}: IPv6 instance without "version 3": ${why}, so it runs VRRPv3, as keepalived does (add "version 3" to say so)`, posOf(versionTok ?? s.key));
  }
  checkAdvertInt(d, advertTok, r);
  const strict = d.strictMode ?? g.vrrp.strict;
  if (strict) applyStrict(d, s, r);
  if (d.version === 3 && d.auth) {
    p.warn('lenient', `${where}: VRRPv3 has no authentication; the authentication block is ignored`, posOf(s.key));
    delete d.auth;
  }
  checkPreemption(d, s, r);
  if (d.auth?.type === 'AH') p.error('unsupported', `${where}: auth_type AH (IPsec AH) is not supported; use PASS or no authentication`, posOf(authTok ?? s.key));
  if (d.vmacAddress?.split(':').length === 5) d.vmacAddress = `${d.vmacAddress}:${d.vrid.toString(16).padStart(2, '0')}`;
  if (vmacTok) checkVmac(d, strict, vmacTok, r);
  else if (d.vmacXmitBase) {
    p.warn('lenient', `${where}: vmac_xmit_base without use_vmac does nothing; ignored`, posOf(s.key));
    delete d.vmacXmitBase;
  }
  const accept = acceptMode(d, strict, s, r);
  if (name === undefined) return undefined;
  const { vipStmts: _a, excludedStmts: _b, set: _c, strictMode: _d, acceptMode: _e, ...instance } = d;
  return { ...instance, strict, accept };
}

/**
 * What keepalived 2.2.7's vrrp_complete_instance (vrrp.c) does to a strict instance, in its order: what it refuses
 * (the instance does not run) is an error here, what it rewrites and carries on with is a warning.
 */
function applyStrict(d: InstanceDraft, s: Stmt, r: ArgReader): void {
  const p = r.problems;
  const where = `vrrp_instance ${d.name}`;
  const at = posOf(s.key);
  if (d.virtualIps.length === 0) p.error('strict', `${where}: no virtual_ipaddress; strict mode requires at least one`, at);
  if (d.set.has('state') && (d.state === 'MASTER') !== (d.priority === 255)) {
    d.state = d.priority === 255 ? 'MASTER' : 'BACKUP';
    p.warn('strict', `${where}: strict mode: state MASTER must match being the address owner (priority 255); state set to ${d.state}`, at);
  }
  if (d.auth) {
    p.warn('strict', `${where}: strict mode does not support authentication; the authentication block is ignored`, at);
    delete d.auth;
  }
  // keepalived allows unicast in strict mode only on an interface without multicast, which a VRRP LAN always has.
  if (d.unicastPeers.length > 0 && d.interface) p.error('strict', `${where}: unicast peers are not supported in strict mode`, at);
  if (d.vmacAddress !== undefined) {
    p.warn('strict', `${where}: strict mode: use_vmac cannot set a MAC address; cleared`, at);
    delete d.vmacAddress;
  }
  const first = d.virtualIps[0];
  if (first?.family === 6 && d.unicastPeers.length === 0 && !/^fe[89ab]/i.test(first.address)) {
    p.warn('strict', `${where}: strict mode: the first IPv6 virtual IP must be link-local (${first.address} is not)`, first.pos);
  }
  if (d.preemptDelayMs > 0) {
    p.warn('strict', `${where}: preempt_delay is incompatible with strict mode; reset to 0`, at);
    d.preemptDelayMs = 0;
  }
}

/**
 * nopreempt and preempt_delay as keepalived 2.2.7's vrrp_complete_instance leaves them (after strict mode's state
 * rewrite): the address owner always preempts, nopreempt needs state BACKUP (instance-settings.ts folds both in),
 * and preempt_delay is cleared for a MASTER and with nopreempt, where it would only hold back a takeover that
 * keepalived makes at once or never.
 */
function checkPreemption(d: InstanceDraft, s: Stmt, r: ArgReader): void {
  const p = r.problems;
  const where = `vrrp_instance ${d.name}`;
  const at = posOf(s.key);
  const owner = d.priority === 255;
  if (d.nopreempt && owner) p.warn('lenient', `${where}: nopreempt is incompatible with priority 255 (the address owner always preempts); it is ignored, as keepalived does`, at);
  else if (d.nopreempt && d.state === 'MASTER') p.warn('lenient', `${where}: nopreempt only works with state BACKUP (as in keepalived); it is ignored for a MASTER`, at);
  if (d.preemptDelayMs === 0) return;
  if (d.state === 'MASTER') p.warn('lenient', `${where}: preempt_delay does not work with state MASTER; reset to 0, as keepalived does`, at);
  else if (d.nopreempt && !owner) p.warn('lenient', `${where}: preempt_delay is incompatible with nopreempt; reset to 0, as keepalived does`, at);
  else return;
  d.preemptDelayMs = 0;
}

/**
 * keepalived's accept mode: as written, else on for the address owner and off otherwise in strict mode; a strict
 * VRRPv2 non-owner cannot have it (RFC 3768 has no accept mode).
 */
function acceptMode(d: InstanceDraft, strict: boolean, s: Stmt, r: ArgReader): boolean {
  const owner = d.priority === 255;
  const accept = d.acceptMode ?? (owner || !strict);
  if (accept && !owner && strict && d.version === 2) {
    r.problems.warn('strict', `vrrp_instance ${d.name}: accept mode for VRRP version 2 does not comply with RFC 3768 in strict mode; reset to no_accept`, posOf(s.key));
    return false;
  }
  return accept;
}

/**
 * keepalived runs a unicast instance without an interface, sending from its unicast_src_ip as routed; every
 * other instance needs one (vrrp.c: "Unicast instances must have unicast_src_ip or interface").
 */
function checkNoInterface(d: InstanceDraft, s: Stmt, r: ArgReader): void {
  const where = `vrrp_instance ${d.name}`;
  const unicast = d.unicastPeers.length > 0;
  const src = d.unicastSrcIp ?? d.mcastSrcIp;
  if (!unicast) r.problems.error('missing', `${where} has no interface (only a unicast instance may omit it)`, posOf(s.key));
  else if (src === undefined) r.problems.error('missing', `${where}: a unicast instance without an interface needs unicast_src_ip`, posOf(s.key));
  else if (d.family === 6 && /^fe[89ab]/.test(src)) r.problems.error('bad-value', `${where}: without an interface, unicast_src_ip must not be link-local (${src})`, posOf(s.key));
  if (!unicast) return;
  for (const v of [...d.virtualIps, ...d.virtualIpsExcluded]) {
    if (!v.dev) r.problems.error('missing', `${where}: virtual IP ${v.address} needs "dev IF" when the instance has no interface`, v.pos);
  }
}

/** keepalived's vrrp_complete_instance / vrrp_parser.c rules for use_vmac that depend on the rest of the instance. */
function checkVmac(d: InstanceDraft, strict: boolean, at: Token, r: ArgReader): void {
  const where = `vrrp_instance ${d.name}`;
  const unicast = d.unicastPeers.length > 0;
  if (unicast && !d.interface) {
    r.problems.warn('lenient', `${where}: use_vmac needs an interface, and this unicast instance has none; use_vmac ignored (as keepalived does)`, posOf(at));
    delete d.useVmac;
    delete d.vmacAddress;
    delete d.vmacXmitBase;
    return;
  }
  if (strict && d.vmacXmitBase) {
    r.problems.warn('strict', `${where}: strict mode: vmac_xmit_base is incompatible with strict mode; reset`, posOf(at));
    delete d.vmacXmitBase;
  } else if (unicast && !d.vmacXmitBase) {
    r.problems.warn('lenient', `${where}: unicast with use_vmac sends and receives on the base interface: vmac_xmit_base set (as keepalived does)`, posOf(at));
    d.vmacXmitBase = true;
  }
}

/**
 * Gives each use_vmac instance without a name keepalived's (vrrp.c create_vmac_name): vrrp.VRID if no other instance
 * uses it, for IPv6 then vrrp6.VRID, then vrrp1.VRID, vrrp2.VRID, …; a name given twice is an error.
 */
export function nameVmacs(instances: readonly VrrpInstance[], r: ArgReader): VrrpInstance[] {
  const taken = new Map<string, string>();
  for (const i of instances) {
    if (!i.useVmac) continue;
    const other = taken.get(i.useVmac);
    if (other !== undefined) r.problems.error('duplicate', `vrrp_instance ${i.name}: use_vmac ${i.useVmac} is already the VMAC of vrrp_instance ${other}`, i.pos);
    else taken.set(i.useVmac, i.name);
  }
  return instances.map((i) => {
    if (i.useVmac !== '') return i;
    const name = freeVmacName(i.vrid, i.family, taken);
    taken.set(name, i.name);
    return { ...i, useVmac: name };
  });
}

function freeVmacName(vrid: number, family: Family, taken: ReadonlyMap<string, string>): string {
  const candidates = [`vrrp.${vrid}`, ...(family === 6 ? [`vrrp6.${vrid}`] : [])];
  for (const c of candidates) if (!taken.has(c)) return c;
  for (let n = 1; ; n++) if ((family === 4 || n !== 6) && !taken.has(`vrrp${n}.${vrid}`)) return `vrrp${n}.${vrid}`;
}

/** `use_vmac`'s MAC: five or six hex octets, unicast, not the RFC 5798 virtual router MAC (vrrp_parser.c). */
function vmacAddress(t: Token, r: ArgReader): string | undefined {
  const octets = t.text.replace(/:$/, '').split(':');
  const valid = (octets.length === 5 || octets.length === 6) && octets.every((o) => /^[0-9a-fA-F]{1,2}$/.test(o));
  const bytes = valid ? octets.map((o) => parseInt(o, 16)) : [];
  const why = !valid ? 'is not a MAC address (5 or 6 hex octets)'
    : (bytes[0] ?? 0) & 1 ? 'is a multicast address'
    : bytes.slice(0, 4).join() === '0,0,94,0' && (bytes[4] === 1 || bytes[4] === 2) ? "is VRRP's own virtual router MAC"
    : undefined;
  if (why) {
    r.problems.error('bad-value', `use_vmac: ${t.text} ${why}`, posOf(t));
    return undefined;
  }
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

function familyOf(address: string | undefined): Family {
  return address?.includes(':') ? 6 : 4;
}

/** VRRPv2 counts the interval in whole seconds (1-255), VRRPv3 in centiseconds (up to 40.95 s). */
function checkAdvertInt(d: InstanceDraft, tok: Token | undefined, r: ArgReader): void {
  if (!tok) return;
  if (d.version === 3) {
    if (d.advertIntMs < 10 || d.advertIntMs > 40_950) {
      r.problems.error('range', `advert_int ${tok.text} is out of range for VRRPv3 (0.01-40.95 seconds)`, posOf(tok));
    } else if (d.advertIntMs % 10 !== 0) {
      d.advertIntMs = Math.ceil(d.advertIntMs / 10) * 10;
      r.problems.warn('lenient', `advert_int ${tok.text}: VRRPv3 counts centiseconds; rounded up to ${d.advertIntMs / 1000}`, posOf(tok));
    }
  } else if (d.advertIntMs < 1000) {
    r.problems.error('range', `advert_int ${tok.text} is out of range for VRRPv2 (1-255 seconds; use version 3 for sub-second adverts)`, posOf(tok));
  } else if (d.advertIntMs % 1000 !== 0) {
    d.advertIntMs = Math.ceil(d.advertIntMs / 1000) * 1000;
    r.problems.warn('lenient', `advert_int ${tok.text}: VRRPv2 counts whole seconds; rounded up to ${d.advertIntMs / 1000}`, posOf(tok));
  }
}

// ------------------------------------------------------------------------------------------ vrrp_sync_group

export function readVrrpSyncGroup(s: Stmt, r: ArgReader): VrrpSyncGroup | undefined {
  const name = blockName(s, r, 'vrrp_sync_group NAME { group { INSTANCE … } }');
  type D = Omit<Mutable<VrrpSyncGroup>, 'members' | 'notify' | 'trackInterfaces' | 'trackScripts' | 'trackFiles' | 'trackProcesses'> & {
    members: string[]; notify: Mutable<NotifyScripts>; trackInterfaces: TrackRef[]; trackScripts: TrackRef[]; trackFiles: TrackRef[]; trackProcesses: TrackRef[];
    hasGroup: boolean;
  };
  const d: D = {
    name: name ?? '', members: [], notify: {}, trackInterfaces: [], trackScripts: [], trackFiles: [], trackProcesses: [], pos: posOf(s.key), hasGroup: false,
  };
  walk(r.needBlock(s), {
    name: `vrrp_sync_group ${name ?? ''}`.trim(),
    unsupported: new Set(['track_bfd', 'notify_priority_changes']),
    keywords: {
      sync_group_tracking_weight: (t, d) => {
        r.noBlock(t);
        if (r.arity(t, 0, 0, 'sync_group_tracking_weight')) d.trackingWeight = true;
      },
      global_tracking: (t, d) => {
        r.noBlock(t);
        r.problems.warn('deprecated', 'global_tracking is the old name of sync_group_tracking_weight; taken as sync_group_tracking_weight', posOf(t.key));
        if (r.arity(t, 0, 0, 'global_tracking')) d.trackingWeight = true;
      },
      group: (t, d) => {
        r.arity(t, 0, 0, 'group { INSTANCE … }');
        d.hasGroup = true;
        for (const e of r.needBlock(t)) {
          r.noBlock(e);
          for (const m of [e.key, ...e.args]) d.members.push(m.text);
        }
      },
      ...notifyKeywords<D>(r),
      track_interface: (t, d) => {
        trackList(t, r, 'interface', d.trackInterfaces);
      },
      track_script: (t, d) => {
        trackList(t, r, 'script', d.trackScripts);
      },
      track_file: (t, d) => {
        trackList(t, r, 'file', d.trackFiles);
      },
      track_process: (t, d) => {
        trackList(t, r, 'process', d.trackProcesses);
      },
      smtp_alert: (t, d) => {
        d.smtpAlert = r.flag(t);
      },
    },
  }, d, r);
  if (!d.hasGroup) r.problems.error('missing', `vrrp_sync_group ${d.name} has no group { } of instances`, posOf(s.key));
  if (name === undefined) return undefined;
  const { hasGroup: _, ...group } = d;
  return group;
}
