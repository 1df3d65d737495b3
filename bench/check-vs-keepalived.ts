// keepalived 2.2.7's checker and `ipvs-ts check` on the same load, in one run of the IPVS VM (keepalived's checker
// programs IPVS, which the host kernel lacks):
//
//   node bench/check-vs-keepalived.ts [--loads 1000,5000,10000] [--types tcp,http] [--warmup S] [--window S]
//                                     [--checkers keepalived,ipvs-ts] [--ipvs-ts-args '--concurrency 50'] [--strace]
//                                     [--together WINDOWS] [--turns ROUNDS] [--settle S]
//                                     [--pin CHECKERS_CPU,LISTENER_CPU | none] [--slice MS]
//
// A checker `ipvs-ts:FLAGS` runs ipvs-ts under node FLAGS ('+' for a space), e.g. `--checkers
// keepalived,ipvs-ts,ipvs-ts:--single-threaded`: V8 options that NODE_OPTIONS does not take; `ipvs-ts@TREE[:FLAGS]`
// runs the checkout in TREE (a worktree inside the project), e.g. the tree before a change against the one after.
//
// On the host it compiles bench/check-listener.c, boots the VM and runs itself there (IPVS_TS_IN_VM=1). In the
// guest, for each check type and load, each checker in turn runs the same keepalived.conf: virtual servers of 100
// real servers each, 127.1.X.Y, every one with a TCP_CHECK, or an HTTP_GET with a digest, at delay_loop 1,
// connect_timeout 3, retry 0 (warmup defaults to delay_loop: first checks spread over the first second). The real
// servers are one C listener (accept-and-close on 8080, a fixed 60-byte page on 8081), the same for both, so
// both are measured from outside the same way, `--warmup` seconds after every real server has been checked once,
// over `--window` seconds:
//   - checks/s: connections the listener accepted;
//   - CPU-s per 1,000 checks: the checker process's utime+stime (/proc/PID/stat; keepalived's checker child, the
//     node process of ipvs-ts) over the window;
//   - lateness p50/p99: per real server, the gap between two of its checks minus delay_loop, i.e. start lateness
//     plus the check's own duration (both checkers plan the next check from the previous one's completion);
//     with --turns, from the checker's release on (the listener forgets the last checks then, SIGHUP);
//   - context switches per 1,000 checks, voluntary (a thread blocked: the wake-ups) and not, over all the checker's
//     threads (/proc/PID/task/*/status): under TCG every wake-up of a process is expensive;
//   - with --strace, a second window under `strace -c -f` (slower, so only its counts mean anything): the system
//     calls per 1,000 checks, printed as one more JSON line per checker.
// With --together two checkers run at once on real servers of their own, measured over the same windows (together()).
// With --turns the checkers take turns, each alone on its vCPU while measured (turns()).
// The checker `floor` is bench/tcp-floor.ts: TCP_CHECK's system calls from JavaScript with nothing around them.
// --pin (default 0,1) holds every checker on the guest's vCPU 0 and the listener on vCPU 1 (see pinned()); --slice
// sets the guest scheduler's time slice (see sliceTasks()).
// Only ratios from one run mean anything: the guest is emulated (single-threaded TCG), several times slower.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    loads: { type: 'string', default: '1000,5000,10000' },
    types: { type: 'string', default: 'tcp,http' },
    warmup: { type: 'string', default: '20' },
    window: { type: 'string', default: '20' },
    checkers: { type: 'string', default: 'keepalived,ipvs-ts' },
    'ipvs-ts-args': { type: 'string', default: '' },
    strace: { type: 'boolean', default: false },
    together: { type: 'string', default: '0' },
    turns: { type: 'string', default: '0' },
    settle: { type: 'string', default: '5' },
    pin: { type: 'string', default: '0,1' },
    slice: { type: 'string', default: '' },
  },
});
const root = fileURLToPath(new URL('..', import.meta.url));
const listenerBin = `${root}.cache/bench/check-listener`;

if (!process.env.IPVS_TS_IN_VM) {
  mkdirSync(`${root}.cache/bench`, { recursive: true });
  execFileSync('cc', ['-O2', '-Wall', '-o', listenerBin, `${root}bench/check-listener.c`], { stdio: 'inherit' });
  const args = process.argv.slice(2).map((a) => `'${a}'`).join(' ');
  const { relayInVm } = await import('../test/kernel/vm.ts');
  await relayInVm({ command: `node bench/check-vs-keepalived.ts ${args}`, timeoutMs: 3_600_000, memoryMb: 2048 }, 'bench');
}

