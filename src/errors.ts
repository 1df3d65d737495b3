// The project's one error base class and the table of every error code. Each area (a directory under src/) keeps
// its own subclass (NetlinkError, IpvsError, VrrpError, …) whose code type is derived from this table, so a code
// that is not listed here does not type-check. `code` is stable (programs, logs, metrics and tests match on it);
// `message` is one line for people. docs/errors.md lists the same codes with what an operator does about each, and
// test/errors.test.ts keeps the table, the sources and that page in step.

export type ErrorArea = 'netlink' | 'ipvs' | 'vrrp' | 'check' | 'control' | 'director' | 'import' | 'realserver' | 'sys' | 'bgp';

export interface ErrorCodeEntry {
  readonly code: string;
  readonly area: ErrorArea;
  readonly meaning: string;
}

/** Every code, grouped by area; the meaning is the one line docs/errors.md repeats. */
export const ERROR_CODES = [
  { code: 'FAMILY_NOT_FOUND', area: 'netlink', meaning: 'a generic netlink family is not registered in this kernel (its module is not loaded)' },
  { code: 'DUMP_INTERRUPTED', area: 'netlink', meaning: 'a netlink dump was interrupted by concurrent changes on every retry' },
  { code: 'OVERRUN', area: 'netlink', meaning: "the netlink socket's receive queue overflowed (ENOBUFS): replies or events were lost" },
  { code: 'TRUNCATED', area: 'netlink', meaning: 'a netlink message was larger than the receive buffer and was lost' },
  { code: 'MALFORMED', area: 'netlink', meaning: 'a netlink message from the kernel could not be parsed' },
  { code: 'CLOSED', area: 'netlink', meaning: 'the netlink socket was closed with the request in flight' },

  { code: 'IPVS_UNAVAILABLE', area: 'ipvs', meaning: 'the kernel has no IPVS (the ip_vs module is not loaded)' },
  { code: 'IPVS_KERNEL', area: 'ipvs', meaning: "the kernel refused an IPVS request; the error's errno says why" },
  { code: 'IPVS_DECODE', area: 'ipvs', meaning: 'an IPVS reply from the kernel could not be made sense of' },
  { code: 'IPVS_STATE', area: 'ipvs', meaning: 'the file recording which IPVS services ipvs-ts owns is unreadable or damaged' },

  { code: 'VRRP_NO_INSTANCES', area: 'vrrp', meaning: 'the configuration has no vrrp_instance to run' },
  { code: 'VRRP_AH_UNSUPPORTED', area: 'vrrp', meaning: 'an instance asks for auth_type AH (IPsec AH), which ipvs-ts does not implement' },
  { code: 'VRRP_VMAC_CONFLICT', area: 'vrrp', meaning: "an instance's use_vmac names an interface that exists and is not a private macvlan on the instance's interface" },
  { code: 'VRRP_VMAC', area: 'vrrp', meaning: 'a VMAC interface (use_vmac) could not be made ready for a reason the message gives' },
  { code: 'VRRP_V2_IPV6', area: 'vrrp', meaning: 'an IPv6 instance asks for VRRP version 2, which has no IPv6' },
  { code: 'VRRP_NO_INTERFACE', area: 'vrrp', meaning: "an instance's interface does not exist, or no interface holds its unicast_src_ip" },
  { code: 'VRRP_NO_SOURCE', area: 'vrrp', meaning: "an instance's interface has no address of its family to send adverts from" },
  { code: 'VRRP_DUPLICATE_VRID', area: 'vrrp', meaning: 'two instances use the same VRID on one interface and address family' },
  { code: 'VRRP_NO_SCRIPT', area: 'vrrp', meaning: 'a track_script names no defined vrrp_script' },
  { code: 'VRRP_NO_TRACK_FILE', area: 'vrrp', meaning: 'a track_file names no defined track_file' },
  { code: 'VRRP_NO_TRACK_PROCESS', area: 'vrrp', meaning: 'a track_process names no defined vrrp_track_process' },
  { code: 'VRRP_START', area: 'vrrp', meaning: 'VRRP could not start for a reason the message gives (a socket or netlink failure)' },
  { code: 'VRRP_RELOAD', area: 'vrrp', meaning: 'the running VRRP could not apply a reloaded configuration for a reason the message gives; nothing changed' },
  { code: 'VRRP_WORKER', area: 'vrrp', meaning: 'the VRRP worker thread failed or exited: VRRP is no longer running' },
  { code: 'VRRP_TIMEOUT', area: 'vrrp', meaning: 'the VRRP worker thread did not answer a request in time' },
  { code: 'VRRP_STOPPED', area: 'vrrp', meaning: 'a request reached VRRP while it was stopping or after it stopped' },
  { code: 'VRRP_NFT_MISSING', area: 'vrrp', meaning: 'an instance without accept mode (no_accept, or vrrp_strict) needs the nft command, which is not installed' },
  { code: 'VRRP_NFT', area: 'vrrp', meaning: "nft refused a change to ipvs-ts's own nftables table (inet ipvs-ts); the message gives nft's reason" },
  { code: 'VRRP_ROUTE_FOREIGN', area: 'vrrp', meaning: 'a configured route has the key of a route ipvs-ts did not install (another protocol): that one is left alone, ours is not added' },
  { code: 'VRRP_ROUTE_DEVICE', area: 'vrrp', meaning: "a configured route's dev names an interface that does not exist" },

  { code: 'CONNECT_REFUSED', area: 'check', meaning: 'the real server refused the connection (nothing listens on the port)' },
  { code: 'CONNECT_TIMEOUT', area: 'check', meaning: 'no connection to the real server within connect_timeout' },
  { code: 'CONNECT_RESET', area: 'check', meaning: 'the real server reset the connection' },
  { code: 'CONNECT_ERROR', area: 'check', meaning: 'the connection failed in another way; the message has the system error' },
  { code: 'TLS_ERROR', area: 'check', meaning: 'the TLS handshake failed (protocol, or the certificate with --tls-verify)' },
  { code: 'HTTP_STATUS', area: 'check', meaning: 'the HTTP status is not one the check accepts (status_code)' },
  { code: 'HTTP_DIGEST', area: 'check', meaning: "the body's MD5 differs from the check's digest" },
  { code: 'HTTP_BODY_TOO_LARGE', area: 'check', meaning: 'the HTTP body is larger than the body cap' },
  { code: 'HTTP_TIMEOUT', area: 'check', meaning: 'no complete HTTP response within the timeout' },
  { code: 'HTTP_ERROR', area: 'check', meaning: 'the HTTP exchange failed in another way (connection closed early, bad response)' },
  { code: 'SCRIPT_EXIT', area: 'check', meaning: 'a MISC_CHECK script exited with a status meaning down' },
  { code: 'SCRIPT_TIMEOUT', area: 'check', meaning: 'a script did not exit within its timeout; its process group was killed' },
  { code: 'SCRIPT_SIGNAL', area: 'check', meaning: 'a script was killed by a signal' },
  { code: 'SCRIPT_SPAWN', area: 'check', meaning: 'a script could not be started (not found, not executable)' },
  { code: 'SCRIPT_INSECURE', area: 'check', meaning: 'enable_script_security refused a script that non-root users could change' },
  { code: 'SCRIPT_USER', area: 'check', meaning: "a script's user or group does not exist" },
  { code: 'ICMP_TIMEOUT', area: 'check', meaning: 'no ICMP echo reply within connect_timeout' },
  { code: 'ICMP_UNREACHABLE', area: 'check', meaning: 'the host or network is unreachable (an ICMP error or no route)' },
  { code: 'SOCKET_ERROR', area: 'check', meaning: "the checker's socket could not be opened or used (say, no ICMP socket for this user)" },
  { code: 'UDP_NO_REPLY', area: 'check', meaning: 'no UDP reply within connect_timeout where one is required' },
  { code: 'UDP_REPLY_MISMATCH', area: 'check', meaning: 'the UDP reply does not match require_reply' },
  { code: 'DNS_TIMEOUT', area: 'check', meaning: 'no DNS response within connect_timeout' },
  { code: 'DNS_RCODE', area: 'check', meaning: 'the DNS response code is not NOERROR' },
  { code: 'DNS_BAD_REPLY', area: 'check', meaning: 'the DNS response is malformed or does not answer the query' },
  { code: 'SMTP_STATUS', area: 'check', meaning: 'the SMTP server sent an unexpected or malformed reply' },
  { code: 'SMTP_TIMEOUT', area: 'check', meaning: 'the SMTP conversation did not complete within connect_timeout' },
  { code: 'SMTP_CLOSED', area: 'check', meaning: 'the SMTP connection failed or was closed before the conversation ended' },
  { code: 'FILE_FAULT', area: 'check', meaning: "a FILE_CHECK's file holds a value that means fault" },
  { code: 'ABORTED', area: 'check', meaning: 'a check was cancelled (stop or reload) before it finished' },
  { code: 'CHECKER_FAILED', area: 'check', meaning: 'a checker crashed (a bug); the real server counts as failed' },
  { code: 'BAD_ARGUMENT', area: 'check', meaning: "a check's command line or a check command's option is invalid" },

  { code: 'CONTROL_NO_DAEMON', area: 'control', meaning: 'no daemon listens on the control socket' },
  { code: 'CONTROL_DENIED', area: 'control', meaning: "the control socket is root's (mode 0600)" },
  { code: 'CONTROL_IN_USE', area: 'control', meaning: 'another ipvs-ts daemon already serves this control socket' },
  { code: 'CONTROL_PROTOCOL', area: 'control', meaning: 'a malformed request or reply on the control socket' },
  { code: 'CONTROL_TIMEOUT', area: 'control', meaning: 'the daemon did not answer on the control socket in time' },
  { code: 'CONTROL_FAILED', area: 'control', meaning: 'the daemon answered with an error, or the control socket failed' },

  { code: 'DIRECTOR_OPTION', area: 'director', meaning: 'a command-line option of the daemon is malformed' },
  { code: 'DIRECTOR_START', area: 'director', meaning: 'something the daemon needs at start-up could not be set up' },
  { code: 'DIRECTOR_SYSCTL', area: 'director', meaning: 'the kernel refused a net.ipv4.vs setting of the ipvs_sysctl block (or has no such setting)' },

  { code: 'IMPORT_READ', area: 'import', meaning: 'an importer input could not be read' },
  { code: 'IMPORT_NODE', area: 'import', meaning: "heartbeat: the node to write the config for is not one of the cluster's nodes" },
  { code: 'IMPORT_OPTION', area: 'import', meaning: 'a command-line option of an import command is malformed' },
  { code: 'IMPORT_IPVSADM_ARGS', area: 'import', meaning: 'an ipvsadm command line in the input is one ipvsadm itself would reject' },

  { code: 'REALSERVER_ARGUMENT', area: 'realserver', meaning: 'a VIP or an option the realserver command cannot use' },
  { code: 'REALSERVER_CONFLICT', area: 'realserver', meaning: 'a VIP is already on this host in a way DR/TUN cannot work with; nothing was changed' },
  { code: 'REALSERVER_NO_TUNNEL', area: 'realserver', meaning: 'TUN: there is no tunl0 and the ipip module could not provide one; nothing was changed' },
  { code: 'REALSERVER_SYSCTL', area: 'realserver', meaning: 'a /proc/sys setting could not be read or written' },
  { code: 'REALSERVER_RECORD', area: 'realserver', meaning: 'the record of what `realserver up` changed is unreadable or damaged' },

  { code: 'SYS_SHIM_NOT_BUILT', area: 'sys', meaning: 'the native socket shim (build/Release/ipvs_ts_sys.node) is not built or cannot be loaded' },

  { code: 'BGP_DAEMON_START', area: 'bgp', meaning: 'the routing daemon (BIRD or gobgpd) could not be started or its control socket (gobgpd: its gRPC API) never answered' },
  { code: 'BGP_DAEMON_GONE', area: 'bgp', meaning: 'the routing daemon exited or closed its control socket' },
  { code: 'BGP_DAEMON_CONFIG', area: 'bgp', meaning: 'the routing daemon refused the configuration ipvs-ts wrote for it' },
  { code: 'BGP_COMMAND', area: 'bgp', meaning: 'the routing daemon refused a command' },
  { code: 'BGP_PREFIX', area: 'bgp', meaning: 'a prefix is malformed or not one this announcer may send' },
] as const satisfies readonly ErrorCodeEntry[];

export type ErrorCode = (typeof ERROR_CODES)[number]['code'];

/** The codes of one area: what that area's error class accepts. */
export type CodeOf<A extends ErrorArea> = Extract<(typeof ERROR_CODES)[number], { readonly area: A }>['code'];

/** A kernel errno name (EPERM, EEXIST, …): the code of a NetlinkError that carries the kernel's refusal. */
export type ErrnoName = `E${string}`;

/** The project's error: every area's error class extends it, so `err instanceof IpvsTsError` means "one of ours". */
export class IpvsTsError<C extends ErrorCode | ErrnoName = ErrorCode | ErrnoName> extends Error {
  readonly code: C;

  constructor(code: C, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An error as one line for people: the message, and ` [CODE]` when it is one of ours. */
export function errorLine(err: unknown): string {
  if (err instanceof IpvsTsError) return `${err.message} [${err.code}]`;
  return err instanceof Error ? err.message : String(err);
}
