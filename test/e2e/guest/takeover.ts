// The kernel's side of a VRRP takeover, measured in the IPVS VM without the daemons (test/e2e/takeover.vmtest.ts):
// two director namespaces with the same LVS-DR service (ipvsadm), the IPVS sync daemons in keepalived's roles,
// three busybox HTTP real servers, and this process as the client on the LAN with short requests (a new connection
// every 50 ms) and long-lived connections (held.ts). A takeover is what kill -9 of the master daemon leaves: the old
// master's kernel keeps its VIP, table and master sync daemon; the new one takes the VIP, swaps its backup sync daemon
// for the master one, and the client's ARP entry moves to it (the GARP, made deterministic here). The way back is a
// preemption by a restarted master, whose backup sync daemon has run only PREEMPT_MS. Each variant (the sysctls and
// scheduler the directors run) gets the same takeovers in the same VM; the counts go to the JSON file argv[2].
import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Lab, type Proc, sleep } from '../../vrrp/lab.ts';
import { HeldClients } from './held.ts';

const VIP = '10.0.0.100';
const DIRS = { dir1: '10.0.0.2', dir2: '10.0.0.3' } as const;
type Dir = keyof typeof DIRS;
const REAL = ['10.0.0.11', '10.0.0.12', '10.0.0.13'] as const;
/** How long the restarted master's backup sync daemon runs before it preempts (the e2e measured ~3 s). */
const PREEMPT_MS = 3000;
const HELD = { size: 10, lifeMs: 6000 };
const ROUNDS = Number(process.env.TAKEOVER_ROUNDS ?? 2);

interface Variant {
  readonly name: string;
  readonly scheduler: string;
  readonly sysctl: Readonly<Record<string, string>>;
}
const VARIANTS: readonly Variant[] = [
  { name: 'baseline: rr, kernel defaults', scheduler: '-s rr', sysctl: { sloppy_tcp: '0', sync_threshold: '3 50' } },
  { name: 'rr, sloppy_tcp 1, sync_threshold 3 10', scheduler: '-s rr', sysctl: { sloppy_tcp: '1', sync_threshold: '3 10' } },
  { name: 'mh + mh-port, sloppy_tcp 1, sync_threshold 3 10', scheduler: '-s mh -b mh-port', sysctl: { sloppy_tcp: '1', sync_threshold: '3 10' } },
];

export interface MoveResult {
  readonly variant: string;
  readonly move: string;
  readonly heldFailed: number;
  readonly held: number;
  readonly shortFailed: number;
  readonly short: number;
  readonly why: readonly string[];
}

const out = process.argv[2] ?? '/tmp/takeover-results.json';
const say = (line: string) => process.stdout.write(`[takeover ${new Date().toISOString().slice(11, 23)}] ${line}\n`);
const lab = new Lab('tko');
const results: MoveResult[] = [];
const httpds: Proc[] = [];

