// status and /metrics at scale, on the host: a director over N virtual servers × 10 real servers (every real server
// checked and up) with the kernel in memory (test/director/fakes.ts), timing what a `status` call and a Prometheus
// scrape cost (wall and CPU time: on a loaded machine the CPU figure is the one to compare). The kernel's share (the counters dump) is not in it: in the daemon that read runs at most every 5 s
// in the background and a status waits for it at most 0.5 s.
//
//   node bench/status-scale.ts [virtualServers=10000]
import { performance } from 'node:perf_hooks';
import { DirectorMetrics } from '../src/control/metrics.ts';
import { desiredTable } from '../src/ipvs/desired.ts';
import { config, FakeKernel, harness } from '../test/director/fakes.ts';

const n = Number(process.argv[2] ?? 10_000);
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
const time = async (what: string, f: () => Promise<unknown>) => {
  const runs: string[] = [];
  let size = 0;
  for (let i = 0; i < 3; i++) {
    t = performance.now();
    const cpu = process.cpuUsage();
    const r = await f();
    const used = process.cpuUsage(cpu);
    runs.push(`${(performance.now() - t).toFixed(0)} ms wall, ${((used.user + used.system) / 1000).toFixed(0)} ms CPU`);
    size = typeof r === 'object' && r !== null && 'length' in r ? Number(r.length) : JSON.stringify(r).length;
  }
  console.log(`${what} (${(size / 1e6).toFixed(1)} MB): ${runs.join(' / ')}`);
};
await time('status()', () => h.director.status());
await time('/metrics render', async () => ({ length: (await metrics.renderChunks()).reduce((n, c) => n + c.length, 0) }));
const rss = process.memoryUsage().rss;
console.log(`RSS ${(rss / 1e6).toFixed(0)} MB`);
await h.director.stop();
metrics.close();
