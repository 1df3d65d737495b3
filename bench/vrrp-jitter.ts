// Advert send jitter (actual − planned send time) of a VRRPv3 master with advert_int 0.1 s, with the engine in
// its worker thread (how ipvs-ts runs it) and, for contrast, on the main thread; each idle and while the main
// thread is CPU-busy (synchronous chunks of 20-150 ms back to back, like heavy checker/IPVS sync bursts).
//
//   node bench/vrrp-jitter.ts [seconds]        (root; builds a namespace, runs itself inside it)
import { execFileSync } from 'node:child_process';
import { parseConfigText } from '../src/config/index.ts';
import { VrrpEngine } from '../src/vrrp/engine.ts';
import { VrrpService } from '../src/vrrp/service.ts';
import { instanceConf, Lab, NODE } from '../test/vrrp/lab.ts';

const CONF = instanceConf({ vrid: 50, priority: 255, advert: 0.1, vips: ['10.81.0.100/24'] });
type Mode = 'worker' | 'main';

async function inner(mode: Mode, busy: boolean, seconds: number): Promise<void> {
  const { config } = parseConfigText(CONF, 'bench.conf', { skipHostChecks: true });
  if (config === undefined) throw new Error('bad bench config');
  const lags: number[] = [];
  const sent = (_: string, planned: number, actual: number) => lags.push(actual - planned);
  const log = () => undefined;
  let stop: () => Promise<void>;
  if (mode === 'worker') {
    const svc = await VrrpService.start(config, { log, sent });
    stop = () => svc.stop();
  } else {
    const engine = new VrrpEngine(config, { log, sent });
    await engine.start();
    stop = () => engine.stop();
  }
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    if (busy) {
      const chunk = performance.now() + 20 + Math.random() * 130;
      let x = 0;
      while (performance.now() < chunk) x += Math.sqrt(x + 1);
      await new Promise((r) => setImmediate(r));
    } else await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 50));
  await stop();
  process.stdout.write(`${JSON.stringify(lags)}\n`);
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function outer(seconds: number): Promise<void> {
  const lab = new Lab('jit');
  try {
    lab.setup({ d: ['10.81.0.1/24'] });
    console.log(`| engine on | main thread | adverts | p50 ms | p99 ms | max ms |`);
    console.log(`|---|---|---|---|---|---|`);
    for (const mode of ['worker', 'main'] as const) {
      for (const busy of [false, true]) {
        const out = execFileSync('ip', ['netns', 'exec', lab.ns('d'), NODE, new URL(import.meta.url).pathname, '--inner', mode, busy ? 'busy' : 'idle', String(seconds)], { encoding: 'utf8' });
        const lags = (JSON.parse(out.trim().split('\n').at(-1) ?? '[]') as number[]).sort((a, b) => a - b);
        const f = (n: number) => n.toFixed(2);
        console.log(`| ${mode === 'worker' ? 'worker thread' : 'main thread'} | ${busy ? 'CPU-busy' : 'idle'} | ${lags.length} | ${f(pct(lags, 50))} | ${f(pct(lags, 99))} | ${f(lags.at(-1) ?? NaN)} |`);
      }
    }
  } finally {
    await lab.cleanup();
  }
}

const args = process.argv.slice(2);
if (args[0] === '--inner') await inner(args[1] as Mode, args[2] === 'busy', Number(args[3]));
else await outer(Number(args[0] ?? 10));
