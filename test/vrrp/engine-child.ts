// Run by test/vrrp/engine-reload.test.ts inside a namespace it made: starts a VrrpEngine on the first config, waits
// until every instance is MASTER, then applies each further config with reconfigure() and prints one JSON line: per
// step the plan (or the refusal), the transitions it caused, each instance's status just before and right after,
// and the addresses on eth0 once it resolved. Times are wall-clock ms, to be compared with a capture.
import { networkInterfaces } from 'node:os';
import { loadConfig } from '../../src/config/index.ts';
import type { Config } from '../../src/config/model.ts';
import { VrrpEngine, type TransitionEvent } from '../../src/vrrp/engine.ts';

const load = (file: string): Config => {
  const { config, problems } = loadConfig(file, { skipHostChecks: true });
  if (!config) throw new Error(problems.map((p) => p.message).join('; '));
  return config;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const [first, ...rest] = process.argv.slice(2);
const transitions: (TransitionEvent & { at: number })[] = [];
const engine = new VrrpEngine(load(first!), { log: () => undefined, transition: (ev) => transitions.push({ ...ev, at: Date.now() }) });
await engine.start();
const deadline = Date.now() + 20_000;
while (!engine.status().instances.every((i) => i.state === 'MASTER')) {
  if (Date.now() > deadline) throw new Error('the instances did not all become MASTER');
  await sleep(20);
}
const steps: unknown[] = [];
for (const file of rest) {
  await sleep(300);
  const before = engine.status().instances;
  const seen = transitions.length;
  const t0 = Date.now();
  const outcome = await engine.reconfigure(load(file)).then(
    (plan) => ({ plan }),
    (err: { code?: string; message?: string }) => ({ error: err.code ?? String(err.message) }),
  );
  const t1 = Date.now();
  const after = engine.status().instances;
  const addresses = (networkInterfaces().eth0 ?? []).map((a) => a.address);
  steps.push({ t0, t1, ...outcome, before, after, transitions: transitions.slice(seen).map((e) => `${e.instance} ${e.from}>${e.to}`), addresses });
}
await sleep(300);
await engine.stop();
process.stdout.write(`${JSON.stringify(steps)}\n`);
