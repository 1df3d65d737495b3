// Checker benchmark (not part of npm test): real servers on loopback in a child process, the checkers here as the
// daemon runs them (a runner per virtual server of 100 real servers, all on one pool).
// Phases: `sched` the TCP population with a checker that answers at once (the runner's own cost: scheduler, timer,
// p-limit, events), `tcp-netsocket` TCP_CHECKs through the former net.Socket path (bench/tcp-net-socket.ts) and
// `tcp` through the bare non-blocking connects (src/check/tcp-connect.ts), with their ratio, `http` HTTP_GETs (with
// digest, so bodies are read), then tcp and http together, all at delay_loop 1 s with warmup 1 s. ROUNDS=n repeats
// the two TCP phases n times, alternating, so load on a shared machine falls on both paths alike. For each phase, after a warm-up, it measures over a window: checks/s, this
// process's CPU (user+sys) per 1,000 checks and as a share of one core, RSS, and scheduling lateness (actual start
// − planned start) p50/p99/max.
// Run: [ROUNDS=1] [SKIP_SCHED=1] node bench/check-scale.ts [tcpCount=10000] [httpCount=2000] [windowSeconds=15]
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { attemptChannel, sharedRunners, type AttemptMessage, type RunChecker } from '../src/check/runner.ts';
import type { Checker, TcpCheck, VirtualServer } from '../src/config/model.ts';
import { checkTcpNetSocket } from './tcp-net-socket.ts';

const tcpCount = Number(process.argv[2] ?? 10_000);
const httpCount = Number(process.argv[3] ?? 2_000);
const windowS = Number(process.argv[4] ?? 15);
const warmupS = 4;
const pos = { file: 'bench', line: 0, col: 0 };
const page = 'ok\n'.repeat(20);

const child = fork(fileURLToPath(new URL('./check-targets.ts', import.meta.url)), [String(tcpCount), String(httpCount)], { stdio: 'inherit' });
const targets = await new Promise<{ tcp: [string, number][]; http: [string, number][] }>((resolve) => child.once('message', resolve as (m: unknown) => void));

function checker(type: 'TCP_CHECK' | 'HTTP_GET', address: string, port: number): Checker {
  const common = { connectIp: address, connectPort: port, connectTimeoutMs: 2_000, retry: 1, delayBeforeRetryMs: 1_000, warmupMs: 1_000, delayLoopMs: 1_000, alpha: false, pos };
  if (type === 'TCP_CHECK') return { ...common, type };
  const digest = createHash('md5').update(page).digest('hex');
  return { ...common, type, urls: [{ path: '/health', digest, statusCodes: [{ from: 200, to: 299 }], pos }], httpProtocol: '1.1', enableSni: false };
}

/** Groups of 100 real servers per virtual server, as a large director would have them. */
function virtualServers(type: 'TCP_CHECK' | 'HTTP_GET', list: [string, number][], offset: number): VirtualServer[] {
  const out: VirtualServer[] = [];
  for (let i = 0; i < list.length; i += 100) {
    out.push({
      key: { kind: 'addr', address: `10.1.${(offset + out.length) >> 8}.${(offset + out.length) & 255}`, family: 4, port: 80 },
      protocol: 'TCP', lbAlgo: 'wrr', lbKind: 'DR', schedulerFlags: [], onePacket: false, delayLoopMs: 1_000, haSuspend: false,
      alpha: false, omega: false, quorum: 1, hysteresis: 0, sorryServerInhibit: false, inhibitOnFailure: false, pos,
      realServers: list.slice(i, i + 100).map(([address, port]) => ({
        address, family: 4, port, weight: 1, lbKind: 'DR', inhibitOnFailure: false, alpha: false, delayLoopMs: 1_000, pos,
        checkers: [checker(type, address, port)],
      })),
    });
  }
  return out;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : NaN;
}

const instant: RunChecker = async () => ({ ok: true, reason: 'instant', latencyMs: 0 });
const netSocket: RunChecker = (c, signal) => checkTcpNetSocket(c as TcpCheck, signal);

