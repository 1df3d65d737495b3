// The director at scale (issue 11): keepalived's checker and `ipvs-ts daemon` side by side on the same config, in
// the IPVS VM (the host kernel has no IPVS), one after the other in one VM run.
//
//   node bench/director-scale.ts [--rounds R] [--idle SECONDS] [--settle SECONDS] [--slice SECONDS] [--scrapes K]
//                                [--impls keepalived,ipvs-ts,ipvs-ts:FLAGS] [--profile] [--installed] [--floor K]
//                                [--pin DAEMON_CPU,BENCH_CPU | none] [N...]
//     defaults: 3 rounds, 30 s idle window after a 5 s settle, N = 2000 (N virtual servers × 10 real servers)
//     --slice: the idle window's CPU also per slice of that length (when does the daemon reach its steady state)
//     --impls: which implementations, in this order (default keepalived,ipvs-ts); ipvs-ts runs under the node flags
//       of bin/ipvs-ts.js's #! line, as the systemd unit runs it; `ipvs-ts:FLAGS` adds those node flags after them
//       ('+' for a space; a repeated V8 flag's last value wins, and --max-semi-space-size=0 is node's default),
//       e.g. ipvs-ts:--single-threaded-gc; `ipvs-ts@TREE` (or
//       `ipvs-ts@TREE:FLAGS`) runs the daemon of another checkout inside the project (the VM sees only the project),
//       e.g. a `git worktree add .cache/base main` with node_modules and build linked; each is compared to the first
//     --pin (default 0,1): the implementation on the guest's vCPU 0, this bench (its pollers, the checked real
//       server's listener, the scrapes) on vCPU 1, as bench/check-vs-keepalived.ts pins its checkers: the guest's two
//       vCPUs run in turns on one host thread, and a process is charged for the host's time on the other vCPU while
//       it runs, so which vCPU the bench's polling shared with the daemon would otherwise move the CPU figures
//     --installed: ipvs-ts runs from a copy in the guest's /opt/ipvs-ts, laid out as the Debian package installs it
//       (deploy/debian/program-files.ts), on the guest's tmpfs as keepalived's binary is in its page cache; without
//       it, or as `ipvs-ts@.`, ipvs-ts runs from the project share (9p), where each of the ~300 files a start opens
//       is a round trip to QEMU's 9p server (no difference beyond the spread at 2,000 or 10,000: docs/benchmarks.md)
//     --floor K: per ipvs-ts implementation and N, what its start costs before any configuration work, K runs of
//       each on the daemon's vCPU (wall time of each, and the median): `node -e 0`; `ipvs-ts daemon -f
//       /nonexistent` (node and every module the daemon loads, then the config load fails at once); `ipvs-ts
//       check-config` on that file and on N's configuration (the difference is the configuration's load). With the
//       programming after the first service it gives the floor: the time from the spawn if the load and the
//       set-up cost nothing
//     --profile: ipvs-ts runs with --cpu-prof into .cache/director-scale/ (10 ms samples); the bench prints the
//       monotonic clock at the idle window's ends so the window's samples can be picked out of the profile
//
// The config has N virtual servers × 10 real servers without a checker (always in: keepalived takes them as they
// are, ipvs-ts warns) and one virtual server whose only real server has a TCP_CHECK (delay_loop 1, connect_timeout
// 1, retry 0) against a listener in this process, which the bench closes and reopens. Per implementation, from an
// empty IPVS table in the guest's root namespace:
//   start     process spawn → the first service in the kernel (ipvs-ts: node start + config load; neither
//             implementation's log or sockets say when it starts programming, the kernel does; not the first
//             destination: ipvs-ts adds every service before any destination)
//   program   process spawn → all N×10+1 destinations in the kernel: every 100 ms the last and the checked
//             service are read over netlink in-process; once both are full, one read of /proc/net/ip_vs counts the
//             whole table to confirm (besides, that read runs every 10× its own duration, so at most 10 % of the
//             time, which also gives "start" while the table is small)
//   CPU       utime+stime of the process and its descendants (keepalived: parent and checker child; ipvs-ts:
//             one process, every thread) until programmed, and over the idle window after the settle, in cores
//             (also per thread name: a busy main thread is the director, busy V8 workers are still compiling)
//   down/up   listener closed → its destination gone from the kernel, reopened → back: the checked service's
//             destinations read over netlink in-process every 50 ms (`ipvsadm -Ln -t VIP:PORT` was the plan, but
//             any process start costs 0.1–0.9 s in the loaded VM, too coarse for 1–2 s figures; ipvsadm confirms
//             each transition once, untimed); median of R rounds
//   RSS       sum of VmRSS of the processes at the end of the idle window
//   scrapes  (--scrapes K, ipvs-ts only) after the idle window, K × (GET /metrics, then a full `status` over the
//             control socket): wall time, bytes and the daemon's CPU for each, its RSS after them; then this bench
//             reads the kernel's counters in-process both ways (one full dump; one GET_DEST dump per service)
// Then SIGTERM (SIGKILL after 60 s, every process by PID), `ipvsadm -C`, and the next implementation.
// Before any of it, each ipvs-ts implementation is started once, untimed, on a one-service table: its compile cache is
// then warm, as an installed daemon's is after its first start.
// Only ratios from one VM run mean anything: TCG runs everything several times slower than the host.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { IpvsClient } from '../src/ipvs/client.ts';
import type { ServiceId } from '../src/ipvs/types.ts';
import { programFiles } from '../deploy/debian/program-files.ts';
import { emptyIpvs } from './ipvs-trash.ts';

