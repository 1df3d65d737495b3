// The typed, normalized keepalived.conf model: what the parser produces after defaults and inheritance, and what
// every other module consumes. All durations are milliseconds (keepalived accepts fractional seconds), all
// addresses are strings in canonical form (IPv6 compressed, lower case). Objects are plain data, never mutated
// after the config is built, so a reload can compare old and new models field by field.

/** Where a value came from, for every message that points back into the user's files. */
export interface SourcePos {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export type Family = 4 | 6;

export interface Config {
  readonly files: readonly string[];
  readonly globalDefs: GlobalDefs;
  readonly vrrpScripts: readonly VrrpScript[];
  readonly vrrpInstances: readonly VrrpInstance[];
  readonly vrrpSyncGroups: readonly VrrpSyncGroup[];
  /** `vrrp_track_process NAME { … }` blocks, which instances and sync groups name in `track_process`. */
  readonly vrrpTrackProcesses: readonly VrrpTrackProcess[];
  readonly virtualServerGroups: readonly VirtualServerGroup[];
  readonly virtualServers: readonly VirtualServer[];
  /** Top-level `track_file` (and its old name `vrrp_track_file`) blocks, which FILE_CHECKs and VRRP's track_file follow. */
  readonly trackFiles: readonly TrackFile[];
  /** Top-level `garp_group { … }` blocks: gratuitous ARP / NA pacing per interface or group of interfaces. */
  readonly garpGroups: readonly GarpGroup[];
  /** The ipvs-ts extension block `bgp_announcer { … }` (docs/bgp.md); absent = no BGP. */
  readonly bgpAnnouncer?: BgpAnnouncer;
  /** `static_ipaddress { … }`: held from start to stop whatever the VRRP state (docs/vrrp.md); absent = none. */
  readonly staticAddresses?: readonly VirtualIp[];
  /** `static_routes { … }`, held from start to stop. */
  readonly staticRoutes?: readonly IpRoute[];
  /** `static_rules { … }`, held from start to stop. */
  readonly staticRules?: readonly IpRule[];
  /** The ipvs-ts extension block `ipvs_sysctl { … }` (docs/ipvs.md): net.ipv4.vs.* set by the daemon; absent = none. */
  readonly ipvsSysctl?: IpvsSysctls;
}

export interface ScriptUser {
  readonly user: string;
  readonly group?: string;
}

/**
 * `notify_fifo PATH [USERNAME [GROUPNAME]]` (and its vrrp_/lvs_ forms): a FIFO that gets one line per event
 * (src/control/notify-fifo.ts), created if missing.
 */
export interface NotifyFifo {
  readonly path: string;
  /** Who owns the FIFO when ipvs-ts creates it; absent = script_user, else the daemon's own user. */
  readonly user?: ScriptUser;
  /** `…notify_fifo_script`: started when the FIFO is opened, with its path as the last argument, to read it. */
  readonly script?: NotifyFifoScript;
}

export interface NotifyFifoScript {
  /** The command line as written; run without a shell. */
  readonly command: string;
  /** Absent = script_user. */
  readonly user?: ScriptUser;
}

export interface GlobalDefs {
  readonly routerId?: string;
  readonly notificationEmail: readonly string[];
  readonly notificationEmailFrom?: string;
  readonly smtpServer?: { readonly host: string; readonly port: number };
  readonly smtpConnectTimeoutMs: number;
  /** `smtp_helo_name`; absent = this host's name, as keepalived. */
  readonly smtpHeloName?: string;
  /**
   * `smtp_alert`, `smtp_alert_vrrp` and `smtp_alert_checker` as written (absent = not set): the defaults of the
   * blocks' own `smtp_alert`, which `smtpAlertOf` (smtp-alert.ts) resolves as keepalived does.
   */
  readonly smtpAlert?: boolean;
  readonly smtpAlertVrrp?: boolean;
  readonly smtpAlertChecker?: boolean;
  /** `no_email_faults`: VRRP instances and sync groups entering FAULT send no mail. */
  readonly noEmailFaults: boolean;
  readonly scriptUser?: ScriptUser;
  readonly enableScriptSecurity: boolean;
  /** `notify_fifo`: every event, VRRP and checkers. */
  readonly notifyFifo?: NotifyFifo;
  readonly vrrp: VrrpGlobals;
  readonly lvs: LvsGlobals;
}

export interface VrrpGlobals {
  /** Default VRRP version for instances that do not set one. */
  readonly version: 2 | 3;
  readonly strict: boolean;
  readonly skipCheckAdvAddr: boolean;
  readonly mcastGroup4: string;
  readonly mcastGroup6: string;
  readonly garpMasterDelayMs: number;
  readonly garpMasterRepeat: number;
  readonly garpMasterRefreshMs: number;
  readonly garpMasterRefreshRepeat: number;
  /** Delay between the gratuitous ARPs / NAs of one burst. */
  readonly garpIntervalMs: number;
  readonly gnaIntervalMs: number;
  /**
   * `vrrp_startup_delay`: for this long after the VRRP process starts (not after a reload), a backup's
   * Master_Down_Timer counts from the end of the delay, so no instance takes over before it has had time to hear
   * its peers (keepalived's vrrp_delayed_start_time).
   */
  readonly startupDelayMs?: number;
  /** `vrrp_notify_fifo`: VRRP events only (absent when it names notify_fifo's FIFO, as keepalived ignores it then). */
  readonly notifyFifo?: NotifyFifo;
}

export interface LvsGlobals {
  /** What to do with the IPVS entries we own on SIGTERM: keep them serving (default) or remove them. */
  readonly flushOnStop: boolean;
  /** `lvs_flush`: flush the whole IPVS table at start-up, as keepalived does when asked. Off by default. */
  readonly flushOnStart: boolean;
  readonly syncDaemon?: LvsSyncDaemon;
  /** Read but not applied yet (warned): the kernel keeps its own. */
  readonly timeouts?: { readonly tcpMs?: number; readonly tcpFinMs?: number; readonly udpMs?: number };
  /** `lvs_notify_fifo`: checker events only (absent when it names notify_fifo's FIFO, as keepalived ignores it then). */
  readonly notifyFifo?: NotifyFifo;
}

/**
 * `global_defs { lvs_sync_daemon IF [inst INSTANCE] [id N] … }`, or an instance's older `lvs_sync_daemon_interface`
 * (which names that instance), resolved as keepalived does.
 */
export interface LvsSyncDaemon {
  readonly interface: string;
  /**
   * The VRRP instance whose state drives the sync daemon (master on MASTER, backup otherwise). Absent: the daemon
   * follows no instance, and keepalived then runs the master and the backup daemon side by side from start.
   */
  readonly instance?: string;
  /** `id N`; else the instance's virtual_router_id; else 0. */
  readonly syncId: number;
  readonly maxlen?: number;
  readonly port?: number;
  readonly ttl?: number;
  readonly group?: string;
  readonly pos: SourcePos;
}

// ---------------------------------------------------------------------------------------------- VRRP

export interface VrrpScript {
  readonly name: string;
  /** The command line as written; run without a shell, split on white space with quotes honoured. */
  readonly script: string;
  readonly intervalMs: number;
  readonly timeoutMs?: number;
  /** Added to the priority while the script succeeds (weight > 0) or fails (weight < 0); 0 = failure is FAULT. */
  readonly weight: number;
  /** `weight N reverse`: apply the weight with the opposite sign logic. */
  readonly weightReverse: boolean;
  readonly rise: number;
  readonly fall: number;
  readonly user?: ScriptUser;
  /** Start in the failed state until the script has succeeded `rise` times. */
  readonly initFail: boolean;
  readonly pos: SourcePos;
}

/** How the arguments after `process NAME` must match a process's own (keepalived's param_match). */
export type ParamMatch = 'none' | 'exact' | 'partial' | 'initial';

/** `vrrp_track_process NAME { process PROC [ARG…] … }`, as keepalived 2.2's vrrp_parser.c reads it. */
export interface VrrpTrackProcess {
  readonly name: string;
  /** Matched against the process's name (comm, 15 characters) or, with `fullCommand`, its argv[0]. */
  readonly process: string;
  /** The arguments written after the process name, which then must match by `paramMatch`. */
  readonly params: readonly string[];
  readonly paramMatch: ParamMatch;
  readonly fullCommand: boolean;
  /** As a script's: added while the quorum holds (> 0) or lacks (< 0); 0 = no quorum is FAULT. */
  readonly weight: number;
  readonly weightReverse: boolean;
  /** The process counts as up while quorum ≤ number of matching processes ≤ quorumMax. */
  readonly quorum: number;
  readonly quorumMax: number;
  /** How long a change caused by a tracked process forking, or by one exiting, waits before it counts. */
  readonly forkDelayMs: number;
  readonly terminateDelayMs: number;
  readonly pos: SourcePos;
}

export interface VirtualIp {
  readonly address: string;
  readonly family: Family;
  readonly prefix: number;
  /** Device the address is added to; defaults to the instance's interface. */
  readonly dev: string;
  readonly label?: string;
  readonly broadcast?: string;
  readonly scope?: string;
  readonly pos: SourcePos;
}

export interface TrackRef {
  readonly name: string;
  /** Weight override from the track block (`chk_x weight -10`); absent = use the script's/interface's own. */
  readonly weight?: number;
  /** `weight N reverse|noreverse`; absent = the script's own `weight … reverse` (interfaces: not reversed). */
  readonly reverse?: boolean;
  readonly pos: SourcePos;
}

/**
 * `garp_group { garp_interval S  gna_interval S  interface IF | interfaces { IF … } }` (keepalived's garp_delay):
 * on its interfaces taken together, one gratuitous ARP per garp_interval and one unsolicited NA per gna_interval.
 * An interface in a group does not take the global vrrp_garp_interval / vrrp_gna_interval, even for the interval
 * the group leaves unset (keepalived).
 */
export interface GarpGroup {
  /** Absent = ARPs on these interfaces are not paced. */
  readonly garpIntervalMs?: number;
  /** Absent = NAs on these interfaces are not paced. */
  readonly gnaIntervalMs?: number;
  readonly interfaces: readonly string[];
  readonly pos: SourcePos;
}

/** `track_file NAME { file PATH weight N [reverse] init_file [VALUE] [overwrite] }`. */
export interface TrackFile {
  readonly name: string;
  readonly path: string;
  /** Multiplies the number read from the file (default 1). */
  readonly weight: number;
  readonly weightReverse: boolean;
  /** `init_file`: create the file (with `value`, default 0) if missing; `overwrite` writes it even if present. */
  readonly init?: { readonly value: number; readonly overwrite: boolean };
  readonly pos: SourcePos;
}

export type NotifyEvent = 'master' | 'backup' | 'fault' | 'stop' | 'any';

export interface NotifyScripts {
  readonly master?: string;
  readonly backup?: string;
  readonly fault?: string;
  readonly stop?: string;
  /** `notify`: called for every transition with keepalived's four arguments (GROUP|INSTANCE, name, state, priority). */
  readonly any?: string;
  /** `notify_master "/x.sh arg" USER [GROUP]`: who a script runs as, where given (else script_user). */
  readonly users?: { readonly [K in NotifyEvent]?: ScriptUser };
}

export interface VrrpInstance {
  readonly name: string;
  /** Configured start state; only BACKUP honours nopreempt (as keepalived). */
  readonly state: 'MASTER' | 'BACKUP';
  /** '' for a unicast instance that names none (keepalived then sends from unicast_src_ip as routed). */
  readonly interface: string;
  readonly vrid: number;
  readonly priority: number;
  readonly advertIntMs: number;
  readonly version: 2 | 3;
  readonly family: Family;
  readonly nopreempt: boolean;
  readonly preemptDelayMs: number;
  readonly mcastSrcIp?: string;
  readonly unicastSrcIp?: string;
  readonly unicastPeers: readonly string[];
  readonly auth?: { readonly type: 'PASS' | 'AH'; readonly pass: string };
  readonly virtualIps: readonly VirtualIp[];
  readonly virtualIpsExcluded: readonly VirtualIp[];
  /** `virtual_routes { … }`: in the kernel while the instance is MASTER; absent = none. */
  readonly virtualRoutes?: readonly IpRoute[];
  /** `virtual_rules { … }`: in the kernel while the instance is MASTER; absent = none. */
  readonly virtualRules?: readonly IpRule[];
  readonly trackInterfaces: readonly TrackRef[];
  readonly trackScripts: readonly TrackRef[];
  /** `track_file { NAME [weight N [reverse|noreverse]] }`: top-level track_file blocks; absent weight = the block's. */
  readonly trackFiles: readonly TrackRef[];
  /** `track_process { NAME [weight N [reverse|noreverse]] }`: vrrp_track_process blocks; absent weight = the block's. */
  readonly trackProcesses: readonly TrackRef[];
  readonly garpMasterDelayMs: number;
  readonly garpMasterRepeat: number;
  readonly garpMasterRefreshMs: number;
  readonly garpMasterRefreshRepeat: number;
  readonly notify: NotifyScripts;
  /** `smtp_alert` as written; absent = the global default (`smtpAlertOf`). */
  readonly smtpAlert?: boolean;
  /**
   * `use_vmac [NAME] [MAC]`: the macvlan name; without one, keepalived's vrrp.VRID (an IPv6 instance whose VRID an
   * IPv4 instance already named takes vrrp6.VRID, then vrrp1.VRID, …). See src/vrrp/vmac.ts.
   */
  readonly useVmac?: string;
  /** `use_vmac`'s MAC address, lower case; five octets given = the VRID is the sixth, as keepalived does. */
  readonly vmacAddress?: string;
  /** `vmac_xmit_base`: adverts are sent and received on the base interface; the VIPs stay on the VMAC. */
  readonly vmacXmitBase?: boolean;
  readonly lvsSyncDaemonInterface?: string;
  /** RFC 5798 strict mode: `strict_mode` if written, else global_defs `vrrp_strict` (see strict.ts). */
  readonly strict: boolean;
  /**
   * Accept mode: whether the VIPs answer traffic addressed to them while MASTER. keepalived's default: on, except
   * in strict mode for a non-owner; off means ipvs-ts's nftables table drops it (src/vrrp/nft.ts).
   */
  readonly accept: boolean;
  readonly pos: SourcePos;
}

export interface VrrpSyncGroup {
  readonly name: string;
  readonly members: readonly string[];
  readonly notify: NotifyScripts;
  readonly trackInterfaces: readonly TrackRef[];
  readonly trackScripts: readonly TrackRef[];
  readonly trackFiles: readonly TrackRef[];
  readonly trackProcesses: readonly TrackRef[];
  /**
   * `sync_group_tracking_weight` (or the deprecated `global_tracking`): members keep their own tracking weights;
   * absent = keepalived's rule, see sync-tracking.ts.
   */
  readonly trackingWeight?: true;
  /** `smtp_alert` as written; absent = the global default (`smtpAlertOf`). */
  readonly smtpAlert?: boolean;
  readonly pos: SourcePos;
}

// ---------------------------------------------------------------------------------------------- LVS

export const LB_ALGOS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'mh', 'fo', 'ovf', 'twos'] as const;
export type LbAlgo = (typeof LB_ALGOS)[number];
export const LB_KINDS = ['NAT', 'DR', 'TUN'] as const;
export type LbKind = (typeof LB_KINDS)[number];
export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type TunnelType = 'ipip' | 'gue' | 'gre';

