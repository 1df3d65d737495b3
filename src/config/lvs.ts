// virtual_server_group and virtual_server (with its real_servers; checkers.ts reads their checkers) → model objects,
// with keepalived's defaults and its inheritance virtual_server → real_server → checker applied here, once, so
// consumers never re-derive them.
import { posOf, type Token } from './lexer.ts';
import { walk, type BlockSpec, type Handler, type Mutable } from './blocks.ts';
import {
  DEFAULTS, LB_ALGOS, LB_KINDS, type Checker, type Endpoint, type LbAlgo, type LbKind, type Protocol, type RealServer, type TrackFile,
  type SourcePos, type Tunnel, type VirtualServer, type VirtualServerGroup, type VirtualServerKey,
} from './model.ts';
import { CHECKER_KEYWORDS, CheckerReader } from './checkers.ts';
import { readVirtualServerGroup } from './groups.ts';
import type { Problems } from './problems.ts';
import { inherit, inheritedKeywords, type Inherited } from './inherit.ts';
import type { Stmt } from './tree.ts';
import { canonicalAddress, type ArgReader } from './values.ts';

/** IPVS's own default when keepalived is given no scheduler. */
const DEFAULT_LB_ALGO: LbAlgo = 'wlc';
/** keepalived's persistence timeout when persistence is asked for without a number (IPVS_SVC_PERSISTENT_TIMEOUT). */
const DEFAULT_PERSISTENCE_S = 360;
const MAX_PERSISTENCE_S = 31 * 86_400;
const MAX_WEIGHT = 65535;

/** `lb_kind|lvs_method NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]`. */
function forwarding(s: Stmt, r: ArgReader): { lbKind: LbKind; tunnel?: Tunnel } | undefined {
  r.noBlock(s);
  if (!r.arity(s, 1, 6, (k) => `${k} NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]`)) return undefined;
  const [kindTok, ...rest] = s.args as [Token, ...Token[]];
  const lbKind = r.oneOf(kindTok, s.key.text, LB_KINDS, true);
  if (!lbKind) return undefined;
  if (rest.length === 0) return { lbKind };
  if (lbKind !== 'TUN') {
    r.problems.error('arguments', `${s.key.text} ${lbKind} takes no tunnel options`, posOf(rest[0] as Token));
    return { lbKind };
  }
  const tunnel: Mutable<Tunnel> = { type: 'ipip' };
  for (let i = 0; i < rest.length; i++) {
    const t = rest[i] as Token;
    if (t.text === 'type' || t.text === 'port') {
      const v = rest[++i];
      if (!v) {
        r.problems.error('arguments', `${s.key.text}: ${t.text} needs a value`, posOf(t));
        return undefined;
      }
      if (t.text === 'type') tunnel.type = r.oneOf(v, 'tunnel type', ['ipip', 'gue', 'gre'] as const) ?? tunnel.type;
      else tunnel.port = r.integer(v, 'gue tunnel port', 1, 65535);
    } else {
      const csum = r.oneOf(t, 'tunnel option', ['nocsum', 'csum', 'remcsum'] as const);
      if (csum) tunnel.checksum = csum === 'nocsum' ? 'none' : csum === 'csum' ? 'checksum' : 'remote';
    }
  }
  if ((tunnel.type === 'gue') !== (tunnel.port !== undefined)) {
    r.problems.error('arguments', `${s.key.text}: a gue tunnel needs a port, and only gue takes one`, posOf(s.key));
  }
  return { lbKind, tunnel };
}

function endpoint(s: Stmt, r: ArgReader, usage: string, portOptional: boolean, defaultPort = 0): Endpoint | undefined {
  if (!r.arity(s, portOptional ? 1 : 2, 2, usage)) return undefined;
  const a = r.addressToken(s.args[0] as Token, s.key.text);
  const port = s.args[1] ? r.portToken(s.args[1], s.key.text) : defaultPort;
  return a && port !== undefined ? { address: a.address, family: a.family, port } : undefined;
}

// ------------------------------------------------------------------------------------------ virtual_server