const REAL_SERVERS = 10;
const CHECKED_VIP = '10.255.255.1:80';
const CHECKED_RS = { address: '192.168.250.2', port: 8080 };
const STOP_MS = 60_000;
/** A reaction slower than this is reported as "> 180 s" and ends that implementation's rounds. */
const REACT_TIMEOUT_MS = 180_000;
const DIR = '/tmp/director-scale';
const PROJECT = resolve(import.meta.dirname, '..');
const PROFILES = join(PROJECT, '.cache', 'director-scale');

const argv = process.argv.slice(2);
const flag = (name: string, dflt: number): number => {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(argv.splice(i, 2)[1]);
  if (!(v > 0)) usage(`${name} needs a positive number`);
  return v;
};
const rounds = flag('--rounds', 3);
const idleS = flag('--idle', 30);
const settleS = flag('--settle', 5);
const scrapes = argv.includes('--scrapes') ? flag('--scrapes', 1) : 0;
const floorRuns = argv.includes('--floor') ? flag('--floor', 5) : 0;
const sliceS = flag('--slice', idleS);
// `--only NAME`, the older spelling of `--impls NAME`, stays for the commands recorded in docs/benchmarks.md.
const implsAt = Math.max(argv.indexOf('--impls'), argv.indexOf('--only'));
const implNames = (implsAt >= 0 ? argv.splice(implsAt, 2)[1] ?? '' : 'keepalived,ipvs-ts').split(',');
const IPVS_TS = /^ipvs-ts(?:@([^:]+))?(?::(.*))?$/;
for (const name of implNames) if (name !== 'keepalived' && !IPVS_TS.test(name)) usage(`not an implementation: ${name}`);
const profile = argv.includes('--profile') && argv.splice(argv.indexOf('--profile'), 1).length > 0;
const installed = argv.includes('--installed') && argv.splice(argv.indexOf('--installed'), 1).length > 0;
const pinAt = argv.indexOf('--pin');
const pin = pinAt >= 0 ? argv.splice(pinAt, 2)[1] ?? '' : '0,1';
if (pin !== 'none' && !/^\d+,\d+$/.test(pin)) usage(`--pin takes DAEMON_CPU,BENCH_CPU or none, not ${pin}`);
const [daemonCpu, benchCpu] = pin === 'none' ? [] : pin.split(',');
const sizes = argv.map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n <= 0)) usage(`not a number of virtual servers: ${argv.join(' ')}`);
const counts = sizes.length ? sizes : [2000];

function usage(why: string): never {
  process.stderr.write(`director-scale: ${why}\nusage: node bench/director-scale.ts [--rounds R] [--idle SECONDS] [--settle SECONDS] [--slice SECONDS] [--scrapes K] [--impls keepalived,ipvs-ts,ipvs-ts:FLAGS] [--profile] [--installed] [--floor K] [--pin A,B|none] [N...]\n`);
  process.exit(2);
}

/** Generous bound for programming N×10 destinations: current main took 348 s for 2,000 on a loaded host (docs). */
const programTimeoutMs = (n: number): number => 240_000 + n * 200;

if (!process.env.IPVS_TS_IN_VM) {
  const { relayInVm } = await import('../test/kernel/vm.ts');
  const perSize = (n: number): number => implNames.length * (programTimeoutMs(n) + settleS * 1000 + idleS * 1000 + rounds * 2 * REACT_TIMEOUT_MS + STOP_MS);
  const timeoutMs = 180_000 + counts.reduce((t, n) => t + perSize(n), 0);
  // The VM's one emulation thread competes with whatever else the host runs: say how loaded it was.
  const load = (): string => loadavg().map((x) => x.toFixed(1)).join(' ');
  process.stderr.write(`director-scale: host load average ${load()} at the start (${new Date().toISOString()})\n`);
  process.once('exit', () => process.stderr.write(`director-scale: host load average ${load()} at the end\n`));
  const extra = `${scrapes ? ` --scrapes ${scrapes}` : ''}${implsAt >= 0 ? ` --impls ${implNames.join(',')}` : ''}${profile ? ' --profile' : ''}${installed ? ' --installed' : ''}${floorRuns ? ` --floor ${floorRuns}` : ''} --slice ${sliceS} --pin ${pin}`;
  await relayInVm({ command: `node bench/director-scale.ts --rounds ${rounds} --idle ${idleS} --settle ${settleS}${extra} ${counts.join(' ')}`, timeoutMs, memoryMb: 3072 }, 'director-scale');
}