const loads = values.loads.split(',').map(Number);
const types = values.types.split(',') as ('tcp' | 'http')[];
const warmupS = Number(values.warmup);
const windowS = Number(values.window);
const rounds = Number(values.together);
const turnRounds = Number(values.turns);
const PAGE = 'ok\n'.repeat(20);
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
/**
 * The guest's two vCPUs take turns on one host thread (single-threaded TCG), and its clock is the host's: a task
 * running on one vCPU is charged for the time the host spends running the other as well. With three busy processes
 * (two checkers and the listener) left to the guest's scheduler, a checker that shares a vCPU with the listener is
 * charged only for its turns, one alone on a vCPU for that vCPU's wall time, and which was which was chance.
 * Pinned, both checkers share vCPU 0 (turns under one scheduler, each charged for its own) and the listener has
 * vCPU 1 to itself.
 */
const [checkerCpu, listenerCpu] = values.pin === 'none' ? [] : values.pin.split(',');
const pinned = (cpu: string | undefined, command: string) => (cpu === undefined ? command : `taskset -c ${cpu} ${command}`);
/**
 * --slice MS: two checkers pinned to one vCPU take turns at the guest scheduler's pace (CFS: a few ms, ~70
 * preemptions a second each), and under TCG a switch between processes costs node more than keepalived (likely the
 * emulated TLB, emptied at every change of address space, and node's larger heap and code to refill; not traced).
 * Slices of MS ms (and no preemption on wake-up) make the turns rarer while still
 * interleaving both many times per window, so the guest's phases still fall on both.
 */
function sliceTasks(ms: number): void {
  const ns = String(ms * 1_000_000);
  sh(`mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug; cd /sys/kernel/debug/sched && echo ${2 * ms * 1_000_000} > latency_ns && echo ${ns} > min_granularity_ns && echo ${ns} > wakeup_granularity_ns`);
}
const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));
const sh = (cmd: string) => execFileSync('/bin/sh', ['-c', cmd], { encoding: 'utf8' });

function config(type: 'tcp' | 'http', n: number, net: 1 | 2 = 1): string {
  const digest = createHash('md5').update(PAGE).digest('hex');
  const check = type === 'tcp'
    ? '    TCP_CHECK {\n      connect_port 8080\n      connect_timeout 3\n      retry 0\n    }\n'
    : `    HTTP_GET {\n      url {\n        path /health\n        digest ${digest}\n      }\n      connect_port 8081\n      connect_timeout 3\n      retry 0\n    }\n`;
  const out = ['global_defs {\n  router_id bench\n}\n'];
  for (let v = 0; v * 100 < n; v++) {
    out.push(`virtual_server 10.${98 + net}.${v >> 8}.${v & 255} 80 {\n  delay_loop 1\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n`);
    for (let i = v * 100; i < Math.min(n, (v + 1) * 100); i++) {
      out.push(`  real_server 127.${net}.${1 + Math.floor(i / 250)}.${1 + (i % 250)} ${type === 'tcp' ? 8080 : 8081} {\n    weight 1\n${check}  }\n`);
    }
    out.push('}\n');
  }
  return out.join('');
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    throw new Error(`checker process ${pid} is gone; its log: ${logs.get(pid) ?? '?'}${logs.has(pid) ? `\n${sh(`tail -20 ${logs.get(pid)}`)}` : ''}\nkernel:\n${sh('dmesg | tail -8')}`);
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** Voluntary and involuntary context switches summed over every thread of a process. */
function contextSwitches(pid: number): { voluntary: number; involuntary: number } {
  let voluntary = 0;
  let involuntary = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      voluntary += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      involuntary += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    } catch {
      // a thread that ended while we read
    }
  }
  return { voluntary, involuntary };
}

/** System calls per 1,000 checks over one more window, the checker traced by `strace -c -f`. */
async function straceWindow(pid: number, type: 'tcp' | 'http', impl: string): Promise<Record<string, unknown>> {
  const out = `/tmp/strace-${impl}-${type}.txt`;
  const tracer = spawn('strace', ['-c', '-f', '-o', out, '-p', String(pid)], { stdio: 'ignore' });
  await sleep(2);
  listener.kill('SIGUSR1');
  await sleep(windowS);
  listener.kill('SIGUSR2');
  const w = await nextLine();
  const exited = new Promise((r) => tracer.once('exit', r));
  tracer.kill('SIGINT');
  await exited;
  const accepted = (w[type] as PortWindow).accepted;
  const calls: Record<string, number> = {};
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    // % time, seconds, usecs/call, calls, [errors,] syscall
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || !/^\d/.test(f[0]!) || f.at(-1) === 'total') continue;
    calls[f.at(-1)!] = +((Number(f[3]) / accepted) * 1000).toFixed(0);
  }
  return { checker: impl, strace: 'syscalls per 1,000 checks', checksPerS: Math.round(accepted / w.seconds), calls };
}