export type VirtualServerKey =
  /** Port 0 (`virtual_server ADDRESS` without one): every port; such a service is always persistent. */
  | { readonly kind: 'addr'; readonly address: string; readonly family: Family; readonly port: number }
  | { readonly kind: 'fwmark'; readonly mark: number; readonly family: Family }
  | { readonly kind: 'group'; readonly name: string };

export type VirtualServerGroupMember =
  /**
   * `IP [PORT]`, a range `IP-LAST`, `IP-IP` or a CIDR block `NET/LEN`, expanded by consumers: `count` consecutive
   * addresses from `address`. Port 0 (or none) is every port, which IPVS allows only for persistent services.
   */
  | { readonly kind: 'addr'; readonly address: string; readonly family: Family; readonly port: number; readonly count: number; readonly pos: SourcePos }
  | { readonly kind: 'fwmark'; readonly mark: number; readonly family: Family; readonly pos: SourcePos };

export interface VirtualServerGroup {
  readonly name: string;
  readonly members: readonly VirtualServerGroupMember[];
  readonly pos: SourcePos;
}

export interface Tunnel {
  readonly type: TunnelType;
  readonly port?: number;
  readonly checksum?: 'none' | 'checksum' | 'remote';
}

export interface Endpoint {
  readonly address: string;
  readonly family: Family;
  readonly port: number;
}