interface Row { readonly checksPerS: number; readonly cpuMsPer1000: number }

async function phase(name: string, vss: VirtualServer[], runChecker?: RunChecker): Promise<Row> {
  const runners = vss.map(sharedRunners({ concurrency: 2_000, runScripts: false, ...(runChecker ? { runChecker } : {}) }));
  let measuring = false;
  let attempts = 0;
  let failures = 0;
  const reasons = new Map<string, number>();
  let lateness = new Float64Array(1 << 16);
  const onAttempt = (m: unknown) => {
    if (!measuring) return;
    const a = m as AttemptMessage;
    if (attempts === lateness.length) {
      const bigger = new Float64Array(lateness.length * 2);
      bigger.set(lateness);
      lateness = bigger;
    }
    lateness[attempts++] = a.latenessMs;
    if (!a.result.ok) {
      failures++;
      reasons.set(a.result.reason, (reasons.get(a.result.reason) ?? 0) + 1);
    }
  };
  diagnostics.subscribe(attemptChannel.name, onAttempt);
  for (const r of runners) r.start();
  await new Promise((r) => setTimeout(r, warmupS * 1000));
  measuring = true;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let rssMax = 0;
  for (let s = 0; s < windowS; s++) {
    await new Promise((r) => setTimeout(r, 1000));
    rssMax = Math.max(rssMax, process.memoryUsage.rss());
    if (process.env.VERBOSE) console.log(`  ${name} ${s + 1}s: attempts ${attempts}, ${JSON.stringify(runners[0]!.load)}, in-flight limit ${runners[0]!.inFlightLimit}`);
  }
  measuring = false;
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await Promise.all(runners.map((r) => r.stop()));
  diagnostics.unsubscribe(attemptChannel.name, onAttempt);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const sorted = lateness.slice(0, attempts).sort();
  const row = {
    phase: name,
    realServers: vss.reduce((n, v) => n + v.realServers.length, 0),
    checksPerS: Math.round((attempts / wallMs) * 1000),
    cpuMsPer1000: +((cpuMs / attempts) * 1000).toFixed(1),
    userMsPer1000: +((cpu.user / 1000 / attempts) * 1000).toFixed(1),
    coreShare: +(cpuMs / wallMs).toFixed(3),
    rssMB: Math.round(rssMax / 2 ** 20),
    latenessP50ms: +percentile(sorted, 0.5).toFixed(2),
    latenessP99ms: +percentile(sorted, 0.99).toFixed(2),
    latenessMaxms: +percentile(sorted, 1).toFixed(2),
    failures,
  };
  console.log(JSON.stringify(row));
  if (failures) console.log(`  failures: ${JSON.stringify([...reasons].slice(0, 5))}`);
  return row;
}

try {
  const tcp = virtualServers('TCP_CHECK', targets.tcp, 0);
  const web = virtualServers('HTTP_GET', targets.http, 200);
  console.log(`node ${process.version}, ${tcpCount} TCP + ${httpCount} HTTP targets, warm-up ${warmupS} s, window ${windowS} s, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  if (tcpCount && !process.env.SKIP_SCHED) await phase('sched', tcp, instant);
  const rounds = Number(process.env.ROUNDS ?? 1);
  for (let round = 0; tcpCount && round < rounds; round++) {
    const before = await phase('tcp-netsocket', tcp, netSocket);
    const after = await phase('tcp', tcp);
    console.log(JSON.stringify({
      ratio: 'tcp / tcp-netsocket',
      checksPerS: +(after.checksPerS / before.checksPerS).toFixed(2),
      cpuMsPer1000: +(after.cpuMsPer1000 / before.cpuMsPer1000).toFixed(2),
    }));
  }
  if (httpCount) await phase('http', web);
  if (tcpCount && httpCount) await phase('tcp+http', [...tcp, ...web]);
} finally {
  child.disconnect();
}
