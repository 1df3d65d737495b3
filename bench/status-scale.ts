// status and /metrics at scale, on the host: a director over N virtual servers × 10 real servers (every real server
// checked and up) with the kernel in memory (test/director/fakes.ts), timing what a `status` call and a Prometheus
// scrape cost (wall and CPU time: on a loaded machine the CPU figure is the one to compare). The kernel's share (the counters dump) is not in it: in the daemon that read runs at most every 5 s
// in the background and a status waits for it at most 0.5 s.
//
//   node bench/status-scale.ts [--only status|json|metrics] [virtualServers=10000]
//   node bench/status-scale.ts --only metrics --profile FILE.cpuprofile   (a CPU profile of the timed runs only)
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { DirectorMetrics } from '../src/control/metrics.ts';
import { statusReply } from '../src/control/server.ts';
import { desiredTable } from '../src/ipvs/desired.ts';
import { config, FakeKernel, harness } from '../test/director/fakes.ts';

const args = process.argv.slice(2);
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? args.splice(onlyAt, 2)[1] : undefined;
const profileAt = args.indexOf('--profile');
const profile = profileAt >= 0 ? args.splice(profileAt, 2)[1] : undefined;
const n = Number(args[0] ?? 10_000);
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
const metrics = new DirectorMetrics(() => h.director.status());
/** Three runs of f, which returns the bytes it produced (NaN: not measured). */
const time = async (what: string, f: () => Promise<number>) => {
  const runs: string[] = [];
  let size = NaN;
  for (let i = 0; i < 3; i++) {
    t = performance.now();
    const cpu = process.cpuUsage();
    size = await f();
    const used = process.cpuUsage(cpu);
    runs.push(`${(performance.now() - t).toFixed(0)} ms wall, ${((used.user + used.system) / 1000).toFixed(0)} ms CPU`);
  }
  console.log(`${what}${Number.isNaN(size) ? '' : ` (${(size / 1e6).toFixed(1)} MB)`}: ${runs.join(' / ')}`);
};
const session = new Session();
if (profile) {
  session.connect();
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
if (profile) writeFileSync(profile, JSON.stringify((await session.post('Profiler.stop')).profile));
const rss = process.memoryUsage().rss;
console.log(`RSS ${(rss / 1e6).toFixed(0)} MB`);
await h.director.stop();
metrics.close();
