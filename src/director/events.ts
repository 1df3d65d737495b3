// What the director reports: one event per thing that happened, for the log (one line each) and the metrics.

export type DirectorEventBody =
  | { readonly type: 'started'; readonly virtualServers: number; readonly instances: number }
  | { readonly type: 'reloaded'; readonly virtualServers: number; readonly draining: number }
  | { readonly type: 'reload-rejected'; readonly problems: readonly string[] }
  /** `ops` names the first operations (at most 20) of the `count` sent. */
  | { readonly type: 'applied'; readonly reasons: readonly string[]; readonly ops: readonly string[]; readonly count: number; readonly failed: number; readonly sinceVerdictMs?: number }
  | { readonly type: 'drift'; readonly what: 'ipvs' | 'vip'; readonly repaired: readonly string[] }
  | { readonly type: 'verdict'; readonly virtualServer: string; readonly realServer: string; readonly up: boolean; readonly present: boolean; readonly weight: number; readonly reason: string; readonly latencyMs: number }
  /** First verdicts of real servers without a checker (always up, in at their weight), counted per start or reload. */
  | { readonly type: 'always-up'; readonly realServers: number; readonly virtualServers: number }
  | { readonly type: 'quorum'; readonly virtualServer: string; readonly up: boolean; readonly liveWeight: number; readonly first?: true }
  /** Virtual servers whose first quorum decision (see 'quorum') in one burst was up: the log's one line for them. */
  | { readonly type: 'quorum-up'; readonly virtualServers: number }
  | { readonly type: 'sorry-server'; readonly virtualServer: string; readonly server: string; readonly present: boolean; readonly weight: number }
  | { readonly type: 'script'; readonly reason: string; readonly command: string }
  | { readonly type: 'suspend'; readonly virtualServer: string; readonly suspended: boolean }
  | { readonly type: 'vrrp'; readonly instance: string; readonly from: string; readonly to: string; readonly priority: number }
  /** A master heard a peer's advert and stays master: the peer has a lower priority and is told to step down. */
  | { readonly type: 'vrrp-rx-lower-pri'; readonly instance: string; readonly priority: number; readonly from: string; readonly theirs: number }
  | { readonly type: 'vrrp-log'; readonly line: string }
  /** A line from the BGP announcer (src/bgp), which the daemon runs beside the director. */
  | { readonly type: 'bgp'; readonly line: string; readonly error: boolean }
  | { readonly type: 'vrrp-failed'; readonly code: string; readonly message: string }
  /** The connection to IPVS failed every request for 30 s: the table can no longer be kept. */
  | { readonly type: 'ipvs-failed'; readonly message: string }
  | { readonly type: 'sync-daemon'; readonly state: 'master' | 'backup'; readonly interface: string }
  | { readonly type: 'lvs-timeouts'; readonly tcp: number; readonly tcpFin: number; readonly udp: number }
  /** A net.ipv4.vs setting of the ipvs_sysctl block written (from: the value it replaced; origin: file:line). */
  | { readonly type: 'ipvs-sysctl'; readonly key: string; readonly from: string; readonly to: string; readonly origin: string }
  | { readonly type: 'error'; readonly where: string; readonly message: string }
  | { readonly type: 'dump'; readonly kind: 'data' | 'stats'; readonly file: string }
  | { readonly type: 'notify-fifo'; readonly fifo: string; readonly message: string }
  | { readonly type: 'alert'; readonly result: 'sent' | 'failed' | 'dropped'; readonly subject: string; readonly reason: string }
  | { readonly type: 'stopping' }
  | { readonly type: 'stopped' };

/** `at` is wall-clock milliseconds. */
export type DirectorEvent = DirectorEventBody & { readonly at: number };