export interface VirtualServer {
  readonly key: VirtualServerKey;
  readonly protocol: Protocol;
  readonly lbAlgo: LbAlgo;
  readonly lbKind: LbKind;
  readonly tunnel?: Tunnel;
  /** Seconds; 0 / absent = not persistent (`persistence_timeout 0` is accepted with that meaning). */
  readonly persistenceTimeoutS?: number;
  /** Netmask (IPv4 dotted) or prefix length (IPv6) for persistence. */
  readonly persistenceGranularity?: string;
  /** Scheduler flags: `sh-fallback`, `sh-port`, `mh-fallback`, `mh-port`, `flag-1..3`; `ops` = one-packet. */
  readonly schedulerFlags: readonly string[];
  readonly onePacket: boolean;
  readonly delayLoopMs: number;
  readonly haSuspend: boolean;
  readonly virtualhost?: string;
  readonly alpha: boolean;
  readonly omega: boolean;
  readonly quorum: number;
  readonly hysteresis: number;
  readonly quorumUp?: string;
  readonly quorumDown?: string;
  /** `quorum_up "/x.sh arg" USER [GROUP]`: who the script runs as, where given (else script_user). */
  readonly quorumUpUser?: ScriptUser;
  readonly quorumDownUser?: ScriptUser;
  readonly sorryServer?: Endpoint & { readonly lbKind?: LbKind };
  readonly sorryServerInhibit: boolean;
  readonly inhibitOnFailure: boolean;
  /** `smtp_alert` (quorum mails) as written; absent = the global default (`smtpAlertOf`). */
  readonly smtpAlert?: boolean;
  readonly realServers: readonly RealServer[];
  readonly pos: SourcePos;
}

