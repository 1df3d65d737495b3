// The director's own share of "verdict → kernel": a checker verdict through the health store, the coalescing
// loop, the table build and the planner to the kernel port, with an in-memory kernel (so what is left is ours).
// Also a burst of verdicts in one turn, which must become one apply.
// Run: node test/director/latency.bench.ts [SERVICES] [REAL_SERVERS_EACH]   (default 20 × 100)
import { desiredTable } from '../../src/ipvs/desired.ts';
import { config, FakeKernel, harness } from './fakes.ts';

const [nVs, nRs] = [Number(process.argv[2] ?? 20), Number(process.argv[3] ?? 100)];
const rs = Array.from({ length: nRs }, (_, i) => `10.1.${i >> 8}.${(i & 255) + 1}`);
const vss = Array.from({ length: nVs }, (_, v) => `virtual_server 10.0.0.${v + 1} 80 {\n lb_algo wrr\n lb_kind DR\n${rs.map((a) => ` real_server ${a} 80 {\n  TCP_CHECK {\n  }\n }`).join('\n')}\n}`);
const cfg = config(vss.join('\n'));
const kernel = new FakeKernel();
kernel.load(desiredTable(cfg));
const h = harness(cfg, { kernel, owned: desiredTable(cfg).services.map((s) => `TCP ${s.service.id.kind === 'addr' ? s.service.id.address : ''}:80`) });
await h.director.start();
const lat: number[] = [];
for (let i = 0; i < 1000; i++) {
  const c = h.checks[i % nVs]!;
  const a = rs[i % nRs]!;
  c.verdict(a, Math.floor(i / nRs) % 2 === 1);
  await h.director.idle();
  const e = h.events.findLast((x) => x.type === 'applied');
  if (e?.type === 'applied' && e.sinceVerdictMs !== undefined) lat.push(e.sinceVerdictMs);
}
lat.sort((a, b) => a - b);
const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!.toFixed(3);
const before = kernel.applies.length;
for (const a of rs) h.checks[0]!.verdict(a, false);
await h.director.idle();
process.stdout.write(`table: ${nVs} services x ${nRs} real servers; ${lat.length} single verdicts: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${lat[lat.length - 1]!.toFixed(3)} ms\n`);
process.stdout.write(`burst of ${nRs} verdicts in one turn: ${kernel.applies.length - before} apply, ${kernel.applies.at(-1)!.length} operations\n`);
