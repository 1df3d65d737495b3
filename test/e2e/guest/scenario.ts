// The end-to-end lab, run inside the IPVS VM (test/e2e/director.vmtest.ts, `npm run demo`): a LAN bridge, two
// directors running `ipvs-ts daemon` (VRRP master 150 / backup 100, one LVS-DR virtual server), four busybox HTTP
// real servers (three configured, one added by a reload), and this process as the client on the LAN, requesting
// the VIP every 50 ms with a fresh connection and counting failures. Each step is timed and its failures counted;
// the results go to the JSON file named by argv[2], the narration (with `ipvs-ts status` and /metrics excerpts)
// to stdout. Exits non-zero when a step misses its bound.
// Connections across a takeover (issue 16): beside the short requests, a pool of long-lived connections
// (held.ts) is open throughout; each VIP move (kill -9, preemption, SIGTERM) counts those that failed. The directors
// run with `sloppy_tcp 1` and `mh` + `mh-port` (both directors schedule a flow they have no entry for to the same
// real server) + `mh-fallback` (mh keeps a drained server's slots: without it their new flows are refused) and a
// shorter sync period; `--baseline` runs them as before (rr, kernel defaults) for comparison.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { askDaemon } from '../../../src/control/client.ts';
import { formatStatus } from '../../../src/control/format.ts';
import type { DirectorStatus } from '../../../src/director/status.ts';
import { CLI, Lab, NODE, type Proc, sleep } from '../../vrrp/lab.ts';
import { HeldClients } from './held.ts';

const VIP = '10.0.0.100';
const DIRECTORS = { dir1: { ip: '10.0.0.2', priority: 150, state: 'MASTER' }, dir2: { ip: '10.0.0.3', priority: 100, state: 'BACKUP' } } as const;
type Dir = keyof typeof DIRECTORS;
const REAL = { rs1: '10.0.0.11', rs2: '10.0.0.12', rs3: '10.0.0.13', rs4: '10.0.0.14' } as const;
type Rs = keyof typeof REAL;
const ADVERT_S = 1;
// Checker bound: delay_loop + retry × delay_before_retry + connect_timeout, plus the reconcile.
/** dir1's priority after the reload step (from 150): applied in place, no election. */
const RAISED_PRIORITY = 160;
const CHECK = { delayLoopS: 1, retry: 1, delayBeforeRetryS: 0.5, connectTimeoutS: 3 };
const CHECK_BOUND_MS = (CHECK.delayLoopS + CHECK.retry * CHECK.delayBeforeRetryS + CHECK.connectTimeoutS) * 1000 + 500;
// RFC 5798: 3 × advert interval + skew (256 − priority) / 256 × advert interval, plus the GARP and a margin for TCG.
const VRRP_BOUND_MS = (3 * ADVERT_S + ((256 - DIRECTORS.dir2.priority) / 256) * ADVERT_S) * 1000 + 1500;

const out = process.argv[2] ?? '/tmp/e2e-results.json';
const verbose = process.argv.includes('--verbose');
const BASELINE = process.argv.includes('--baseline');
/** The long-lived connections: this many open at any time, each held this long. */
const HELD = { size: 10, lifeMs: 6000 };
const say = (line: string) => process.stdout.write(`[e2e ${new Date().toISOString().slice(11, 23)}] ${line}\n`);

/**
 * What makes a connection survive a takeover: a new master without a synced entry schedules its next packet
 * (sloppy_tcp) to the real server the old master chose (mh with mh-port hashes the flow alike on both directors);
 * the sync period of 10 packets (kernel: 50) re-sends long-lived connections often enough that a restarted master
 * knows them before it preempts. `extra` lines test a reload of the block.
 */
function sysctlBlock(extra: readonly string[]): string {
  if (BASELINE) return '';
  return `ipvs_sysctl {
  sloppy_tcp 1
  expire_nodest_conn 1
  sync_threshold 3 10
${extra.map((l) => `  ${l}\n`).join('')}}
`;
}