export interface RealServer extends Endpoint {
  readonly weight: number;
  readonly lbKind: LbKind;
  readonly tunnel?: Tunnel;
  readonly inhibitOnFailure: boolean;
  readonly alpha: boolean;
  readonly notifyUp?: string;
  readonly notifyDown?: string;
  /** `notify_up "/x.sh arg" USER [GROUP]`: who the script runs as, where given (else script_user). */
  readonly notifyUpUser?: ScriptUser;
  readonly notifyDownUser?: ScriptUser;
  readonly uthreshold?: number;
  readonly lthreshold?: number;
  readonly delayLoopMs: number;
  /** `virtualhost` set on the real server or inherited from the virtual server; HTTP checkers default to it. */
  readonly virtualhost?: string;
  /** `smtp_alert` (up/down mails) as written; absent = the global default (`smtpAlertOf`), on when none is set. */
  readonly smtpAlert?: boolean;
  readonly checkers: readonly Checker[];
  readonly pos: SourcePos;
}

/** Settings every checker has, after inheritance virtual_server → real_server → checker. */
export interface CheckerCommon {
  readonly connectIp: string;
  readonly connectPort: number;
  readonly bindTo?: string;
  readonly bindPort?: number;
  readonly connectTimeoutMs: number;
  readonly retry: number;
  readonly delayBeforeRetryMs: number;
  readonly warmupMs: number;
  readonly delayLoopMs: number;
  readonly alpha: boolean;
  readonly pos: SourcePos;
}