// ---------------------------------------------------------------------------------------------------------------
// In the guest.

const sh = (cmd: string): string => execFileSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', maxBuffer: 1 << 28 });
const CLK_TCK = Number(sh('getconf CLK_TCK').trim());
// Every thread of this process, including those started later (they inherit it).
if (benchCpu !== undefined) sh(`taskset -a -p -c ${benchCpu} ${process.pid} >/dev/null`);
/** The implementation's command line, held on its vCPU (taskset execs it: the PID stays the implementation's). */
const pinned = (argv: string[]): string[] => (daemonCpu === undefined ? argv : ['taskset', '-c', daemonCpu, ...argv]);
const started = new Set<number>();

/** Every process this bench started dies with it, by PID, whatever happened. */
process.on('exit', () => killTree([...started]));
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));

function ip(n: number, base: string): string {
  const b = base.split('.').map(Number);
  const v = (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) + n;
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}

/** One keepalived.conf both implementations run. */
function config(n: number): string {
  const out: string[] = ['global_defs {', '  router_id director-scale', '}', ''];
  const rs = Array.from({ length: REAL_SERVERS }, (_, j) => `  real_server ${ip(j, '10.128.0.1')} 80 {\n    weight 1\n  }`).join('\n');
  for (let i = 0; i < n; i++) {
    out.push(`virtual_server ${ip(i, '10.0.0.1')} 80 {`, '  lb_algo wlc', '  lb_kind NAT', '  protocol TCP', rs, '}');
  }
  const [vip, vport] = CHECKED_VIP.split(':');
  out.push(
    `virtual_server ${vip} ${vport} {`, '  delay_loop 1', '  lb_algo wlc', '  lb_kind NAT', '  protocol TCP',
    `  real_server ${CHECKED_RS.address} ${CHECKED_RS.port} {`, '    weight 1',
    '    TCP_CHECK {', '      connect_timeout 1', '      retry 0', '    }', '  }', '}',
  );
  return out.join('\n') + '\n';
}

/** Destinations and services in the kernel, from one read of /proc/net/ip_vs (no process, no netlink decode). */
function kernelCounts(): { services: number; destinations: number; readMs: number } {
  const t0 = performance.now();
  const text = readFileSync('/proc/net/ip_vs', 'latin1');
  const readMs = performance.now() - t0;
  let services = 0;
  let destinations = -1; // the header has one "  -> RemoteAddress" line
  for (let at = text.indexOf('\n') + 1; at > 0 && at < text.length; at = text.indexOf('\n', at) + 1) {
    if (text.startsWith('  -> ', at)) destinations++;
    else if (text.startsWith('TCP ', at) || text.startsWith('UDP ', at) || text.startsWith('FWM ', at)) services++;
  }
  return { services, destinations: Math.max(destinations, 0), readMs };
}

/** The process and all its descendants, from /proc. */
function tree(root: number): number[] {
  const parent = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!pid) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(ppid, [...(parent.get(ppid) ?? []), pid]);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (pid: number): void => {
    out.push(pid);
    for (const c of parent.get(pid) ?? []) walk(c);
  };
  if (existsSync(`/proc/${root}`)) walk(root);
  return out;
}

/** utime+stime in seconds of the processes (a process's stat counts all its threads). */
function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
      ticks += Number(f[11]) + Number(f[12]); // fields 14 and 15 of stat(5), counted after "pid (comm) "
    } catch {
      // exited meanwhile
    }
  }
  return ticks / CLK_TCK;
}

/** SIGKILLs the processes and their descendants that are still alive. */
function killTree(roots: readonly number[]): void {
  for (const p of roots.flatMap(tree).reverse()) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
}

/** utime+stime in seconds per thread name (comm) over the processes' threads, to tell a busy main thread from V8's. */
function cpuByThread(pids: readonly number[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of pids) {
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        out.set(comm, (out.get(comm) ?? 0) + (Number(f[11]) + Number(f[12])) / CLK_TCK);
      } catch {
        // exited meanwhile
      }
    }
  }
  return out;
}

function rssMb(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1] ?? 0);
    } catch {
      // exited meanwhile
    }
  }
  return kb / 1024;
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).map((l) => `    ${l.slice(0, 300)}`).join('\n');
  } catch {
    return '    (no log)';
  }
}

/** The checked real server: a listener in this process that accepts and closes; "killed" = closed. */
class Listener {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  async up(): Promise<void> {
    const server = createServer((s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
      s.on('error', () => undefined);
      s.end();
    });
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(CHECKED_RS.port, CHECKED_RS.address, () => res());
    });
    this.#server = server;
  }
  down(): void {
    this.#server?.close();
    for (const s of this.#sockets) s.destroy();
    this.#server = undefined;
  }
}

const serviceId = (vip: string): ServiceId => {
  const [address, port] = vip.split(':');
  return { kind: 'addr', family: 4, protocol: 'TCP', address: address!, port: Number(port) };
};
const CHECKED_ID = serviceId(CHECKED_VIP);