function conf(dir: Dir, rss: readonly Rs[], priority: number = DIRECTORS[dir].priority, extraSysctl: readonly string[] = []): string {
  const d = DIRECTORS[dir];
  const rsBlocks = rss.map((r) => `  real_server ${REAL[r]} 80 {
    weight 1
    HTTP_GET {
      url {
        path /
        status_code 200
      }
      connect_timeout ${CHECK.connectTimeoutS}
      retry ${CHECK.retry}
      delay_before_retry ${CHECK.delayBeforeRetryS}
    }
  }`);
  return `global_defs {
  router_id ${dir}
  lvs_sync_daemon eth0 VI_1
  lvs_timeouts tcp 900 tcpfin 121 udp 301
}
${sysctlBlock(extraSysctl)}vrrp_instance VI_1 {
  state ${d.state}
  interface eth0
  virtual_router_id 51
  priority ${priority}
  advert_int ${ADVERT_S}
  virtual_ipaddress {
    ${VIP}/32 dev eth0
  }
}
virtual_server ${VIP} 80 {
  delay_loop ${CHECK.delayLoopS}
  lb_algo ${BASELINE ? 'rr' : 'mh\n  mh-port\n  mh-fallback'}
  lb_kind DR
  protocol TCP
${rsBlocks.join('\n')}
}
`;
}

interface Sample {
  readonly t: number;
  readonly ok: boolean;
  readonly server: string;
}

/** Requests the VIP every 50 ms, each on a new connection, 1 s timeout. */
class Client {
  readonly samples: Sample[] = [];
  #timer: NodeJS.Timeout | undefined;
  start(): void {
    this.#timer = setInterval(() => this.#one(), 50);
  }
  stop(): void {
    clearInterval(this.#timer);
  }
  failuresBetween(from: number, to = performance.now()): number {
    return this.samples.filter((s) => !s.ok && s.t >= from && s.t <= to).length;
  }
  servedBy(from: number): Set<string> {
    return new Set(this.samples.filter((s) => s.ok && s.t >= from).map((s) => s.server));
  }
  #one(): void {
    const t = performance.now();
    const done = (ok: boolean, server: string) => this.samples.push({ t, ok, server });
    const req = request({ host: VIP, port: 80, path: '/', agent: false, timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => done(res.statusCode === 200, body.trim()));
      res.on('error', () => done(false, 'error'));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => done(false, e.message));
    req.end();
  }
}

export interface StepResult {
  readonly step: string;
  readonly ms: number;
  readonly boundMs?: number;
  readonly failedRequests: number;
  readonly requests: number;
  readonly ok: boolean;
  readonly detail: string;
}

const lab = new Lab('e2e');
const results: StepResult[] = [];
const daemons = new Map<Dir, Proc>();
const rsProcs = new Map<Rs, Proc>();
const client = new Client();
const held = new HeldClients(VIP, 80, HELD.size, HELD.lifeMs);
/** The moments the VIP moved (performance.now()), for the long-lived connections' count at the end. */
const moves: { step: string; at: number }[] = [];
let failed = false;

function record(r: StepResult): void {
  results.push(r);
  if (!r.ok) failed = true;
  say(`${r.ok ? 'PASS' : 'FAIL'} ${r.step}: ${r.ms.toFixed(0)} ms${r.boundMs ? ` (bound ${r.boundMs.toFixed(0)} ms)` : ''}, ${r.failedRequests}/${r.requests} requests failed; ${r.detail}`);
}

// Unix sockets live in the guest's /run: lab.dir may be on the 9p share (TMPDIR), where bind() is not supported.
const sock = (d: Dir) => `/run/ipvs-ts-e2e-${d}.sock`;

async function status(d: Dir): Promise<DirectorStatus | undefined> {
  try {
    const r = await askDaemon(sock(d), { cmd: 'status' }, 10_000);
    return 'status' in r ? r.status : undefined;
  } catch {
    return undefined;
  }
}