export interface StatusRange {
  readonly from: number;
  readonly to: number;
}

export interface HttpUrl {
  readonly path: string;
  /** Lower-case 32 hex digits. */
  readonly digest?: string;
  /** Default 200-299. */
  readonly statusCodes: readonly StatusRange[];
  readonly virtualhost?: string;
  readonly pos: SourcePos;
}

export interface TcpCheck extends CheckerCommon {
  readonly type: 'TCP_CHECK';
}

export interface HttpCheck extends CheckerCommon {
  readonly type: 'HTTP_GET' | 'SSL_GET';
  readonly urls: readonly HttpUrl[];
  /** Host header, resolved url > checker > real server > virtual server; absent = ip:port. */
  readonly virtualhost?: string;
  readonly httpProtocol: '1.0' | '1.0C' | '1.1';
  readonly enableSni: boolean;
}

export interface MiscCheck extends CheckerCommon {
  readonly type: 'MISC_CHECK';
  /** The command line as written (program and arguments). */
  readonly path: string;
  /** Absent = the virtual server's delay_loop. */
  readonly timeoutMs: number;
  readonly dynamic: boolean;
  readonly user?: ScriptUser;
}

/** ICMP (IPv4) or ICMPv6 echo to connect_ip; connect_port is not used. */
export interface PingCheck extends CheckerCommon {
  readonly type: 'PING_CHECK';
}