/** Seconds until the checked real server is in (or out of) the kernel, asked over netlink every 50 ms; Infinity
 * after REACT_TIMEOUT_MS. */
async function until(ipvs: IpvsClient, present: boolean, what: string, polls: number[]): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const q0 = performance.now();
    const dests = await ipvs.destinations(CHECKED_ID);
    const q1 = performance.now();
    polls.push(q1 - q0);
    if (dests.some((d) => d.address === CHECKED_RS.address && d.port === CHECKED_RS.port) === present) break;
    if (q1 - t0 > REACT_TIMEOUT_MS) return Infinity;
    await sleep(50);
  }
  const ms = performance.now() - t0;
  // ipvsadm, untimed, must agree.
  const line = sh(`ipvsadm -Ln -t ${CHECKED_VIP}`).includes(` ${CHECKED_RS.address}:${CHECKED_RS.port} `);
  if (line !== present) throw new Error(`${what}: netlink says ${present ? 'in' : 'out'}, ipvsadm -Ln -t ${CHECKED_VIP} disagrees`);
  return ms / 1000;
}

interface Impl {
  /** keepalived, ipvs-ts, or ipvs-ts:FLAGS (the daemon under those node flags). */
  readonly name: string;
  readonly argv: (conf: string) => string[];
  /** A file that appears once the process is up (ipvs-ts's control socket), reported, not relied on. */
  readonly control?: string;
  /** ipvs-ts: its node flags and bin/ipvs-ts.js, for --floor. */
  readonly node?: { readonly flags: readonly string[]; readonly script: string };
}

/** Where --installed puts the daemon: the Debian package's directory, in the guest's own tmpfs-backed root. */
const INSTALLED = '/opt/ipvs-ts';