async function until(what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await cond()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/**
 * The service's connection count once it exceeds `from`, or the last one read after `timeoutMs`: the counters in a
 * status are a cached read whose refresh runs in the background (docs/daemon.md), later on a slow machine.
 */
async function connsAbove(d: Dir, from: number, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const conns = (await status(d))?.virtualServers[0]?.services[0]?.stats.conns ?? 0;
    if (conns > from || performance.now() > deadline) return conns;
    await sleep(500);
  }
}

/** Wall-clock ms of the first line of d's current daemon log at or after `after` that matches `re`. */
function logAt(d: Dir, re: RegExp, after: number): number | undefined {
  for (const line of lab.readLog(daemons.get(d)!).split('\n')) {
    const ts = Date.parse(line.slice(0, 24));
    if (ts >= after && re.test(line)) return ts;
  }
  return undefined;
}

/** Waits for a daemon log line; resolves with its delay from `t0w` (wall-clock ms, logged by the daemon itself). */
async function logged(d: Dir, re: RegExp, t0w: number, timeoutMs: number): Promise<number> {
  let at: number | undefined;
  await until(`${d} to log ${re}`, async () => (at = logAt(d, re, t0w)) !== undefined, timeoutMs);
  return at! - t0w;
}

const rsOf = (s: DirectorStatus | undefined, rs: Rs) => s?.virtualServers[0]?.realServers.find((r) => r.address === REAL[rs]);
const destOf = (s: DirectorStatus | undefined, rs: Rs) => s?.virtualServers[0]?.services[0]?.destinations.find((d) => d.address === REAL[rs]);

function startDaemon(d: Dir): Proc {
  const p = lab.start(d, [NODE, CLI, 'daemon', '-f', join(lab.dir, `${d}.conf`), '--control', sock(d), '--metrics', `${DIRECTORS[d].ip}:9650`,
    '--state', join(lab.dir, `${d}.state.json`), '--run-dir', join(lab.dir, `${d}.run`), '--drift-interval', '2'], `daemon-${d}-${daemons.size}`);
  daemons.set(d, p);
  return p;
}

/** Which sync daemon roles each director's kernel runs (`ipvsadm -L --daemon`). */
function syncRoles(): Record<Dir, string> {
  const of = (d: Dir) => {
    const out = lab.sh(lab.ns(d), 'ipvsadm -L --daemon');
    return (['master', 'backup'] as const).filter((r) => out.includes(`${r} sync daemon`)).join('+') || 'none';
  };
  return { dir1: of('dir1'), dir2: of('dir2') };
}

/** A setting the reload step adds to the ipvs_sysctl block: the reload writes it and nothing else. */
const RELOAD_SYSCTL = ['schedule_icmp 1'];

function startRs(rs: Rs): void {
  rsProcs.set(rs, lab.start(rs, ['busybox', 'httpd', '-f', '-p', '80', '-h', join(lab.dir, rs)], `httpd-${rs}`));
}

/** When the failed requests since t0 happened, for the narration. */
function failureTimes(t0: number): string {
  const f = client.samples.filter((x) => !x.ok && x.t >= t0);
  return f.length ? `failures at +${f.map((x) => (x.t - t0).toFixed(0)).slice(0, 8).join(', +')} ms (${[...new Set(f.map((x) => x.server))].join(', ')})` : 'no failures';
}

