// keepalived 2.2.7's checker and `ipvs-ts check` on the same load, in one run of the IPVS VM (keepalived's checker
// programs IPVS, which the host kernel lacks):
//
//   node bench/check-vs-keepalived.ts [--loads 1000,5000,10000] [--types tcp,http] [--warmup S] [--window S]
//                                     [--checkers keepalived,ipvs-ts] [--ipvs-ts-args '--concurrency 50'] [--strace]
//
// A checker `ipvs-ts:FLAGS` runs ipvs-ts under node FLAGS ('+' for a space), e.g. `--checkers
// keepalived,ipvs-ts,ipvs-ts:--single-threaded`: V8 options that NODE_OPTIONS does not take.
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
//   - context switches per 1,000 checks, voluntary (a thread blocked: the wake-ups) and not, over all the checker's
//     threads (/proc/PID/task/*/status): under TCG every wake-up of a process is expensive;
//   - with --strace, a second window under `strace -c -f` (slower, so only its counts mean anything): the system
//     calls per 1,000 checks, printed as one more JSON line per checker.
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
const PAGE = 'ok\n'.repeat(20);
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));
const sh = (cmd: string) => execFileSync('/bin/sh', ['-c', cmd], { encoding: 'utf8' });

function config(type: 'tcp' | 'http', n: number): string {
  const digest = createHash('md5').update(PAGE).digest('hex');
  const check = type === 'tcp'
    ? '    TCP_CHECK {\n      connect_port 8080\n      connect_timeout 3\n      retry 0\n    }\n'
    : `    HTTP_GET {\n      url {\n        path /health\n        digest ${digest}\n      }\n      connect_port 8081\n      connect_timeout 3\n      retry 0\n    }\n`;
  const out = ['global_defs {\n  router_id bench\n}\n'];
  for (let v = 0; v * 100 < n; v++) {
    out.push(`virtual_server 10.99.${v >> 8}.${v & 255} 80 {\n  delay_loop 1\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n`);
    for (let i = v * 100; i < Math.min(n, (v + 1) * 100); i++) {
      out.push(`  real_server 127.1.${1 + Math.floor(i / 250)}.${1 + (i % 250)} ${type === 'tcp' ? 8080 : 8081} {\n    weight 1\n${check}  }\n`);
    }
    out.push('}\n');
  }
  return out.join('');
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
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
  const accepted = w[type].accepted;
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

interface Window { seconds: number; listenerCpuS: number; tcp: PortWindow; http: PortWindow }
interface PortWindow { accepted: number; distinct: number; intervals: number; lateP50ms: number; lateP99ms: number }

const listener = spawn(listenerBin, [], { stdio: ['ignore', 'pipe', 'inherit'] });
const lines = createInterface({ input: listener.stdout! })[Symbol.asyncIterator]();
const nextLine = async () => JSON.parse((await lines.next()).value as string) as Window;
await nextLine();

async function measure(type: 'tcp' | 'http', n: number, impl: string): Promise<Record<string, unknown>> {
  const conf = `/tmp/bench-${type}-${n}.conf`;
  writeFileSync(conf, config(type, n));
  const log = `/tmp/bench-${impl.replace(/[^\w-]/g, '_')}-${type}-${n}.log`;
  // `ipvs-ts:FLAGS` runs ipvs-ts's node with FLAGS (V8 options NODE_OPTIONS does not take, e.g. --single-threaded).
  const nodeFlags = impl.startsWith('ipvs-ts:') ? impl.slice('ipvs-ts:'.length).replaceAll('+', ' ') : '';
  const proc = impl === 'keepalived'
    ? spawn('sh', ['-c', `ulimit -n 65536; exec keepalived --check --dont-fork --no-syslog --log-console -f ${conf} -p /tmp/ka.pid -c /tmp/ka-check.pid >${log} 2>&1`], { stdio: 'ignore' })
    : spawn('sh', ['-c', `ulimit -n 65536; exec ${process.execPath} ${nodeFlags} ${root}bin/ipvs-ts.js check ${values['ipvs-ts-args']} -f ${conf} >${log} 2>&1`], { stdio: 'ignore' });
  try {
    const pid = await checkerPid(proc, impl);
    // Node starts slowly in the emulated guest (tens of seconds with a cold compile cache), keepalived programs
    // IPVS first: the warm-up counts from the moment every real server has been checked once.
    const started = performance.now();
    listener.kill('SIGUSR1');
    // A checker that cannot keep the pace may take very long to reach the last one: then measure anyway.
    let startS: number | null = null;
    while (startS === null && performance.now() - started < 300_000) {
      await sleep(2);
      listener.kill('SIGUSR2');
      if ((await nextLine())[type].distinct >= n) startS = +((performance.now() - started) / 1000).toFixed(1);
    }
    await sleep(warmupS);
    listener.kill('SIGUSR1');
    const cpu0 = cpuSeconds(pid);
    const cs0 = contextSwitches(pid);
    await sleep(windowS);
    listener.kill('SIGUSR2');
    const cpu = cpuSeconds(pid) - cpu0;
    const cs = contextSwitches(pid);
    const w = await nextLine();
    const port = w[type];
    if (port.accepted === 0) process.stderr.write(`${impl}: no check reached the listener; end of ${log}:\n${sh(`tail -20 ${log}`)}`);
    return {
      type,
      realServers: n,
      checker: impl,
      allCheckedAfterS: startS,
      checksPerS: Math.round(port.accepted / w.seconds),
      cpuSPer1000: +((cpu / port.accepted) * 1000).toFixed(3),
      coreShare: +(cpu / w.seconds).toFixed(2),
      lateP50ms: port.lateP50ms,
      lateP99ms: port.lateP99ms,
      listenerCpuS: w.listenerCpuS,
      voluntaryCsPer1000: Math.round(((cs.voluntary - cs0.voluntary) / port.accepted) * 1000),
      involuntaryCsPer1000: Math.round(((cs.involuntary - cs0.involuntary) / port.accepted) * 1000),
      ...(values.strace ? { strace: await straceWindow(pid, type, impl) } : {}),
    };
  } finally {
    await stop(proc);
    // keepalived removes its virtual servers at exit; make sure nothing is left for the next run.
    sh('ipvsadm -C 2>/dev/null || true');
  }
}

try {
  sh('modprobe ip_vs 2>/dev/null || true; sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65535" net.core.somaxconn=65535');
  console.log(`guest: ${sh('uname -r').trim()}, ${sh('nproc').trim()} vCPUs, keepalived ${sh('keepalived --version 2>&1 | head -1').trim()}, node ${process.version}; warm-up ${warmupS} s, window ${windowS} s; ipvs-ts check ${values['ipvs-ts-args'] || '(defaults)'}`);
  for (const type of types) {
    for (const n of loads) {
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