/** Short requests: a new connection every 50 ms, 1 s timeout. */
class Requests {
  readonly samples: { t: number; ok: boolean }[] = [];
  #timer: NodeJS.Timeout | undefined;
  start(): void {
    this.#timer = setInterval(() => {
      const t = performance.now();
      const req = request({ host: VIP, port: 80, path: '/', agent: false, timeout: 1000 }, (res) => {
        res.resume();
        res.on('end', () => this.samples.push({ t, ok: res.statusCode === 200 }));
        res.on('error', () => this.samples.push({ t, ok: false }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => this.samples.push({ t, ok: false }));
      req.end();
    }, 50);
  }
  stop(): void {
    clearInterval(this.#timer);
  }
}

const mac = (d: Dir) => lab.sh(lab.ns(d), 'cat /sys/class/net/eth0/address').trim();
const run = promisify(execFile);
/** The moves run their commands without blocking this process, so the clients go on sending meanwhile. */
const sh = (d: Dir, script: string) => run('ip', ['netns', 'exec', lab.ns(d), 'sh', '-c', script]);

/** The directors' table, sysctls and sync daemons for a variant, dir1 master; the client's ARP entry at dir1. */
function configure(v: Variant): void {
  for (const d of Object.keys(DIRS) as Dir[]) {
    const ns = lab.ns(d);
    lab.sh(ns, `ipvsadm -C; ip addr del ${VIP}/32 dev eth0 2>/dev/null; ipvsadm --stop-daemon master 2>/dev/null; ipvsadm --stop-daemon backup 2>/dev/null; true`);
    lab.sh(ns, `sysctl -qw net.ipv4.vs.expire_nodest_conn=1 ${Object.entries(v.sysctl).map(([k, val]) => `"net.ipv4.vs.${k}=${val}"`).join(' ')}`);
    lab.sh(ns, [`ipvsadm -A -t ${VIP}:80 ${v.scheduler}`, ...REAL.map((r) => `ipvsadm -a -t ${VIP}:80 -r ${r}:80 -g -w 1`)].join(' && '));
  }
  lab.sh(lab.ns('dir1'), `ip addr add ${VIP}/32 dev eth0 && ipvsadm --start-daemon master --mcast-interface eth0 --syncid 51`);
  lab.sh(lab.ns('dir2'), 'ipvsadm --start-daemon backup --mcast-interface eth0 --syncid 51');
  execFileSync('ip', ['neigh', 'replace', VIP, 'lladdr', mac('dir1'), 'dev', 'e2e0', 'nud', 'permanent']);
}

/** `to` takes over: VIP, master sync daemon, the client's ARP entry; `from` keeps all it had (kill -9 of its daemon). */
async function takeOver(to: Dir, lladdr: string): Promise<number> {
  await sh(to, `ipvsadm --stop-daemon backup 2>/dev/null; ip addr add ${VIP}/32 dev eth0 && ipvsadm --start-daemon master --mcast-interface eth0 --syncid 51`);
  await run('ip', ['neigh', 'replace', VIP, 'lladdr', lladdr, 'dev', 'e2e0', 'nud', 'permanent']);
  return performance.now();
}

/** `d`'s daemon restarts: its stale VIP goes (VRRP BACKUP), the backup sync daemon replaces the master one. */
async function restartAsBackup(d: Dir): Promise<void> {
  await sh(d, `ipvsadm --stop-daemon master 2>/dev/null; ip addr del ${VIP}/32 dev eth0; ipvsadm --start-daemon backup --mcast-interface eth0 --syncid 51`);
}

async function runVariant(v: Variant): Promise<void> {
  configure(v);
  say(`variant ${v.name}`);
  const held = new HeldClients(VIP, 80, HELD.size, HELD.lifeMs);
  const requests = new Requests();
  requests.start();
  held.start();
  await sleep(HELD.lifeMs);
  const moves: { move: string; at: number }[] = [];
  const macs = { dir1: mac('dir1'), dir2: mac('dir2') };
  for (let i = 0; i < ROUNDS; i++) {
    // kill -9 of dir1's daemon: dir2 takes over; dir1's daemon is restarted and runs as backup.
    moves.push({ move: 'master killed -9 → backup takes over', at: await takeOver('dir2', macs.dir2) });
    await sleep(2000);
    await restartAsBackup('dir1');
    await sleep(PREEMPT_MS);
    // The restarted dir1 preempts; dir2 steps down.
    moves.push({ move: 'restarted master preempts', at: await takeOver('dir1', macs.dir1) });
    await sleep(1000);
    await restartAsBackup('dir2');
    await sleep(HELD.lifeMs);
  }
  requests.stop();
  await sleep(HELD.lifeMs + 3500);
  held.stop();
  for (const m of moves) {
    const h = held.during(m.at, m.at + 1000);
    const near = requests.samples.filter((s) => s.t >= m.at - 1000 && s.t <= m.at + 1000);
    const r: MoveResult = { variant: v.name, move: m.move, heldFailed: h.failed, held: h.held + h.failed, shortFailed: near.filter((s) => !s.ok).length, short: near.length, why: h.why };
    results.push(r);
    say(`  ${r.move}: long-lived ${r.heldFailed}/${r.held} failed${r.why.length ? ` (${r.why.slice(0, 5).join(', ')})` : ''}; short requests within ±1 s ${r.shortFailed}/${r.short} failed`);
  }
}

let failed = false;
try {
  say('building the lab: LAN bridge, dir1 10.0.0.2, dir2 10.0.0.3, real servers 10.0.0.11-13, client 10.0.0.1, VIP 10.0.0.100');
  execFileSync('modprobe', ['-a', 'ip_vs', 'ip_vs_rr', 'ip_vs_mh']);
  lab.setup({ dir1: [`${DIRS.dir1}/24`], dir2: [`${DIRS.dir2}/24`], rs1: [`${REAL[0]}/24`], rs2: [`${REAL[1]}/24`], rs3: [`${REAL[2]}/24`] });
  execFileSync('sh', ['-c', `ip link add e2e0 type veth peer name e2ep netns ${lab.ns('lan')} && ip -n ${lab.ns('lan')} link set e2ep master br0 up && ip addr add 10.0.0.1/24 dev e2e0 && ip link set e2e0 up`]);
  for (const i of REAL.keys()) {
    const rs = `rs${i + 1}`;
    lab.sh(lab.ns(rs), `ip addr add ${VIP}/32 dev lo && sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 && mkdir -p ${join(lab.dir, rs)} && echo ${rs} > ${join(lab.dir, rs, 'index.html')}`);
    httpds.push(lab.start(rs, ['busybox', 'httpd', '-f', '-p', '80', '-h', join(lab.dir, rs)], `httpd-${rs}`));
  }
  for (const d of Object.keys(DIRS) as Dir[]) lab.sh(lab.ns(d), 'modprobe ip_vs');
  for (const v of VARIANTS) await runVariant(v);
} catch (err) {
  failed = true;
  say(`ERROR ${(err as Error).stack ?? String(err)}`);
} finally {
  writeFileSync(out, `${JSON.stringify({ ok: !failed, results }, null, 2)}\n`);
  await lab.cleanup();
  try {
    execFileSync('ip', ['link', 'del', 'e2e0'], { stdio: 'ignore' });
  } catch {
    // gone with its namespace peer
  }
}
process.exit(failed ? 1 : 0);