export interface UdpCheck extends CheckerCommon {
  readonly type: 'UDP_CHECK';
  /** The datagram sent, lower-case hex; absent = keepalived's 32-byte filler ("keepalived check - …"). */
  readonly payload?: string;
  /** A reply must arrive within connect_timeout; otherwise silence passes and only an ICMP error fails. */
  readonly requireReply: boolean;
  /**
   * `require_reply HEX`: the reply's first bytes must equal these (lower-case hex) up to the shorter of the two,
   * except the nibbles set in `replyMask` (keepalived's `x` wildcards), which are ignored.
   */
  readonly replyData?: string;
  readonly replyMask?: string;
  /** Bounds on the reply's length when a reply is required (keepalived: 0 and 255). */
  readonly minReplyLength: number;
  readonly maxReplyLength: number;
}

/** The query types keepalived's DNS_CHECK knows (check_dns.c). */
export const DNS_QUERY_TYPES = ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA', 'RRSIG', 'DNSKEY'] as const;
export type DnsQueryType = (typeof DNS_QUERY_TYPES)[number];

/** One query over UDP; up when a reply with our id says NOERROR. */
export interface DnsCheck extends CheckerCommon {
  readonly type: 'DNS_CHECK';
  readonly queryType: DnsQueryType;
  /** Without a trailing dot; '.' is the root (the default). */
  readonly name: string;
}

/** Greeting 220, `HELO helo_name` answered 250, QUIT. */
export interface SmtpCheck extends CheckerCommon {
  readonly type: 'SMTP_CHECK';
  readonly heloName: string;
}

/**
 * The value in a track_file, multiplied by `weight` (negated with `reverse`), is added to the real server's weight;
 * a product at or below −2147483648 is a failure, and with weight 0 any non-zero value is (with `reverse`: zero).
 * Only `delayLoopMs` of the common settings matters: the file is re-read that often besides on every change.
 */
export interface FileCheck extends CheckerCommon {
  readonly type: 'FILE_CHECK';
  readonly trackFile: TrackFile;
  readonly weight: number;
  readonly weightReverse: boolean;
}

export type Checker = TcpCheck | HttpCheck | MiscCheck | PingCheck | UdpCheck | DnsCheck | SmtpCheck | FileCheck;

/** keepalived's defaults, in one place so docs and code agree. */
export const DEFAULTS = {
  delayLoopMs: 60_000,
  connectTimeoutMs: 5_000,
  retry: 1,
  miscRetry: 0,
  delayBeforeRetryMs: 1_000,
  httpDelayBeforeRetryMs: 3_000,
  /** DNS_CHECK's delay_before_retry defaults to its delay_loop. */
  dnsRetry: 3,
  udpMaxReplyLength: 255,
  dnsQueryType: 'SOA',
  dnsName: '.',
  smtpHeloName: 'smtpchecker.keepalived.org',
  weight: 1,
  quorum: 1,
  hysteresis: 0,
  vrrpPriority: 100,
  advertIntMs: 1_000,
  vrrpScriptIntervalMs: 1_000,
  garpMasterDelayMs: 5_000,
  garpMasterRepeat: 5,
  mcastGroup4: '224.0.0.18',
  mcastGroup6: 'ff02::12',
  smtpConnectTimeoutMs: 30_000,
} as const;

// ---------------------------------------------------------------------------------------------- BGP

/** `bgp_announcer { … }`: an ipvs-ts extension (keepalived has no BGP); see docs/bgp.md. */
export interface BgpAnnouncer {
  /** The BGP router id (an IPv4 address); absent = BIRD picks the lowest IPv4 address of this host (GoBGP needs it). */
  readonly routerId?: string;
  readonly localAs: number;
  readonly neighbors: readonly BgpNeighbor[];
  /** `vip` lines; empty = every address of every virtual server (groups expanded). */
  readonly vips: readonly BgpVip[];
  /** One health observation per VIP every interval; rise/fall count consecutive observations. */
  readonly intervalMs: number;
  readonly rise: number;
  readonly fall: number;
  /** On stop: how long the withdrawn routes are given to reach the routers before BIRD stops. */
  readonly withdrawHoldMs: number;
  /** Where ipvs-ts writes BIRD's config, control socket and pid file. */
  readonly birdDir: string;
  /** The routing daemon ipvs-ts runs: BIRD 2 (default) or GoBGP (`backend gobgp`). */
  readonly backend: 'bird' | 'gobgp';
  /** GoBGP: where ipvs-ts puts gobgpd's gRPC socket and pid file. */
  readonly gobgpDir: string;
  /** GoBGP: gRPC on 127.0.0.1:PORT instead of the socket in gobgpDir; absent = the socket. */
  readonly grpcPort?: number;
  readonly pos: SourcePos;
}