/** Whether a real server's HTTP server answers (asked directly, not through the VIP). */
function answers(ip: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: ip, port: 80, path: '/', agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function metrics(d: Dir): Promise<string> {
  const res = await fetch(`http://${DIRECTORS[d].ip}:9650/metrics`);
  return res.text();
}

async function show(d: Dir): Promise<void> {
  if (!verbose) return;
  const s = await status(d);
  if (s) process.stdout.write(formatStatus(s).replace(/^/gm, `    ${d}| `));
}

async function main(): Promise<void> {
  say('building the lab: a LAN bridge, directors dir1 (10.0.0.2) and dir2 (10.0.0.3), real servers rs1-rs4 (10.0.0.11-14), this client (10.0.0.1), VIP 10.0.0.100');
  execFileSync('modprobe', ['-a', 'ip_vs', 'ip_vs_rr', 'ip_vs_mh']);
  lab.setup({ dir1: [`${DIRECTORS.dir1.ip}/24`], dir2: [`${DIRECTORS.dir2.ip}/24`], rs1: [`${REAL.rs1}/24`], rs2: [`${REAL.rs2}/24`], rs3: [`${REAL.rs3}/24`], rs4: [`${REAL.rs4}/24`] });
  // This process is the client: a veth from the root namespace into the LAN bridge.
  execFileSync('sh', ['-c', `ip link add e2e0 type veth peer name e2ep netns ${lab.ns('lan')} && ip -n ${lab.ns('lan')} link set e2ep master br0 up && ip addr add 10.0.0.1/24 dev e2e0 && ip link set e2e0 up`]);
  for (const rs of Object.keys(REAL) as Rs[]) {
    // LVS-DR real server: the VIP on lo, and never answer ARP for it.
    lab.sh(lab.ns(rs), `ip addr add ${VIP}/32 dev lo && sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 && mkdir -p ${join(lab.dir, rs)} && echo ${rs} > ${join(lab.dir, rs, 'index.html')}`);
    startRs(rs);
  }
  for (const d of Object.keys(DIRECTORS) as Dir[]) {
    writeFileSync(join(lab.dir, `${d}.conf`), conf(d, ['rs1', 'rs2', 'rs3']));
    // A client that reuses a source port within the tcpfin timeout hits IPVS's TIME_WAIT entry, which by default
    // (conn_reuse_mode 1) keeps its real server even at weight 0; this makes a drained server get nothing new
    // (set by the ipvs_sysctl block, or here for the baseline).
    if (BASELINE) lab.sh(lab.ns(d), 'sysctl -qw net.ipv4.vs.expire_nodest_conn=1');
  }
  let t0 = performance.now();
  startDaemon('dir1');
  startDaemon('dir2');
  say('started `ipvs-ts daemon` on dir1 (priority 150) and dir2 (priority 100); waiting for VRRP and the first checks');
  const ready = async () => {
    const [a, b] = [await status('dir1'), await status('dir2')];
    return a?.vrrp[0]?.state === 'MASTER' && b?.vrrp[0]?.state === 'BACKUP' && (['rs1', 'rs2', 'rs3'] as Rs[]).every((r) => destOf(a, r)?.weight === 1);
  };
  const startMs = await until('dir1 MASTER with three real servers, dir2 BACKUP', ready, 600_000);
  say(`lab up: dir1 MASTER, dir2 BACKUP, rs1-3 in the table ${startMs.toFixed(0)} ms after starting the daemons`);
  await show('dir1');
  client.start();
  held.start();
  await sleep(5000);
  const base = performance.now();
  const timeouts = lab.sh(lab.ns('dir1'), 'ipvsadm -L --timeout').trim();
  // keepalived's roles: the master director sends connection state, the backup receives it.
  const roles = syncRoles();
  const rolesOk = roles.dir1 === 'master' && roles.dir2 === 'backup';
  // The ipvs_sysctl block, written by the daemon in its namespace and logged with the value it replaced.
  const sloppy = lab.sh(lab.ns('dir1'), 'cat /proc/sys/net/ipv4/vs/sloppy_tcp /proc/sys/net/ipv4/vs/sync_threshold').trim().replace(/\s+/g, ' ');
  const sysctlOk = BASELINE || (sloppy === '1 3 10' && logAt('dir1', /IPVS sysctl net\.ipv4\.vs\.sloppy_tcp 0 -> 1 \(ipvs_sysctl, /, 0) !== undefined);
  record({ step: 'steady state', ms: 5000, failedRequests: client.failuresBetween(0), requests: client.samples.length, ok: client.failuresBetween(0) === 0 && client.samples.length > 0 && /: 900 121 301$/.test(timeouts) && rolesOk && sysctlOk, detail: `served by ${[...client.servedBy(0)].sort().join(', ')}; ${timeouts} (lvs_timeouts); sync daemons dir1 ${roles.dir1}, dir2 ${roles.dir2}; ${BASELINE ? 'baseline (rr, kernel defaults)' : `sloppy_tcp, sync_threshold on dir1: ${sloppy}`}` });

  // 1. A real server stops: removed within its checker bound, no failures after that.
  t0 = performance.now();
  let t0w = Date.now();
  await lab.stop(rsProcs.get('rs2')!, 'SIGKILL');
  // mh with mh-fallback keeps a failed real server at weight 0 (every director's Maglev table stays the same);
  // the baseline's rr deletes it.
  const removedMs = await logged('dir1', /delete real server 10\.0\.0\.12:80|edit real server 10\.0\.0\.12:80 .*weight 0\)/, t0w, 30_000);
  const removedAt = t0 + removedMs;
  await sleep(2000);
  const after = client.failuresBetween(removedAt + 1000);
  record({ step: 'real server stopped → removed', ms: removedMs, boundMs: CHECK_BOUND_MS, failedRequests: client.failuresBetween(t0), requests: client.samples.filter((s) => s.t >= t0).length, ok: removedMs <= CHECK_BOUND_MS && after === 0, detail: `${client.failuresBetween(t0, removedAt + 1000)} failed before removal (requests routed to the dead server), ${after} after` });
  await show('dir1');

  // 2. It returns: back in rotation.
  const restartW = Date.now();
  startRs('rs2');
  // Timed from when rs2 answers again (a process start under emulation takes a while); the checker may see it
  // answer before this loop does, so the log is searched from the restart and an earlier line counts as 0 ms.
  await until('rs2 httpd answering', () => answers(REAL.rs2), 60_000);
  t0 = performance.now();
  t0w = Date.now();
  const backMs = Math.max(0, restartW + (await logged('dir1', /(add|edit) real server 10\.0\.0\.12:80 .*weight [1-9]/, restartW, 30_000)) - t0w);
  const backAt = t0 + backMs;
  await sleep(1500);
  record({ step: 'real server restored → back in rotation', ms: backMs, boundMs: (CHECK.delayLoopS + CHECK.connectTimeoutS) * 1000 + 500, failedRequests: client.failuresBetween(t0), requests: client.samples.filter((s) => s.t >= t0).length, ok: backMs <= (CHECK.delayLoopS + CHECK.connectTimeoutS) * 1000 + 500 && client.failuresBetween(t0) === 0 && client.servedBy(backAt).has('rs2'), detail: `served by ${[...client.servedBy(backAt)].sort().join(', ')} afterwards` });

  // 3. kill -9 of the master director: the backup takes the VIP and serves within the VRRP bound.
  const conns2 = (await status('dir2'))?.virtualServers[0]?.services[0]?.stats.conns ?? 0;
  t0 = performance.now();
  t0w = Date.now();
  await lab.stop(daemons.get('dir1')!, 'SIGKILL');
  const takeoverMs = await logged('dir2', /VRRP VI_1 BACKUP -> MASTER/, t0w, 30_000);
  const takeoverAt = t0 + takeoverMs;
  moves.push({ step: 'master killed -9', at: takeoverAt });
  await sleep(2000);
  const conns2After = await connsAbove('dir2', conns2, 30_000);
  const leftover = lab.sh(lab.ns('dir1'), 'ip -o addr show dev eth0').includes(VIP);
  // The connection-sync daemon follows VRRP: dir2 now runs the master daemon.
  const syncDaemon = lab.sh(lab.ns('dir2'), 'ipvsadm -L --daemon');
  record({ step: 'master killed -9 → backup takes over', ms: takeoverMs, boundMs: VRRP_BOUND_MS, failedRequests: client.failuresBetween(t0), requests: client.samples.filter((s) => s.t >= t0).length, ok: takeoverMs <= VRRP_BOUND_MS && conns2After > conns2 && client.failuresBetween(takeoverAt + 1000) === 0 && /master sync daemon/.test(syncDaemon), detail: `dir2 sync daemon: ${syncDaemon.trim().replaceAll('\n', '; ')}; dir2 IPVS connections ${conns2} → ${conns2After}; dir1's kernel kept serving meanwhile (VIP still on dir1: ${leftover}); ${failureTimes(t0)}` });
  await show('dir2');

  // 4. The old master returns, adopts its kernel table unchanged and preempts.
  t0 = performance.now();
  t0w = Date.now();
  startDaemon('dir1');
  const restartMs = await logged('dir1', /started:/, t0w, 300_000);
  const preemptMs = await logged('dir1', /VRRP VI_1 \w+ -> MASTER/, t0w, 60_000);
  await logged('dir2', /VRRP VI_1 MASTER -> BACKUP/, t0w, 30_000);
  const preemptAt = t0 + preemptMs;
  moves.push({ step: 'old master preempts', at: preemptAt });
  await sleep(2000);
  const rolesBack = syncRoles();
  const s1 = await status('dir1');
  const conns1 = s1?.virtualServers[0]?.services[0]?.stats.conns ?? 0;
  const conns1After = await connsAbove('dir1', conns1, 30_000);
  // Adoption: the start-up reconcile found the kernel table as wanted and changed nothing. Failed requests are
  // reported, not asserted: in the emulated VM they come from HTTP checks missing their deadline while node starts.
  const startChanges = logAt('dir1', /IPVS \d+ change\(s\) \(start/, t0w);
  record({ step: 'old master restarts → adopts the table, preempts', ms: preemptMs, failedRequests: client.failuresBetween(t0), requests: client.samples.filter((s) => s.t >= t0).length, ok: conns1After > conns1 && startChanges === undefined && rolesBack.dir1 === 'master' && rolesBack.dir2 === 'backup', detail: `sync daemons dir1 ${rolesBack.dir1}, dir2 ${rolesBack.dir2}; daemon start ${restartMs} ms (node in the VM), MASTER ${preemptMs - restartMs} ms after that; start-up reconcile changed ${startChanges === undefined ? 'nothing (the running table was adopted)' : 'the table'}; dir1 connections ${conns1} → ${conns1After}; ${failureTimes(t0)}` });
  await show('dir1');

  // 5. Reload: rs4 added, rs3 removed (drained), no failed requests on the others; the master's priority raised in
  // the same reload changes in place: no transition on either director, the VIP does not move.
  t0 = performance.now();
  t0w = Date.now();
  for (const d of Object.keys(DIRECTORS) as Dir[]) writeFileSync(join(lab.dir, `${d}.conf`), conf(d, ['rs1', 'rs2', 'rs4'], d === 'dir1' ? RAISED_PRIORITY : undefined, RELOAD_SYSCTL));
  for (const d of Object.keys(DIRECTORS) as Dir[]) {
    const r = await askDaemon(sock(d), { cmd: 'reload' });
    if (!('reload' in r) || !r.reload.applied) throw new Error(`${d} refused the reload`);
  }
  const reloadMs = await logged('dir1', /add real server 10\.0\.0\.14:80/, t0w, 30_000);
  await until('rs4 in, rs3 drained or gone on dir1', async () => {
    const s = await status('dir1');
    const rs3 = destOf(s, 'rs3');
    return destOf(s, 'rs4')?.weight === 1 && (rs3 === undefined || rs3.weight === 0) && rsOf(s, 'rs1')?.up === true;
  }, 20_000);
  const reloadAt = t0 + reloadMs;
  await sleep(2000);
  const served = client.servedBy(reloadAt + 500);
  const vrrpAfter = (await status('dir1'))?.vrrp[0];
  const moved = (Object.keys(DIRECTORS) as Dir[]).filter((d) => logAt(d, /VRRP VI_1 \w+ -> /, t0w) !== undefined);
  // The reload wrote only the setting it added.
  const sysctlLines = lab.readLog(daemons.get('dir1')!).split('\n').filter((l) => Date.parse(l.slice(0, 24)) >= t0w && /IPVS sysctl /.test(l)).map((l) => l.slice(25));
  const sysctlReloadOk = BASELINE || (sysctlLines.length === 1 && /net\.ipv4\.vs\.schedule_icmp 0 -> 1/.test(sysctlLines[0] ?? ''));
  record({ step: 'reload: rs4 added, rs3 removed, master priority raised', ms: reloadMs, failedRequests: client.failuresBetween(t0), requests: client.samples.filter((s) => s.t >= t0).length, ok: client.failuresBetween(t0) === 0 && served.has('rs4') && !served.has('rs3') && moved.length === 0 && vrrpAfter?.state === 'MASTER' && vrrpAfter.priority === RAISED_PRIORITY && sysctlReloadOk, detail: `${failureTimes(t0)}; sysctls written by the reload: ${sysctlLines.join('; ') || 'none'}; served by ${[...served].sort().join(', ')} afterwards; rs3 ${destOf(await status('dir1'), 'rs3') ? 'draining at weight 0' : 'deleted (no connections left)'}; dir1 ${vrrpAfter?.state} at priority ${vrrpAfter?.priority}; VRRP transitions since the reload: ${moved.length ? moved.join(', ') : 'none'}` });
  await show('dir1');

  // 6. A bad config is refused and the running one kept.
  writeFileSync(join(lab.dir, 'dir1.conf'), 'virtual_server {\n');
  const bad = await askDaemon(sock('dir1'), { cmd: 'reload' });
  const kept = (await status('dir1'))?.virtualServers.length === 1;
  record({ step: 'reload with a broken config → refused, old one kept', ms: 0, failedRequests: 0, requests: 0, ok: 'reload' in bad && !bad.reload.applied && kept, detail: 'reload' in bad ? bad.reload.problems.slice(0, 1).join('') : '' });
  writeFileSync(join(lab.dir, 'dir1.conf'), conf('dir1', ['rs1', 'rs2', 'rs4'], RAISED_PRIORITY, RELOAD_SYSCTL));

  // 7. Drift: someone deletes a real server behind our back; repaired.
  t0 = performance.now();
  t0w = Date.now();
  lab.sh(lab.ns('dir1'), `ipvsadm -d -t ${VIP}:80 -r ${REAL.rs1}:80`);
  const driftMs = await logged('dir1', /drift repaired/, t0w, 15_000);
  // Bound: the drift interval (2 s) plus 3 s for ipvsadm and the reconcile under emulation.
  record({ step: 'drift: rs1 deleted with ipvsadm → repaired', ms: driftMs, boundMs: 5000, failedRequests: client.failuresBetween(t0), requests: client.samples.filter((s) => s.t >= t0).length, ok: driftMs <= 5000, detail: `drift repairs counted: ${(await status('dir1'))?.counters.driftRepairs}` });

  // 8. /metrics shows it all.
  const m = await metrics('dir1');
  const want = [
    /^keepalived_vrrp_state\{iname="VI_1",intf="eth0",vrid="51",ip_address="10\.0\.0\.100\/32"\} 2$/m,
    /^keepalived_advertisements_sent_total\{iname="VI_1",intf="eth0",vrid="51"\} [1-9]/m,
    /^ipvs_ts_backend_weight\{local_address="10\.0\.0\.100",local_port="80",remote_address="10\.0\.0\.14",remote_port="80",proto="TCP",local_mark=""\} 1$/m,
    /^ipvs_ts_check_results_total\{virtual_server="TCP 10\.0\.0\.100:80",checker="HTTP_GET",result="ok"\} [1-9]/m,
    /^ipvs_ts_drift_repairs_total\{what="ipvs"\} [1-9]/m,
    /^ipvs_ts_reloads_total\{result="applied"\} 1$/m,
    /^ipvs_ts_reloads_total\{result="rejected"\} 1$/m,
  ];
  const missing = want.filter((re) => !re.test(m));
  record({ step: '/metrics', ms: 0, failedRequests: 0, requests: 0, ok: missing.length === 0, detail: missing.length ? `missing: ${missing.map(String).join(' ')}` : 'VRRP state, adverts, backend weights, check results, drift repairs, reloads present' });
  if (verbose) process.stdout.write(m.split('\n').filter((l) => /^(keepalived_vrrp_state|ipvs_ts_backend_weight|ipvs_ts_real_server_up|ipvs_ts_verdict_to_kernel_seconds_(sum|count))/.test(l)).map((l) => `    dir1/metrics| ${l}\n`).join(''));

  // 9. SIGTERM: bounded stop, VIP removed, IPVS kept (lvs_flush_on_stop off); the backup takes over gracefully.
  t0 = performance.now();
  t0w = Date.now();
  await lab.stop(daemons.get('dir1')!);
  const stopMs = performance.now() - t0;
  const vipGone = !lab.sh(lab.ns('dir1'), 'ip -o addr show dev eth0').includes(VIP);
  const ipvsKept = lab.sh(lab.ns('dir1'), 'ipvsadm -Ln').includes(`${VIP}:80`);
  const handoverMs = await logged('dir2', /VRRP VI_1 BACKUP -> MASTER/, t0w, 20_000);
  moves.push({ step: 'SIGTERM handover', at: t0 + handoverMs });
  await sleep(1500);
  record({ step: 'SIGTERM master → priority 0, VIP removed, IPVS kept', ms: stopMs, boundMs: 10_000, failedRequests: client.failuresBetween(t0), requests: client.samples.filter((s) => s.t >= t0).length, ok: stopMs < 10_000 && vipGone && ipvsKept, detail: `backup MASTER ${handoverMs.toFixed(0)} ms after SIGTERM; VIP removed ${vipGone}, IPVS table kept ${ipvsKept}` });
  client.stop();
  // Every long-lived connection open at a VIP move has ended (lifeMs after it at most, plus the response).
  await sleep(HELD.lifeMs + 3500);
  held.stop();
  for (const m of moves) {
    const h = held.during(m.at, m.at + 1000);
    const short = client.failuresBetween(m.at - 1000, m.at + 1000);
    record({ step: `across the VIP move (${m.step})`, ms: 0, failedRequests: short, requests: client.samples.filter((x) => x.t >= m.at - 1000 && x.t <= m.at + 1000).length, ok: h.held + h.failed > 0, detail: `long-lived connections open at the move: ${h.failed} of ${h.held + h.failed} failed${h.why.length ? ` (${h.why.slice(0, 6).join(', ')})` : ''}; short requests within ±1 s: ${short} failed` });
  }
  say(`long-lived connections: ${held.conns.filter((c) => c.outcome === 'ok').length} held, ${held.conns.filter((c) => c.outcome !== 'ok' && c.outcome !== 'stopped' && c.outcome !== undefined).length} failed in total (${BASELINE ? 'baseline' : 'tuned'})`);
  say(`client: ${client.samples.length} requests, ${client.failuresBetween(0)} failed in total (from ${((performance.now() - base) / 1000).toFixed(0)} s after the steady state began)`);
}

try {
  await main();
} catch (err) {
  failed = true;
  say(`ERROR ${(err as Error).message}`);
  for (const [d, p] of daemons) say(`--- ${d} log (tail)\n${lab.readLog(p).split('\n').slice(-25).join('\n')}`);
} finally {
  client.stop();
  held.stop();
  writeFileSync(out, `${JSON.stringify({ ok: !failed, steps: results }, null, 2)}\n`);
  if (verbose || failed) for (const [d, p] of daemons) say(`--- ${d} daemon log\n${lab.readLog(p)}`);
  await lab.cleanup();
  try {
    execFileSync('ip', ['link', 'del', 'e2e0'], { stdio: 'ignore' });
  } catch {
    // gone with its namespace peer
  }
}
process.exit(failed ? 1 : 0);
