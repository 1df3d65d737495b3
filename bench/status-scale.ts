// status and /metrics at scale, on the host: a director over N virtual servers × 10 real servers (every real server
// checked and up) with the kernel in memory (test/director/fakes.ts), timing what a `status` call and a Prometheus
// scrape cost (wall and CPU time: on a loaded machine the CPU figure is the one to compare). The kernel's share (the counters dump) is not in it: in the daemon that read runs at most every 5 s
// in the background and a status waits for it at most 0.5 s.
//
//   node bench/status-scale.ts [--only status|json|metrics|http|cli] [virtualServers=10000]
//     http: GET /metrics from the daemon's HTTP server on loopback, read whole by curl (its own process, as a
//     Prometheus server is): the time until curl has the last byte; the CPU figures are this process's alone
//     cli: `ipvs-ts status` over a real control socket, both ends in this process (daemon: status + streamed JSON;
//     CLI: read, JSON.parse, the text of 100,000 lines), full and with --summary
//   node bench/status-scale.ts --only metrics --profile FILE.cpuprofile   (a CPU profile of the timed runs only)
//   node bench/status-scale.ts --only none --heap                       (what the live heap holds, by allocation site)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStatus } from '../src/cli/status-run.ts';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { DirectorMetrics } from '../src/control/metrics.ts';
import { listenControl, statusReply } from '../src/control/server.ts';
import { listenMetrics } from '../src/control/http.ts';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { desiredTable } from '../src/ipvs/desired.ts';
import { config, FakeKernel, harness } from '../test/director/fakes.ts';

const args = process.argv.slice(2);
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? args.splice(onlyAt, 2)[1] : undefined;
const profileAt = args.indexOf('--profile');
const profile = profileAt >= 0 ? args.splice(profileAt, 2)[1] : undefined;
const heapAt = args.indexOf('--heap');
const heap = heapAt >= 0 && args.splice(heapAt, 1).length > 0;
const n = Number(args[0] ?? 10_000);
const session = new Session();
session.connect();
if (heap) await session.post('HeapProfiler.startSampling', { samplingInterval: 4096 });
const text: string[] = [];
for (let i = 0; i < n; i++) {
  text.push(`virtual_server 10.${(i >> 8) & 255}.${i & 255}.1 80 {\n lb_kind DR\n protocol TCP`);
  for (let r = 1; r <= 10; r++) text.push(` real_server 10.200.${i & 255}.${r} ${8000 + (i >> 8)} {\n  TCP_CHECK {\n   connect_timeout 1\n  }\n }`);
  text.push('}');
}
let t = performance.now();
const cfg = config(text.join('\n'));
console.log(`parse ${n} × 10: ${(performance.now() - t).toFixed(0)} ms`);
const kernel = new FakeKernel();
kernel.load(desiredTable(cfg));
const h = harness(cfg, { kernel, owned: [] });
await h.director.start();
for (const c of h.checks) for (const rs of c.vs.realServers) c.verdict(rs.address, true);
await h.director.idle();
const metrics = new DirectorMetrics(() => h.director.tables());
/** Three runs of f, which returns the bytes it produced (NaN: not measured). */
const time = async (what: string, f: () => Promise<number>) => {
  const runs: string[] = [];
  let size = NaN;
  for (let i = 0; i < 3; i++) {
    t = performance.now();
    const cpu = process.cpuUsage();
    const main = process.threadCpuUsage();
    size = await f();
    const used = process.cpuUsage(cpu);
    const mainUsed = process.threadCpuUsage(main);
    // The process's CPU counts V8's GC and compiler threads too; the main thread's is what blocks the event loop.
    runs.push(`${(performance.now() - t).toFixed(0)} ms wall, ${((used.user + used.system) / 1000).toFixed(0)} ms CPU (main thread ${((mainUsed.user + mainUsed.system) / 1000).toFixed(0)})`);
  }
  console.log(`${what}${Number.isNaN(size) ? '' : ` (${(size / 1e6).toFixed(1)} MB)`}: ${runs.join(' / ')}`);
};
if (heap) await heapReport();
if (profile) {
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
if (!only || only === 'status') await time('status()', async () => ((await h.director.status()), NaN));
if (!only || only === 'json') await time('status() + JSON as the control socket sends it', async () => {
    let length = 0;
    for (const piece of statusReply(await h.director.status())) length += Buffer.byteLength(piece);
    return length;
  });
if (!only || only === 'metrics') {
  await time('/metrics render', async () => {
    let length = 0;
    for await (const part of metrics.stream()) for (const c of part) length += c.length;
    return length;
  });
}
if (!only || only === 'http') {
  const server = await listenMetrics('127.0.0.1:0', metrics);
  const { port } = server.address() as AddressInfo;
  await time('GET /metrics over HTTP, read by curl', () => new Promise<number>((resolve, reject) => {
    const curl = spawn('curl', ['-sf', '-o', '/dev/null', '-w', '%{size_download}', `http://127.0.0.1:${port}/metrics`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    curl.stdout.on('data', (d: Buffer) => (out += d));
    curl.on('error', reject);
    curl.on('exit', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`curl exited ${code}`))));
  }));
  server.close();
}
if (!only || only === 'cli') {
  const dir = mkdtempSync(join(tmpdir(), 'status-scale-'));
  const path = join(dir, 'control.sock');
  const server = await listenControl(path, { status: (o) => h.director.status(o), reload: async () => ({ applied: false, problems: [] }) });
  let written = 0;
  const sink = { write: (s: string) => (written += Buffer.byteLength(s)) > 0 } as unknown as NodeJS.WritableStream;
  await time('ipvs-ts status over the socket (text)', async () => {
    written = 0;
    if ((await runStatus({ interval: '1', control: path }, sink, sink)) !== 0) throw new Error('status failed');
    return written;
  });
  await time('ipvs-ts status --summary over the socket (text)', async () => {
    written = 0;
    if ((await runStatus({ interval: '1', control: path, summary: true }, sink, sink)) !== 0) throw new Error('status failed');
    return written;
  });
  server.close();
  rmSync(dir, { recursive: true, force: true });
}
if (profile) writeFileSync(profile, JSON.stringify((await session.post('Profiler.stop')).profile));
const rss = process.memoryUsage().rss;
console.log(`RSS ${(rss / 1e6).toFixed(0)} MB`);
await h.director.stop();
metrics.close();

/** The director's live heap by allocation site (V8's sampling heap profiler: what is still alive when asked). */
async function heapReport(): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  const { profile: p } = await session.post('HeapProfiler.getSamplingProfile');
  await session.post('HeapProfiler.stopSampling');
  type Node = (typeof p)['head'];
  const bySite = new Map<string, number>();
  let total = 0;
  const walk = (node: Node, stack: string[]): void => {
    const f = node.callFrame;
    const here = f.url.includes('/src/') || f.url.includes('/test/') ? `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(src|test)\//, '$1/')}:${f.lineNumber + 1}` : undefined;
    const s = here ? [...stack, here] : stack;
    if (node.selfSize) {
      total += node.selfSize;
      // Attributed to the innermost project frame, with its caller: "what the project allocated, and where".
      const site = s.slice(-2).join(' < ') || '(outside the project)';
      bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    }
    for (const c of node.children) walk(c, s);
  };
  walk(p.head, []);
  console.log(`live heap sampled: ${(total / 1e6).toFixed(0)} MB (heapUsed ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB)`);
  for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${(bytes / 1e6).toFixed(1).padStart(6)} MB  ${site}`);
}