const VS_UNSUPPORTED = new Set(['persistence_engine', 'hashed', 'snmp_name', 'weight']);
const RS_UNSUPPORTED = new Set(['snmp_name']);
/** One frozen empty list for every real server without checkers and every service without scheduler flags. */
const NONE: readonly never[] = Object.freeze([]);
/** A real server's checker blocks before the first (replaced, never pushed to). */
const NO_STMTS: Stmt[] = [];
const SCHEDULER_FLAGS = ['flag-1', 'flag-2', 'flag-3', 'sh-port', 'sh-fallback', 'mh-port', 'mh-fallback'];

type VsDraft = Omit<Mutable<VirtualServer>, 'realServers' | 'schedulerFlags' | 'key' | 'lbAlgo' | 'lbKind'> & {
  inh: Inherited;
  lbAlgo?: LbAlgo;
  lbKind?: LbKind;
  sorryKind?: LbKind;
  /** Where `protocol` was written: a fwmark service has none (the mark selects the packets). */
  protocolPos?: SourcePos;
  /** lb_algo / lb_kind were written (maybe invalid, already reported): no "missing" warning then. */
  algoGiven: boolean;
  kindGiven: boolean;
  schedulerFlags: string[];
  rsStmts: Stmt[];
  family?: 4 | 6;
  granularitySet: boolean;
};

function virtualServerKey(s: Stmt, r: ArgReader): VirtualServerKey | undefined {
  const [first, second, ...extra] = s.args;
  const named = first?.text === 'fwmark' || first?.text === 'group';
  // keepalived (since 2.0.7) takes `virtual_server ADDRESS` without a port as port 0: every port of the address.
  if (!first || (named && !second) || extra.length > 0) {
    const what = extra.length > 0 ? 'has too many arguments' : 'is missing an argument';
    r.problems.error('arguments', `virtual_server ${what}; usage: virtual_server ADDRESS [PORT] | fwmark N | group NAME { … }`, posOf(extra[0] ?? first ?? s.key));
    if (first && !named) r.addressToken(first, 'virtual_server');
    return undefined;
  }
  if (first.text === 'fwmark') {
    const mark = r.integer(second as Token, 'fwmark', 1, 0xffffffff);
    return mark === undefined ? undefined : { kind: 'fwmark', mark, family: 4 };
  }
  if (first.text === 'group') return { kind: 'group', name: (second as Token).text };
  const a = r.addressToken(first, 'virtual_server');
  const port = second ? r.portToken(second, 'virtual_server') : 0;
  return a && port !== undefined ? { kind: 'addr', address: a.address, family: a.family, port } : undefined;
}

function zeroPortMessage(label: string): string {
  return `${label}: port 0 means every port, which IPVS allows only for a persistent service; persistence_timeout ${DEFAULT_PERSISTENCE_S} set, as keepalived does (set persistence_timeout to choose)`;
}

/**
 * A virtual_server_group with an address entry on port 0 makes its virtual servers persistent, as a plain
 * `virtual_server ADDRESS` does; groups can come after the servers that use them, so this runs on the whole config.
 */
export function persistZeroPortGroups(servers: readonly VirtualServer[], groups: readonly VirtualServerGroup[], p: Problems): VirtualServer[] {
  const zeroPort = new Set(groups.filter((g) => g.members.some((m) => m.kind === 'addr' && m.port === 0)).map((g) => g.name));
  return servers.map((vs) => {
    if (vs.key.kind !== 'group' || !zeroPort.has(vs.key.name) || vs.persistenceTimeoutS !== undefined) return vs;
    p.warn('lenient', zeroPortMessage(`virtual_server group ${vs.key.name}`), vs.pos);
    return { ...vs, persistenceTimeoutS: DEFAULT_PERSISTENCE_S };
  });
}

/**
 * Reads virtual servers. The keyword tables are built once per load, not per block: a large config has hundreds of
 * thousands of real servers and checkers.
 */