/** keepalived's checker is the child of the process we start. */
async function checkerPid(proc: ChildProcess, impl: string): Promise<number> {
  if (impl !== 'keepalived') return proc.pid!;
  for (let i = 0; i < 200; i++) {
    const kids = readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, 'utf8').trim();
    if (kids) return Number(kids.split(' ')[0]);
    await sleep(0.1);
  }
  throw new Error('keepalived started no checker process');
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 120_000);
  await exited;
  clearTimeout(timer);
}

interface Window { seconds: number; listenerCpuS: number; [port: string]: PortWindow | number }
interface PortWindow { accepted: number; distinct: number; intervals: number; lateP50ms: number; lateP99ms: number }

// HTTP_GET connections stay open at the listener until their request arrives: thousands at once at 10,000 real
// servers, and more while a checker is held with SIGSTOP (--turns). With the limit it inherited, HTTP 10,000 under
// --turns left 8,940 of ipvs-ts's first checks without a connection (its accepts failing, the SYNs dropped).
const listener = spawn('/bin/sh', ['-c', `ulimit -n 65536; exec ${pinned(listenerCpu, listenerBin)}`], { stdio: ['ignore', 'pipe', 'inherit'] });
const lines = createInterface({ input: listener.stdout! })[Symbol.asyncIterator]();
const nextLine = async () => JSON.parse((await lines.next()).value as string) as Window;
await nextLine();

/** Each checker's log, by its pid. */
const logs = new Map<number, string>();

interface Running { readonly impl: string; readonly proc: ChildProcess; readonly pid: number; readonly allCheckedAfterS: number | null; readonly log: string; readonly port: string }