/** What the package ships of the program (deploy/debian/program-files.ts), copied from the share once, untimed. */
function install(): void {
  const t0 = performance.now();
  rmSync(INSTALLED, { recursive: true, force: true });
  for (const path of [...programFiles(PROJECT), 'package.json']) cpSync(join(PROJECT, path), join(INSTALLED, path), { recursive: true, dereference: true });
  process.stderr.write(`director-scale: ipvs-ts installed in ${INSTALLED} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}

/** The node flags the daemon ships with: those of bin/ipvs-ts.js's `#!/usr/bin/env -S node …` line. */
function unitFlags(tree: string): string[] {
  const shebang = readFileSync(resolve(PROJECT, tree, 'bin/ipvs-ts.js'), 'utf8').split('\n', 1)[0]!;
  return shebang.split(' ').slice(shebang.split(' ').indexOf('node') + 1);
}

function implOf(name: string): Impl {
  if (name === 'keepalived') {
    return {
      name,
      argv: (conf) => pinned(['keepalived', '-n', '-l', '-D', '-C', '-f', conf, '-p', join(DIR, 'keepalived.pid'), '-c', join(DIR, 'checkers.pid'), '-r', join(DIR, 'vrrp.pid')]),
    };
  }
  const [, tree, flags] = IPVS_TS.exec(name)!;
  const nodeFlags = [...unitFlags(tree ?? '.'), ...(flags ? flags.split('+') : [])];
  const script = join(installed && tree === undefined ? INSTALLED : resolve(PROJECT, tree ?? '.'), 'bin/ipvs-ts.js');
  return {
    name,
    argv: (conf) => pinned([
      process.execPath, ...nodeFlags, ...(profile ? ['--cpu-prof', '--cpu-prof-dir', PROFILES, '--cpu-prof-interval', '10000'] : []), script, 'daemon', '-f', conf, '--control', join(DIR, 'ipvs-ts.sock'),
      '--metrics', '127.0.0.1:19650', '--state', join(DIR, 'ipvs-ts.state'), '--run-dir', join(DIR, 'run'),
      '--data-file', join(DIR, 'ipvs-ts.data'), '--stats-file', join(DIR, 'ipvs-ts.stats'),
    ]),
    control: join(DIR, 'ipvs-ts.sock'),
    node: { flags: nodeFlags, script },
  };
}

/** --floor: K timed runs of each start-up command of one implementation; a line each of wall seconds and median. */
function floor(impl: Impl, conf: string, afterFirstServiceS: number): string {
  const { flags, script } = impl.node!;
  const rest = [...flags, script];
  const cases: [string, string[]][] = [
    ['node -e 0', [...flags, '-e', '0']],
    ['daemon -f /nonexistent (node + the daemon\'s modules)', [...rest, 'daemon', '-f', '/nonexistent', '--control', join(DIR, 'floor.sock'), '--metrics', 'off', '--state', join(DIR, 'floor.state'), '--run-dir', join(DIR, 'floor-run')]],
    ['check-config -f /nonexistent', [...rest, 'check-config', '-f', '/nonexistent']],
    [`check-config -f ${conf.split('/').pop()}`, [...rest, 'check-config', '-f', conf]],
  ];
  const medians: number[] = [];
  const lines = cases.map(([label, args]) => {
    const times: number[] = [];
    for (let i = 0; i < floorRuns; i++) {
      const t0 = performance.now();
      const [cmd, ...cmdArgs] = pinned([process.execPath, ...args]);
      spawnSync(cmd!, cmdArgs, { stdio: 'ignore' });
      times.push((performance.now() - t0) / 1000);
    }
    medians.push(median(times));
    return `  ${label}: ${times.map((t) => t.toFixed(2)).join(', ')} s (median ${median(times).toFixed(2)} s)`;
  });
  const [, daemonModules, ccBase, ccConf] = medians as [number, number, number, number];
  return `${impl.name} start floor, ${floorRuns} runs each:\n${lines.join('\n')}\n` +
    `  configuration load ≈ ${(ccConf - ccBase).toFixed(2)} s; floor (node + modules, then this run's programming after the first service, ${afterFirstServiceS.toFixed(2)} s) = ${(daemonModules + afterFirstServiceS).toFixed(2)} s\n`;
}

interface Figures {
  /** Idle cores per thread name, the busiest first. */
  idleThreads: string;
  startS: number;
  outputS: number;
  controlS: number;
  programS: number;
  programCpuS: number;
  idleCores: number;
  downS: number[];
  upS: number[];
  rssMb: number;
  processes: number;
  pollMs: number;
  /** This bench's own CPU while it polled (it shares the guest's one emulation thread with the daemon). */
  pollerCores: number;
  programPollMs: number;
  stopS: number;
}

/** An empty IPVS with an empty dest trash (bench/ipvs-trash.ts), and the bench's client opened on it. */
async function freshIpvs(old: IpvsClient): Promise<IpvsClient> {
  old.close();
  emptyIpvs();
  sh('modprobe ip_vs_wlc');
  return IpvsClient.open();
}

function flushTable(): void {
  sh('ipvsadm -C');
  const left = kernelCounts();
  if (left.services || left.destinations) throw new Error(`ipvsadm -C left ${left.services} services, ${left.destinations} destinations`);
}

/** Whatever is left of a daemon's tree (a hung stop, a failed measurement), by PID; never a PID that exited before. */
async function reap(pid: number, gone: Promise<void>, exited: boolean): Promise<void> {
  killTree(exited ? [] : [pid]);
  if (!exited) await Promise.race([gone, sleep(5_000)]);
  started.delete(pid);
}

/**
 * One untimed start of the daemon on a one-service table, stopped once its services are in the kernel: an installed
 * daemon starts with its compile cache warm (the unit's NODE_COMPILE_CACHE; the VM lab carries one across boots),
 * and only the first start after an install or upgrade strips and compiles its TypeScript, which would otherwise
 * land on whichever measured start came first.
 */
async function warmUp(impl: Impl): Promise<void> {
  flushTable();
  const conf = join(DIR, 'warm-up.conf');
  writeFileSync(conf, config(1));
  const [cmd, ...args] = impl.argv(conf);
  const t0 = performance.now();
  const child = spawn(cmd!, args, { stdio: 'ignore' });
  if (!child.pid) throw new Error(`${impl.name}: cannot start ${cmd}`);
  const pid = child.pid;
  started.add(pid);
  let exited = false;
  const gone = new Promise<void>((res) => child.once('exit', () => ((exited = true), res())));
  try {
    // Programmed means started: the daemon writes its compile cache right after its start, and again as it exits.
    // Only the unchecked real servers count: nothing listens for the checked one yet, so it stays out.
    while (kernelCounts().destinations < REAL_SERVERS && performance.now() - t0 < programTimeoutMs(1)) await sleep(100);
    child.kill('SIGTERM');
    await Promise.race([gone, sleep(STOP_MS)]);
  } finally {
    await reap(pid, gone, exited);
  }
  // What it owned is gone (its stop removes its services; flushTable below): nothing of it for the next to adopt.
  for (const f of ['ipvs-ts.state', 'ipvs-ts.data', 'ipvs-ts.stats']) rmSync(join(DIR, f), { force: true });
  flushTable();
  process.stderr.write(`director-scale: ${impl.name} warmed up in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}

async function measure(impl: Impl, n: number, conf: string, listener: Listener, ipvs: IpvsClient): Promise<Figures> {
  flushTable();
  const lastId = serviceId(`${ip(n - 1, '10.0.0.1')}:80`);
  await listener.up();
  const log = join(DIR, `${impl.name.replace(/[^\w.-]+/g, '_')}-${n}.log`);
  const fd = openSync(log, 'w');
  const [cmd, ...args] = impl.argv(conf);
  const t0 = performance.now();
  const child = spawn(cmd!, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (!child.pid) throw new Error(`${impl.name}: cannot start ${cmd}`);
  const pid = child.pid;
  started.add(pid);
  let exited: string | undefined;
  const gone = new Promise<void>((res) => child.once('exit', (code, sig) => ((exited = `exited (${sig ?? code})`), res())));
  const fail = (what: string): Error => new Error(`${impl.name} at N=${n}: ${what}\n  last lines of ${log}:\n${tail(log)}`);
  try {
    // (a) spawn → first service in the kernel (node start + config load, whatever the implementation logs or
    // opens first), spawn → all of them; the first output line (and ipvs-ts's control socket) for the record.
    const marks = { outputS: NaN, controlS: NaN };
    const control = impl.control;
    const watch = (async () => {
      while (!exited && (Number.isNaN(marks.outputS) || (control !== undefined && Number.isNaN(marks.controlS)))) {
        const at = (performance.now() - t0) / 1000;
        if (Number.isNaN(marks.outputS) && statSync(log).size > 0) marks.outputS = at;
        if (control !== undefined && Number.isNaN(marks.controlS) && existsSync(control)) marks.controlS = at;
        await sleep(50);
      }
    })();
    const want = n * REAL_SERVERS + 1;
    const deadline = t0 + programTimeoutMs(n);
    let seen = kernelCounts();
    let lastFull = performance.now();
    let startS = NaN;
    let doneAt = NaN;
    const reads: number[] = [];
    // Exact counts: /proc/net/ip_vs is read in pages, and a table that changes between two pages (the implementation
    // still adding) can show an entry twice, so an over-count means "not settled yet", not "done".
    const complete = (): boolean => seen.destinations === want && seen.services === n + 1;
    while (!complete()) {
      if (exited) throw fail(`${exited} before programming was done (${seen.destinations}/${want} destinations)`);
      if (performance.now() > deadline) throw fail(`${seen.destinations}/${want} destinations after ${programTimeoutMs(n) / 1000} s`);
      await sleep(100);
      const quick = performance.now() - lastFull < 10 * seen.readMs
        && (await ipvs.destinations(lastId)).length === REAL_SERVERS && (await ipvs.destinations(CHECKED_ID)).length === 1;
      const quickAt = performance.now();
      if (quick || performance.now() - lastFull >= 10 * seen.readMs) {
        seen = kernelCounts();
        lastFull = performance.now();
        reads.push(seen.readMs);
        doneAt = quick ? quickAt : lastFull;
        if (Number.isNaN(startS) && seen.services + seen.destinations > 0) startS = (lastFull - t0) / 1000;
      }
    }
    const programS = (doneAt - t0) / 1000;
    if (seen.destinations !== want || seen.services !== n + 1) throw fail(`the kernel has ${seen.services} services, ${seen.destinations} destinations; expected ${n + 1}, ${want}`);
    const programCpuS = cpuSeconds(tree(pid));
    await Promise.race([watch, sleep(1_000)]);

    // (b) idle CPU and (d) RSS.
    await sleep(settleS * 1000);
    const procs = tree(pid);
    const c0 = cpuSeconds(procs);
    const byThread0 = cpuByThread(procs);
    const w0 = performance.now();
    const mono = (): string => String(process.hrtime.bigint() / 1000n);
    if (profile) process.stdout.write(`${impl.name}: idle window from ${mono()} µs (CLOCK_MONOTONIC, the profile's clock)\n`);
    const slices: string[] = [];
    for (let c = c0, t = w0; performance.now() - w0 < idleS * 1000 - 1; ) {
      await sleep(Math.min(sliceS * 1000, idleS * 1000 - (performance.now() - w0)));
      const c1 = cpuSeconds(procs);
      const t1 = performance.now();
      slices.push(((c1 - c) / ((t1 - t) / 1000)).toFixed(3));
      c = c1;
      t = t1;
    }
    if (profile) process.stdout.write(`${impl.name}: idle window to ${mono()} µs\n`);
    if (slices.length > 1) process.stdout.write(`${impl.name}: idle cores per ${sliceS} s from ${settleS} s after programming: ${slices.join(' ')}\n`);
    const windowS = (performance.now() - w0) / 1000;
    const idleCores = (cpuSeconds(procs) - c0) / windowS;
    const idleThreads = [...cpuByThread(procs)]
      .map(([comm, cpu]) => [comm, (cpu - (byThread0.get(comm) ?? 0)) / windowS] as const)
      .filter(([, cores]) => cores >= 0.0005)
      .sort((a, b) => b[1] - a[1])
      .map(([comm, cores]) => `${comm} ${cores.toFixed(3)}`)
      .join(', ');
    const rss = rssMb(procs);
    if (exited) throw fail(`${exited} during the idle window`);
    if (impl.control && scrapes) await scrapeFigures(impl.control, procs, ipvs);

    // (c) real server dies → removed, returns → back.
    const downS: number[] = [];
    const upS: number[] = [];
    const polls: number[] = [];
    const cpu0 = process.cpuUsage();
    const react0 = performance.now();
    try {
      if (!Number.isFinite(await until(ipvs, true, 'the checked real server in the kernel before the first kill', polls))) {
        throw new Error(`the checked real server not in the kernel within ${REACT_TIMEOUT_MS / 1000} s`);
      }
      for (let r = 0; r < rounds; r++) {
        await sleep(1_300);
        listener.down();
        downS.push(await until(ipvs, false, `round ${r + 1}: killed real server removed`, polls));
        if (!Number.isFinite(downS.at(-1)!)) break; // the state is unknown now: no more rounds
        await sleep(1_300);
        await listener.up();
        upS.push(await until(ipvs, true, `round ${r + 1}: revived real server back`, polls));
        if (!Number.isFinite(upS.at(-1)!)) break;
      }
    } catch (err) {
      throw fail((err as Error).message);
    }
    const pollerCpu = process.cpuUsage(cpu0);
    const pollerCores = (pollerCpu.user + pollerCpu.system) / 1e6 / ((performance.now() - react0) / 1000);
    const pollMs = polls.reduce((a, b) => a + b, 0) / polls.length;
    const programPollMs = reads.reduce((a, b) => a + b, 0) / Math.max(reads.length, 1);

    // Stop: SIGTERM, then every process of the tree by PID.
    const s0 = performance.now();
    child.kill('SIGTERM');
    await Promise.race([gone, sleep(STOP_MS)]);
    const stopS = exited ? (performance.now() - s0) / 1000 : NaN;
    return { idleThreads, startS, outputS: marks.outputS, controlS: marks.controlS, programS, programCpuS, idleCores, downS, upS, rssMb: rss, processes: procs.length, pollMs, pollerCores, programPollMs, stopS: stopS };
  } finally {
    await reap(pid, gone, exited !== undefined);
    listener.down();
    sh('ipvsadm -C');
  }
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const s = (x: number): string => (Number.isNaN(x) ? '–' : x === Infinity ? `> ${REACT_TIMEOUT_MS / 1000} s` : `${x.toFixed(2)} s`);
const ratio = (ka: number, ts: number): string =>
  !(ka > 0) || !Number.isFinite(ka) || Number.isNaN(ts) ? '–' : ts === Infinity ? `> ${(REACT_TIMEOUT_MS / 1000 / ka).toFixed(1)}×` : `${(ts / ka).toFixed(1)}×`;
const cores = (x: number): string => (Number.isNaN(x) ? '–' : `${x.toFixed(3)} cores`);
const mb = (x: number): string => (Number.isNaN(x) ? '–' : `${x.toFixed(1)} MB`);
const NONE: Figures = {
  idleThreads: '', startS: NaN, outputS: NaN, controlS: NaN, programS: NaN, programCpuS: NaN, idleCores: NaN, downS: [], upS: [],
  rssMb: NaN, processes: 0, pollMs: NaN, pollerCores: NaN, programPollMs: NaN, stopS: NaN,
};

/** What the table leaves out: every round, the pollers' cost, the stop, where the idle CPU went. */
function details(x: Figures): string {
  const list = (xs: number[]): string => xs.map(s).join(', ');
  return [
    `first output line ${s(x.outputS)}${Number.isNaN(x.controlS) ? '' : `, control socket ${s(x.controlS)}`}`,
    `down ${list(x.downS)}, up ${list(x.upS)}`,
    `netlink poll ${x.pollMs.toFixed(1)} ms on average (this bench used ${x.pollerCores.toFixed(2)} cores while polling)`,
    `/proc/net/ip_vs read ${x.programPollMs.toFixed(0)} ms on average while programming`,
    `SIGTERM → exit ${s(x.stopS)}`,
    `idle cores by thread: ${x.idleThreads || 'none'}`,
  ].join('; ');
}

/** What a Prometheus scrape and an `ipvs-ts status` cost the daemon at this size, and the two ways to read counters. */
async function scrapeFigures(control: string, procs: readonly number[], ipvs: IpvsClient): Promise<void> {
  const { askDaemon } = await import('../src/control/client.ts');
  const { get } = await import('node:http');
  const timed = async (what: string, f: () => Promise<number>): Promise<void> => {
    const c0 = cpuSeconds(procs);
    const t0 = performance.now();
    const bytes = await f();
    process.stdout.write(`ipvs-ts ${what}: ${((performance.now() - t0) / 1000).toFixed(2)} s wall, daemon CPU ${(cpuSeconds(procs) - c0).toFixed(2)} s, ${(bytes / 1e6).toFixed(1)} MB\n`);
  };
  const scrape = () => new Promise<number>((resolve, reject) => {
    get('http://127.0.0.1:19650/metrics', (res) => {
      let n = 0;
      let age = '';
      res.on('data', (c: Buffer) => {
        n += c.length;
        age ||= /^ipvs_ts_kernel_counters_age_seconds (\S+)$/m.exec(c.toString('latin1'))?.[1] ?? '';
      });
      res.on('end', () => {
        if (age) process.stdout.write(`  (counters age ${age} s)\n`);
        resolve(n);
      });
    }).on('error', reject);
  });
  for (let i = 1; i <= scrapes; i++) {
    await timed(`GET /metrics #${i}`, scrape);
    await timed(`status #${i}`, async () => JSON.stringify(await askDaemon(control, { cmd: 'status' }, 600_000)).length);
    let counters: Record<string, number> | undefined;
    await timed(`status --summary #${i}`, async () => {
      const reply = await askDaemon(control, { cmd: 'status', summary: true }, 600_000);
      counters = (reply as { status?: { counters?: Record<string, number> } }).status?.counters;
      return JSON.stringify(reply).length;
    });
    // How far verification got: services read back since the start, and the last full sweep's length.
    if (counters) process.stdout.write(`  (${(performance.now() / 1000).toFixed(0)} s into the bench: servicesVerified ${counters.servicesVerified}, lastSweepMs ${counters.lastSweepMs})\n`);
  }
  process.stdout.write(`ipvs-ts RSS after the scrapes: ${rssMb(procs).toFixed(0)} MB\n`);
  const cpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  let c0 = cpu();
  let t0 = performance.now();
  const table = await ipvs.table();
  process.stdout.write(`counters read in-process, one full dump: ${((performance.now() - t0) / 1000).toFixed(2)} s wall, ${(cpu() - c0).toFixed(2)} s CPU\n`);
  c0 = cpu();
  t0 = performance.now();
  for (const svc of table.services) await ipvs.destinations(svc.service.id);
  process.stdout.write(`counters read in-process, one GET_DEST dump per service in turn (${table.services.length}): ${((performance.now() - t0) / 1000).toFixed(2)} s wall, ${(cpu() - c0).toFixed(2)} s CPU\n`);
}

rmSync(DIR, { recursive: true, force: true });
mkdirSync(join(DIR, 'run'), { recursive: true });
if (installed) install();
if (profile) mkdirSync(PROFILES, { recursive: true });
sh('modprobe -a ip_vs ip_vs_wlc');
sh(`ip addr add ${CHECKED_RS.address}/32 dev lo`);
const listener = new Listener();
let ipvs = await IpvsClient.open();
try {
  const ka = sh('keepalived --version 2>&1').split('\n')[0]!.trim();
  const node = process.version;
  process.stdout.write(`director-scale in the VM (kernel ${sh('uname -r').trim()}, ${ka}, ipvs-ts on node ${node}), ${rounds} kill/revive rounds, ${idleS} s idle window after ${settleS} s\n`);
  for (const impl of implNames.map(implOf)) if (impl.control !== undefined) await warmUp(impl);
  for (const n of counts) {
    const conf = join(DIR, `keepalived-${n}.conf`);
    writeFileSync(conf, config(n));
    const want = n * REAL_SERVERS + 1;
    const f: Figures[] = [];
    for (const impl of implNames.map(implOf)) {
      ipvs = await freshIpvs(ipvs);
      process.stderr.write(`director-scale: N=${n} ${impl.name}…\n`);
      try {
        f.push(await measure(impl, n, conf, listener, ipvs));
        process.stdout.write(`${impl.name} at N=${n}: ${details(f.at(-1)!)}\n`);
        if (floorRuns && impl.node) process.stdout.write(floor(impl, conf, f.at(-1)!.programS - f.at(-1)!.startS));
      } catch (err) {
        // One implementation failing still leaves the other's figures (and "–" for its own) in the table.
        process.stderr.write(`director-scale: ${(err as Error).message}\n`);
        process.exitCode = 1;
        f.push(NONE);
      }
    }
    // One column per implementation; every one after the first also gets its ratio to the first.
    const rows: [string, (x: Figures) => number, (v: number) => string][] = [
      [`spawn → first service in the kernel (ipvs-ts: node start + config load)`, (x) => x.startS, s],
      [`program ${want.toLocaleString('en')} destinations from empty (spawn → all in the kernel)`, (x) => x.programS, s],
      [`… of which after the first service`, (x) => x.programS - x.startS, s],
      [`CPU until programmed`, (x) => x.programCpuS, s],
      [`CPU while nothing happens (${idleS} s)`, (x) => x.idleCores, cores],
      [`real server dies → removed from the kernel (median of ${rounds})`, (x) => median(x.downS), s],
      [`real server returns → back in the kernel (median of ${rounds})`, (x) => median(x.upS), s],
      [`RSS after programming (${f.map((x) => x.processes).join(' / ')} processes)`, (x) => x.rssMb, mb],
    ];
    const base = f[0]!;
    const head = implNames.map((name, i) => (i === 0 ? ` ${name} |` : ` ${name} | ratio |`)).join('');
    const rule = implNames.map((_, i) => (i === 0 ? '---:|' : '---:|---:|')).join('');
    process.stdout.write(`\nN = ${n.toLocaleString('en')} virtual servers × ${REAL_SERVERS} real servers + 1 checked\n\n| |${head}\n|---|${rule}\n`);
    for (const [label, get, show] of rows) {
      const cells = f.map((x, i) => (i === 0 ? show(get(x)) : `${show(get(x))} | ${ratio(get(base), get(x))}`));
      process.stdout.write(`| ${label} | ${cells.join(' | ')} |\n`);
    }
    process.stdout.write('\n');
  }
} finally {
  listener.down();
  ipvs.close();
  try {
    sh(`ip addr del ${CHECKED_RS.address}/32 dev lo; ipvsadm -C`);
  } catch {
    // the VM is thrown away anyway
  }
}