export class LvsReader {
  readonly #r: ArgReader;
  readonly #vsSpec: BlockSpec<VsDraft>;
  readonly #rsSpec: BlockSpec<RsDraft>;
  readonly #checkers: CheckerReader;

  /** `trackFiles`: the top-level track_file blocks read so far, for FILE_CHECK. */
  constructor(r: ArgReader, trackFiles: readonly TrackFile[]) {
    this.#r = r;
    this.#vsSpec = virtualServerSpec(r);
    this.#rsSpec = realServerSpec(r);
    this.#checkers = new CheckerReader(r, trackFiles);
  }

  readVirtualServerGroup(s: Stmt): VirtualServerGroup | undefined {
    return readVirtualServerGroup(s, this.#r);
  }

  readVirtualServer(s: Stmt): VirtualServer | undefined {
    const r = this.#r;
    const p = r.problems;
    const key = virtualServerKey(s, r);
    const label = `virtual_server ${s.args.map((a) => a.text).join(' ')}`;
    const d: VsDraft = {
      protocol: 'TCP', schedulerFlags: [], onePacket: false, delayLoopMs: DEFAULTS.delayLoopMs, haSuspend: false, alpha: false,
      omega: false, quorum: DEFAULTS.quorum, hysteresis: DEFAULTS.hysteresis, sorryServerInhibit: false, inhibitOnFailure: false,
      pos: posOf(s.key), inh: {}, rsStmts: [], granularitySet: false, algoGiven: false, kindGiven: false,
    };
    walk(r.needBlock(s), this.#vsSpec, d, r, s);

    if (!d.algoGiven) p.warn('missing', `${label} has no lb_algo; using ${DEFAULT_LB_ALGO} as keepalived does`, posOf(s.key));
    if (!d.kindGiven) p.warn('missing', `${label} has no lb_kind; using NAT as keepalived does`, posOf(s.key));
    if (d.onePacket && d.protocol !== 'UDP') p.warn('lenient', `${label}: ops (one-packet scheduling) only applies to UDP; ignored`, posOf(s.key));
    if (key?.kind === 'fwmark' && d.protocolPos) p.warn('lenient', `${label}: protocol is ignored for a fwmark service (the mark selects the packets, whatever their protocol), as keepalived ignores it`, d.protocolPos);
    if (d.granularitySet && d.persistenceTimeoutS === undefined) d.persistenceTimeoutS = DEFAULT_PERSISTENCE_S;
    if (key?.kind === 'addr' && key.port === 0 && d.persistenceTimeoutS === undefined) {
      p.warn('lenient', zeroPortMessage(label), posOf(s.key));
      d.persistenceTimeoutS = DEFAULT_PERSISTENCE_S;
    }
    d.delayLoopMs = d.inh.delayLoopMs ?? DEFAULTS.delayLoopMs;
    d.alpha = d.inh.alpha ?? false;
    d.inhibitOnFailure = d.inh.inhibitOnFailure ?? false;
    if (d.inh.virtualhost !== undefined) d.virtualhost = d.inh.virtualhost;
    if (d.sorryServer && d.sorryKind) d.sorryServer = { ...d.sorryServer, lbKind: d.sorryKind };

    const lbKind = d.lbKind ?? 'NAT';
    const vsPort = key?.kind === 'addr' ? key.port : 0;
    const realServers: RealServer[] = [];
    // By address, then by address and port only where one address comes with several ports: no key string is made
    // for each of the usual real servers, whose addresses differ.
    const byAddress = new Map<string, RealServer>();
    let byEndpoint: Map<string, RealServer> | undefined;
    for (const t of d.rsStmts) {
      const rs = this.#readRealServer(t, d, lbKind, vsPort);
      if (!rs) continue;
      let prev = byAddress.get(rs.address);
      if (prev === undefined) byAddress.set(rs.address, rs);
      else if (prev.port !== rs.port) {
        byEndpoint ??= new Map();
        const id = `${rs.address}|${rs.port}`;
        prev = byEndpoint.get(id);
        if (prev === undefined) byEndpoint.set(id, rs);
      }
      if (prev) {
        p.error('duplicate', `duplicate real_server ${rs.address} ${rs.port} in ${label} (first at ${prev.pos.file}:${prev.pos.line}:${prev.pos.col})`, rs.pos);
        continue;
      }
      realServers.push(rs);
    }
    if (!key) return undefined;
    const vs: Mutable<VirtualServer> = {
      key: key.kind === 'fwmark' && d.family ? { ...key, family: d.family } : key,
      protocol: d.protocol, lbAlgo: d.lbAlgo ?? DEFAULT_LB_ALGO, lbKind, schedulerFlags: d.schedulerFlags.length > 0 ? d.schedulerFlags : NONE,
      onePacket: d.onePacket, delayLoopMs: d.delayLoopMs, haSuspend: d.haSuspend, alpha: d.alpha, omega: d.omega, quorum: d.quorum,
      hysteresis: d.hysteresis, sorryServerInhibit: d.sorryServerInhibit, inhibitOnFailure: d.inhibitOnFailure,
      realServers: realServers.slice(), pos: d.pos,
    };
    if (d.tunnel !== undefined) vs.tunnel = d.tunnel;
    if (d.persistenceTimeoutS !== undefined) vs.persistenceTimeoutS = d.persistenceTimeoutS;
    if (d.persistenceGranularity !== undefined) vs.persistenceGranularity = d.persistenceGranularity;
    if (d.virtualhost !== undefined) vs.virtualhost = d.virtualhost;
    if (d.quorumUp !== undefined) vs.quorumUp = d.quorumUp;
    if (d.quorumDown !== undefined) vs.quorumDown = d.quorumDown;
    if (d.quorumUpUser !== undefined) vs.quorumUpUser = d.quorumUpUser;
    if (d.quorumDownUser !== undefined) vs.quorumDownUser = d.quorumDownUser;
    if (d.sorryServer !== undefined) vs.sorryServer = d.sorryServer;
    if (d.smtpAlert !== undefined) vs.smtpAlert = d.smtpAlert;
    return vs;
  }

  #readRealServer(s: Stmt, vs: VsDraft, lbKind: LbKind, vsPort: number): RealServer | undefined {
    const r = this.#r;
    const ep = endpoint(s, r, 'real_server ADDRESS [PORT] { … }', true, vsPort);
    const d: RsDraft = {
      address: ep?.address ?? '', family: ep?.family ?? 4, port: ep?.port ?? 0, weight: DEFAULTS.weight, lbKind, inhibitOnFailure: false,
      alpha: false, delayLoopMs: 0, pos: posOf(s.key), inh: {}, checkerStmts: NO_STMTS,
    };
    if (vs.tunnel) d.tunnel = vs.tunnel;
    walk(r.needBlock(s), this.#rsSpec, d, r, s);
    const inh = inherit(vs.inh, d.inh);
    d.delayLoopMs = inh.delayLoopMs ?? DEFAULTS.delayLoopMs;
    d.alpha = inh.alpha ?? false;
    d.inhibitOnFailure = inh.inhibitOnFailure ?? false;
    if (inh.virtualhost !== undefined) d.virtualhost = inh.virtualhost;
    // The usual single checker block's list is kept as read: an array grown by push holds room for 16 more.
    let checkers: readonly Checker[] = NONE;
    for (const t of d.checkerStmts) {
      const read = this.#checkers.read(t, d, inh);
      checkers = checkers.length === 0 ? read : [...checkers, ...read];
    }
    if (!ep) return undefined;
    // Optional settings only where set: a field holding undefined costs as much as one holding a value, in each of
    // hundreds of thousands of real servers.
    const rs: Mutable<RealServer> = {
      address: d.address, family: d.family, port: d.port, weight: d.weight, lbKind: d.lbKind, inhibitOnFailure: d.inhibitOnFailure,
      alpha: d.alpha, delayLoopMs: d.delayLoopMs, checkers, pos: d.pos,
    };
    if (d.tunnel !== undefined) rs.tunnel = d.tunnel;
    if (d.notifyUp !== undefined) rs.notifyUp = d.notifyUp;
    if (d.notifyDown !== undefined) rs.notifyDown = d.notifyDown;
    if (d.notifyUpUser !== undefined) rs.notifyUpUser = d.notifyUpUser;
    if (d.notifyDownUser !== undefined) rs.notifyDownUser = d.notifyDownUser;
    if (d.uthreshold !== undefined) rs.uthreshold = d.uthreshold;
    if (d.lthreshold !== undefined) rs.lthreshold = d.lthreshold;
    if (d.virtualhost !== undefined) rs.virtualhost = d.virtualhost;
    if (d.smtpAlert !== undefined) rs.smtpAlert = d.smtpAlert;
    return rs;
  }

}

function virtualServerSpec(r: ArgReader): BlockSpec<VsDraft> {
  const p = r.problems;
  const algo = (t: Stmt, d: VsDraft): void => {
    d.algoGiven = true;
    r.noBlock(t);
    if (r.arity(t, 1, 1, (k) => `${k} ${LB_ALGOS.join('|')}`)) d.lbAlgo = r.oneOf(t.args[0] as Token, 'lb_algo', LB_ALGOS) ?? d.lbAlgo;
  };
  const kind = (t: Stmt, d: VsDraft): void => {
    d.kindGiven = true;
    const f = forwarding(t, r);
    if (f) {
      d.lbKind = f.lbKind;
      d.tunnel = f.tunnel;
    }
  };
  return {
    name: 'virtual_server',
    unsupported: VS_UNSUPPORTED,
    keywords: {
      ...inheritedKeywords<VsDraft>(r),
      lb_algo: algo,
      lvs_sched: algo,
      lb_kind: kind,
      lvs_method: kind,
      ops: (t, d) => {
        d.onePacket = r.flag(t);
      },
      ...Object.fromEntries(SCHEDULER_FLAGS.map((f) => [f, (t: Stmt, d: VsDraft) => {
        if (r.flag(t) && !d.schedulerFlags.includes(f)) d.schedulerFlags.push(f);
      }])),
      persistence_timeout: (t, d) => {
        r.noBlock(t);
        if (!r.arity(t, 0, 1, 'persistence_timeout [SECONDS]')) return;
        const arg = t.args[0];
        if (!arg) {
          d.persistenceTimeoutS = DEFAULT_PERSISTENCE_S;
          return;
        }
        const v = r.integer(arg, 'persistence_timeout', 0, MAX_PERSISTENCE_S);
        if (v === 0) p.warn('lenient', 'persistence_timeout 0 means no persistence: accepted as not persistent (keepalived -t rejects 0; delete the line)', posOf(arg));
        if (v !== undefined) d.persistenceTimeoutS = v === 0 ? undefined : v;
      },
      persistence_granularity: (t, d) => {
        const v = r.word(t, 'persistence_granularity NETMASK|PREFIXLEN');
        if (v === undefined) return;
        const a = canonicalAddress(v);
        if (a?.family === 4 && isNetmask(a.address)) d.persistenceGranularity = a.address;
        else if (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 128) d.persistenceGranularity = v;
        else {
          p.error('bad-value', `persistence_granularity '${v}' is neither an IPv4 netmask nor an IPv6 prefix length (1-128)`, posOf(t.args[0] as Token));
          return;
        }
        d.granularitySet = true;
      },
      protocol: (t, d) => {
        r.noBlock(t);
        d.protocolPos = posOf(t.key);
        if (r.arity(t, 1, 1, 'protocol TCP|UDP|SCTP')) d.protocol = r.oneOf(t.args[0] as Token, 'protocol', ['TCP', 'UDP', 'SCTP'] as const satisfies readonly Protocol[], true) ?? d.protocol;
      },
      ip_family: (t, d) => {
        r.noBlock(t);
        if (!r.arity(t, 1, 1, 'ip_family inet|inet6')) return;
        const f = r.oneOf(t.args[0] as Token, 'ip_family', ['inet', 'inet6'] as const);
        if (f) d.family = f === 'inet6' ? 6 : 4;
      },
      ha_suspend: (t, d) => {
        d.haSuspend = r.flag(t);
      },
      omega: (t, d) => {
        d.omega = r.flag(t);
      },
      quorum: (t, d) => {
        d.quorum = r.int(t, 1, 2_147_483_647) ?? d.quorum;
      },
      hysteresis: (t, d) => {
        d.hysteresis = r.int(t, 0, 2_147_483_647) ?? d.hysteresis;
      },
      quorum_up: (t, d) => {
        const n = r.notifyScript(t);
        if (n) [d.quorumUp, d.quorumUpUser] = [n.command, n.user];
      },
      quorum_down: (t, d) => {
        const n = r.notifyScript(t);
        if (n) [d.quorumDown, d.quorumDownUser] = [n.command, n.user];
      },
      sorry_server: (t, d) => {
        r.noBlock(t);
        const e = endpoint(t, r, 'sorry_server ADDRESS PORT', false);
        if (e) d.sorryServer = e;
      },
      sorry_server_inhibit: (t, d) => {
        d.sorryServerInhibit = r.flag(t);
      },
      smtp_alert: (t, d) => {
        d.smtpAlert = r.flag(t);
      },
      sorry_server_lvs_method: (t, d) => {
        d.sorryKind = forwarding(t, r)?.lbKind ?? d.sorryKind;
      },
      nat_mask: (t) => {
        p.warn('lenient', 'nat_mask is obsolete (keepalived ignores it since 1.x); ignored', posOf(t.key));
      },
      real_server: (t, d) => {
        d.rsStmts.push(t);
      },
    },
  };
}

function isNetmask(dotted: string): boolean {
  const n = dotted.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const inv = ~n >>> 0;
  return (inv & (inv + 1)) === 0 && n !== 0;
}

// ------------------------------------------------------------------------------------------ real_server

type RsDraft = Omit<Mutable<RealServer>, 'checkers' | 'lbKind'> & { inh: Inherited; lbKind: LbKind; checkerStmts: Stmt[] };

function realServerSpec(r: ArgReader): BlockSpec<RsDraft> {
  const checker: Handler<RsDraft> = (t, d) => {
    // Usually the only one: a list of one rather than one grown by push (room for 17).
    if (d.checkerStmts.length === 0) d.checkerStmts = [t];
    else d.checkerStmts.push(t);
  };
  return {
    name: 'real_server',
    unsupported: RS_UNSUPPORTED,
    keywords: {
      ...inheritedKeywords<RsDraft>(r),
      weight: (t, d) => {
        d.weight = r.int(t, 0, MAX_WEIGHT) ?? d.weight;
      },
      lvs_method: (t, d) => {
        const f = forwarding(t, r);
        if (f) {
          d.lbKind = f.lbKind;
          d.tunnel = f.tunnel;
        }
      },
      notify_up: (t, d) => {
        const n = r.notifyScript(t);
        if (n) [d.notifyUp, d.notifyUpUser] = [n.command, n.user];
      },
      notify_down: (t, d) => {
        const n = r.notifyScript(t);
        if (n) [d.notifyDown, d.notifyDownUser] = [n.command, n.user];
      },
      uthreshold: (t, d) => {
        d.uthreshold = r.int(t, 0, 2_147_483_647) ?? d.uthreshold;
      },
      lthreshold: (t, d) => {
        d.lthreshold = r.int(t, 0, 2_147_483_647) ?? d.lthreshold;
      },
      smtp_alert: (t, d) => {
        d.smtpAlert = r.flag(t);
      },
      ...Object.fromEntries([...CHECKER_KEYWORDS].map((c) => [c, checker])),
      // A real server whose only checker is dropped would count as up without any check: refused instead.
      BFD_CHECK: (t) => {
        r.problems.error('unsupported', `not supported: BFD_CHECK (${t.key.file}:${t.key.line}): ipvs-ts runs no BFD, and a real server must not pass a check that never runs; use PING_CHECK or another checker`, posOf(t.key));
      },
    },
  };
}