/** Starts a checker on the load (its real servers 127.NET.X.Y) and waits until every real server has been checked once. */
async function launch(type: 'tcp' | 'http', n: number, impl: string, net: 1 | 2 = 1): Promise<Running> {
  const conf = `/tmp/bench-${type}-${n}-${net}.conf`;
  writeFileSync(conf, config(type, n, net));
  const port = net === 1 ? type : `${type}2`;
  const tag = `${impl.replace(/[^\w-]/g, '_')}-${net}`;
  // In the project (the guest's /tmp goes with the VM), so a checker that died can be looked into afterwards.
  const log = `${root}.cache/bench/${tag}-${type}-${n}.log`;
  // `ipvs-ts:FLAGS` runs ipvs-ts's node with FLAGS (V8 options NODE_OPTIONS does not take, e.g. --single-threaded).
  // `ipvs-ts@TREE` runs another checkout's (a worktree inside the project, which is all the guest sees).
  const [, tree = '.', flags = ''] = /^ipvs-ts(?:@([^:]+))?(?::(.*))?$/.exec(impl) ?? [];
  const nodeFlags = flags.replaceAll('+', ' ');
  // Each keepalived gets its own pid files, so two can run side by side (--together).
  const proc = impl === 'keepalived'
    ? spawn('sh', ['-c', `ulimit -n 65536; exec ${pinned(checkerCpu, 'keepalived')} --check --dont-fork --no-syslog --log-console -f ${conf} -p /tmp/ka-${tag}.pid -c /tmp/ka-check-${tag}.pid >${log} 2>&1`], { stdio: 'ignore' })
    : impl === 'floor'
    ? spawn('sh', ['-c', `ulimit -n 65536; exec ${pinned(checkerCpu, process.execPath)} ${root}bench/tcp-floor.ts ${conf} >${log} 2>&1`], { stdio: 'ignore' })
    : spawn('sh', ['-c', `ulimit -n 65536; exec ${pinned(checkerCpu, process.execPath)} ${nodeFlags} ${root}${tree}/bin/ipvs-ts.js check ${values['ipvs-ts-args']} -f ${conf} >${log} 2>&1`], { stdio: 'ignore' });
  try {
    const pid = await checkerPid(proc, impl);
    logs.set(pid, log);
    // Node starts slowly in the emulated guest (tens of seconds with a cold compile cache), keepalived programs
    // IPVS first: the warm-up counts from the moment every real server has been checked once.
    const started = performance.now();
    listener.kill('SIGUSR1');
    // A checker that cannot keep the pace may take very long to reach the last one: then measure anyway.
    let allCheckedAfterS: number | null = null;
    while (allCheckedAfterS === null && performance.now() - started < 300_000) {
      await sleep(2);
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${impl} exited; end of ${log}:\n${sh(`tail -20 ${log}`)}`);
      listener.kill('SIGUSR2');
      if (((await nextLine())[port] as PortWindow).distinct >= n) allCheckedAfterS = +((performance.now() - started) / 1000).toFixed(1);
    }
    await sleep(warmupS);
    return { impl, proc, pid, allCheckedAfterS, log, port };
  } catch (err) {
    await stop(proc);
    throw err;
  }
}

/** One window over running checkers: each one's row, all measured over the same seconds. */
async function window(type: 'tcp' | 'http', n: number, checkers: readonly Running[]): Promise<Record<string, number | string | null>[]> {
  listener.kill('SIGUSR1');
  const cpu0 = checkers.map((c) => cpuSeconds(c.pid));
  const cs0 = checkers.map((c) => contextSwitches(c.pid));
  await sleep(windowS);
  listener.kill('SIGUSR2');
  const cpu = checkers.map((c, i) => cpuSeconds(c.pid) - cpu0[i]!);
  const cs = checkers.map((c) => contextSwitches(c.pid));
  const w = await nextLine();
  return checkers.map((c, i) => {
    const port = w[c.port] as PortWindow;
    if (port.accepted === 0) process.stderr.write(`${c.impl}: no check reached the listener; end of ${c.log}:\n${sh(`tail -20 ${c.log}`)}`);
    return {
      type,
      realServers: n,
      checker: c.impl,
      allCheckedAfterS: c.allCheckedAfterS,
      checksPerS: Math.round(port.accepted / w.seconds),
      cpuSPer1000: +((cpu[i]! / port.accepted) * 1000).toFixed(3),
      coreShare: +(cpu[i]! / w.seconds).toFixed(2),
      lateP50ms: port.lateP50ms,
      lateP99ms: port.lateP99ms,
      listenerCpuS: w.listenerCpuS,
      voluntaryCsPer1000: Math.round(((cs[i]!.voluntary - cs0[i]!.voluntary) / port.accepted) * 1000),
      involuntaryCsPer1000: Math.round(((cs[i]!.involuntary - cs0[i]!.involuntary) / port.accepted) * 1000),
    };
  });
}

async function finish(c: Running): Promise<void> {
  await stop(c.proc);
  // keepalived removes its virtual servers at exit; make sure nothing is left for the next run.
  sh('ipvsadm -C 2>/dev/null || true');
}

async function measure(type: 'tcp' | 'http', n: number, impl: string): Promise<Record<string, unknown>> {
  const c = await launch(type, n, impl);
  try {
    const [row] = await window(type, n, [c]);
    return { ...row, ...(values.strace ? { strace: await straceWindow(c.pid, type, impl) } : {}) };
  } finally {
    await finish(c);
  }
}

/**
 * --together R: the guest runs in slow and fast phases, from seconds to minutes (keepalived's own CPU per check
 * moved by 2x within one VM run), so two checkers measured one after the other are measured on different machines.
 * Here both run at once, each on its own real servers (the first checker's 127.1.X.Y, the second's 127.2.X.Y, the
 * same listener), started and warmed up one after the other, then measured over R windows of the same seconds:
 * every phase of the guest falls on both alike. They share the guest's CPU, so neither may keep the pace it would
 * alone; CPU per check is what is compared, per window and over the medians.
 */
async function together(type: 'tcp' | 'http', n: number, impls: string[], rounds: number): Promise<void> {
  if (impls.length !== 2) throw new Error('--together runs exactly two checkers');
  const running: Running[] = [];
  try {
    for (const [i, impl] of impls.entries()) running.push(await launch(type, n, impl, i === 0 ? 1 : 2));
    const perWindow: number[] = [];
    const cpu: number[][] = [[], []];
    const pace: number[][] = [[], []];
    for (let r = 0; r < rounds; r++) {
      const rows = await window(type, n, running);
      for (const [i, row] of rows.entries()) {
        console.log(JSON.stringify({ window: r + 1, ...row }));
        cpu[i]!.push(row.cpuSPer1000 as number);
        pace[i]!.push(row.checksPerS as number);
      }
      perWindow.push(cpu[1]!.at(-1)! / cpu[0]!.at(-1)!);
    }
    console.log(JSON.stringify({
      type, realServers: n, windows: rounds, together: true, ratio: `${impls[1]} / ${impls[0]}`,
      cpuSPer1000Medians: [median(cpu[0]!), median(cpu[1]!)],
      cpuSPer1000: +(median(cpu[1]!) / median(cpu[0]!)).toFixed(2),
      perWindowMedian: +median(perWindow).toFixed(2),
      perWindow: perWindow.map((v) => +v.toFixed(2)),
      checksPerS: +(median(pace[1]!) / median(pace[0]!)).toFixed(2),
    }));
  } finally {
    for (const c of running) await finish(c);
  }
}

/**
 * --turns R: each checker alone on its vCPU while it is measured, as it runs on a director, and all measured
 * within seconds of each other, so a phase of the guest falls on each. All are started (each warmed up while the
 * others are held with SIGSTOP); then, R times, each in turn is let go, given --settle seconds to work off what
 * piled up while it was held (every check due at once, deadlines passed), measured over one window, and held again.
 */
async function turns(type: 'tcp' | 'http', n: number, impls: string[], rounds: number): Promise<void> {
  if (impls.length < 2) throw new Error('--turns runs two checkers or more');
  const settleS = Number(values.settle);
  const running: Running[] = [];
  try {
    // Only one runs at a time, so every checker after the first can share the second group of real servers.
    for (const [i, impl] of impls.entries()) {
      running.push(await launch(type, n, impl, i === 0 ? 1 : 2));
      process.kill(running.at(-1)!.pid, 'SIGSTOP');
    }
    const cpu: number[][] = impls.map(() => []);
    const perRound: number[][] = impls.map(() => []);
    for (let r = 0; r < rounds; r++) {
      for (const [i, c] of running.entries()) {
        // Lateness counts from the release: a real server left unchecked through the settle would otherwise report
        // the whole hold as one late check.
        listener.kill('SIGHUP');
        process.kill(c.pid, 'SIGCONT');
        await sleep(settleS);
        const [row] = await window(type, n, [c]);
        process.kill(c.pid, 'SIGSTOP');
        console.log(JSON.stringify({ round: r + 1, ...row }));
        cpu[i]!.push(row!.cpuSPer1000 as number);
        perRound[i]!.push(cpu[i]!.at(-1)! / cpu[0]!.at(-1)!);
      }
    }
    for (let i = 1; i < impls.length; i++) {
      console.log(JSON.stringify({
        type, realServers: n, rounds, turns: true, ratio: `${impls[i]} / ${impls[0]}`,
        cpuSPer1000Medians: [median(cpu[0]!), median(cpu[i]!)],
        cpuSPer1000: +(median(cpu[i]!) / median(cpu[0]!)).toFixed(2),
        perRoundMedian: +median(perRound[i]!).toFixed(2),
        perRound: perRound[i]!.map((v) => +v.toFixed(2)),
      }));
    }
  } finally {
    for (const c of running) {
      // A held checker would never act on the SIGTERM that stops it.
      if (c.proc.exitCode === null && c.proc.signalCode === null) process.kill(c.pid, 'SIGCONT');
      await finish(c);
    }
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

try {
  sh('modprobe ip_vs 2>/dev/null || true; sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65535" net.core.somaxconn=65535');
  if (values.slice) sliceTasks(Number(values.slice));
  console.log(`guest: ${sh('uname -r').trim()}, ${sh('nproc').trim()} vCPUs, keepalived ${sh('keepalived --version 2>&1 | head -1').trim()}, node ${process.version}; warm-up ${warmupS} s, window ${windowS} s, checkers on vCPU ${checkerCpu ?? 'any'}, listener on ${listenerCpu ?? 'any'}, time slice ${values.slice ? `${values.slice} ms` : 'the kernel\'s'}; ipvs-ts check ${values['ipvs-ts-args'] || '(defaults)'}`);
  for (const type of types) {
    for (const n of loads) {
      if (rounds > 0) {
        await together(type, n, values.checkers.split(','), rounds);
        continue;
      }
      if (turnRounds > 0) {
        await turns(type, n, values.checkers.split(','), turnRounds);
        continue;
      }
      const pair: Record<string, unknown>[] = [];
      for (const impl of values.checkers.split(',')) {
        const row = await measure(type, n, impl);
        console.log(JSON.stringify(row));
        pair.push(row);
      }
      // Every checker after the first against the first (keepalived, by default).
      const [ka, ...rest] = pair as Record<string, number>[];
      for (const ours of rest) {
        const ratio = { type, realServers: n, ratio: `${ours.checker} / ${ka!.checker}`, checksPerS: +(ours.checksPerS! / ka!.checksPerS!).toFixed(2), cpuSPer1000: +(ours.cpuSPer1000! / ka!.cpuSPer1000!).toFixed(2) };
        console.log(JSON.stringify(ratio));
      }
    }
  }
} finally {
  listener.kill('SIGKILL');
}
process.exit(0);