/** One human-readable line (no timestamp: journald and the JSON form add their own). */
export function describeEvent(e: DirectorEventBody): string {
  switch (e.type) {
    case 'started':
      return `started: ${e.virtualServers} virtual server(s), ${e.instances} VRRP instance(s)`;
    case 'reloaded':
      return `reloaded: ${e.virtualServers} virtual server(s)${e.draining ? `, ${e.draining} removed real server(s) draining` : ''}`;
    case 'reload-rejected':
      return `reload rejected, keeping the running configuration: ${e.problems.join('; ')}`;
    case 'applied':
      return `IPVS ${e.count} change(s) (${e.reasons.join(', ')})${e.sinceVerdictMs !== undefined ? ` ${e.sinceVerdictMs} ms after the verdict` : ''}${e.failed ? `, ${e.failed} failed` : ''}: ${e.ops.join('; ')}${e.count > e.ops.length ? `; … ${e.count - e.ops.length} more` : ''}`;
    case 'drift':
      return `drift repaired (${e.what === 'vip' ? 'VIP' : 'IPVS'} changed outside ipvs-ts): ${e.repaired.join('; ')}`;
    case 'verdict':
      return `${e.virtualServer} real server ${e.realServer} ${e.up ? 'UP' : 'DOWN'}${e.present ? ` weight ${e.weight}` : ', removed'}: ${e.reason}`;
    case 'always-up':
      return `${e.realServers} real server(s) without a checker in (always up) in ${e.virtualServers} virtual server(s)`;
    case 'quorum':
      return `${e.virtualServer} quorum ${e.up ? (e.first ? 'up' : 'gained') : 'lost'} (live weight ${e.liveWeight})`;
    case 'quorum-up':
      return `${e.virtualServers} virtual server(s) start with quorum`;
    case 'sorry-server':
      return `${e.virtualServer} sorry server ${e.server} ${e.present ? `in (weight ${e.weight})` : 'out'}`;
    case 'script':
      return `${e.reason}: ${e.command}`;
    case 'suspend':
      return `${e.virtualServer} checkers ${e.suspended ? 'suspended (VIP not local, ha_suspend)' : 'running'}`;
    case 'vrrp':
      return `VRRP ${e.instance} ${e.from} -> ${e.to} (priority ${e.priority})`;
    case 'vrrp-rx-lower-pri':
      return `VRRP ${e.instance} received an advert from ${e.from} with lower priority ${e.theirs}, ours ${e.priority}, forcing new election`;
    case 'vrrp-log':
      return `VRRP ${e.line}`;
    case 'bgp':
      return e.line;
    case 'ipvs-failed':
      return `IPVS connection failed: ${e.message}`;
    case 'vrrp-failed':
      return `VRRP FAILED [${e.code}]: ${e.message}; its VIPs are removed, IPVS is left as it is`;
    case 'sync-daemon':
      return `IPVS sync daemon: ${e.state} on ${e.interface}`;
    case 'lvs-timeouts':
      return `IPVS timeouts set (lvs_timeouts; 0 = left as it was): tcp ${e.tcp} s, tcpfin ${e.tcpFin} s, udp ${e.udp} s`;
    case 'ipvs-sysctl':
      return `IPVS sysctl net.ipv4.vs.${e.key} ${e.from} -> ${e.to} (ipvs_sysctl, ${e.origin})`;
    case 'error':
      return `error (${e.where}): ${e.message}`;
    case 'dump':
      return dumpWritten(e.kind, e.file);
    case 'notify-fifo':
      return `notify FIFO ${e.fifo}: ${e.message}`;
    case 'alert':
      return `alert ${e.result}: ${e.subject} (${e.reason})`;
    case 'stopping':
      return 'stopping';
    case 'stopped':
      return 'stopped';
  }
}

/** The line for a written SIGUSR1/SIGUSR2 dump; the dump writer says the same when it reports on its own. */
export function dumpWritten(kind: 'data' | 'stats', file: string): string {
  return `${kind === 'data' ? 'state dump' : 'statistics'} written to ${file}`;
}