export interface BgpNeighbor {
  readonly address: string;
  readonly family: Family;
  readonly remoteAs: number;
  /** Hold time in seconds (BGP allows 0 or 3-65535); BIRD's default is 240. */
  readonly holdS: number;
  readonly port: number;
  /** Local address of the session; absent = chosen by the kernel's route to the neighbor. */
  readonly source?: string;
  /** eBGP multihop TTL; absent = directly connected. */
  readonly multihop?: number;
  /** Wait for the neighbor to connect. */
  readonly passive: boolean;
  readonly pos: SourcePos;
}

export interface BgpVip {
  readonly address: string;
  readonly family: Family;
  /** MULTI_EXIT_DISC sent with the route. */
  readonly med?: number;
  readonly pos: SourcePos;
}

/** An address prefix; `default` is 0.0.0.0/0 or ::/0. */
export interface IpPrefix {
  readonly address: string;
  readonly len: number;
}

/** rtnetlink route types (RTN_*) a route line may name. */
export type RouteType = 'unicast' | 'local' | 'broadcast' | 'anycast' | 'multicast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw';

/** A virtual_routes / static_routes line with keepalived 2.2.7's meaning (vrrp_iproute.c alloc_route). */
export interface IpRoute {
  readonly family: Family;
  readonly type: RouteType;
  readonly dst: IpPrefix;
  /** `from PREFIX`: an IPv6 source-specific route. */
  readonly from?: IpPrefix;
  readonly via?: string;
  readonly dev?: string;
  /** `src ADDRESS`: the preferred source (RTA_PREFSRC). */
  readonly src?: string;
  readonly table: number;
  readonly metric?: number;
  /** RT_SCOPE_* number; keepalived leaves it universe (0) unless `scope` is given. */
  readonly scope: number;
  /** rtm_protocol: 18 (RTPROT_KEEPALIVED), unless `no_track` and `protocol` say otherwise. How ipvs-ts knows its own. */
  readonly protocol: number;
  readonly tos?: number;
  readonly onlink: boolean;
  readonly pos: SourcePos;
}

/** A virtual_rules / static_rules line with keepalived 2.2.7's meaning (vrrp_iprule.c alloc_rule). */
export interface IpRule {
  readonly family: Family;
  readonly action: 'table' | 'goto' | 'nop' | 'blackhole' | 'unreachable' | 'prohibit';
  readonly table?: number;
  readonly goto?: number;
  /** The rule's preference; keepalived numbers rules without one downwards from 16384 (with a warning). */
  readonly priority: number;
  readonly from?: IpPrefix;
  readonly to?: IpPrefix;
  /** `not`: the selector is inverted. */
  readonly not: boolean;
  readonly tos?: number;
  readonly fwmark?: number;
  readonly fwmask?: number;
  readonly iif?: string;
  readonly oif?: string;
  /** FRA_PROTOCOL: 18 (RTPROT_KEEPALIVED) unless `no_track` and `protocol` say otherwise. */
  readonly protocol: number;
  readonly pos: SourcePos;
}

// ---------------------------------------------------------------------------------------------- IPVS sysctls

/** `ipvs_sysctl { KEY VALUE … }`: an ipvs-ts extension; see docs/ipvs.md and src/config/ipvs-sysctl.ts. */
export interface IpvsSysctls {
  /** In the order written; each key at most once. */
  readonly values: readonly IpvsSysctl[];
  readonly pos: SourcePos;
}

export interface IpvsSysctl {
  /** The kernel's name under net.ipv4.vs (sloppy_tcp, sync_threshold, …). */
  readonly key: string;
  /** As the kernel prints it: a number, or sync_threshold's two numbers joined by one space. */
  readonly value: string;
  readonly pos: SourcePos;
}
