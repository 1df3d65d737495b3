// status keeps per-virtual-server keys (service keys, destination and health keys) by model object: a reload
// brings new objects, so added, removed and changed real servers show at once; the kernel's side (the view) is
// read fresh on every status.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { desiredTable } from '../../src/ipvs/desired.ts';
import { config, FakeKernel, harness } from './fakes.ts';

const pool = (rss: readonly string[]) => `virtual_server 10.0.0.1 80 {\n lb_kind DR\n protocol TCP\n${rss.map((r) => ` real_server ${r} 80 {\n  weight 2\n }`).join('\n')}\n}\n`;

test('status after a reload: real servers added and removed show at once, each with its own kernel entry', async () => {
  const cfg = config(pool(['10.1.0.1', '10.1.0.2']));
  const kernel = new FakeKernel();
  kernel.load(desiredTable(cfg));
  const h = harness(cfg, { kernel, owned: ['TCP 10.0.0.1:80'] });
  await h.director.start();
  await h.director.idle();
  const rows = async () => (await h.director.status()).virtualServers[0]!.realServers.map((r) => `${r.address} ${r.inTable ? 'in' : 'out'}`);
  assert.deepEqual(await rows(), ['10.1.0.1 in', '10.1.0.2 in']);
  await h.director.reload(config(pool(['10.1.0.2', '10.1.0.3'])));
  await h.director.idle();
  // 10.1.0.3 has no checker: it is in from the reload on, without a verdict.
  assert.deepEqual(await rows(), ['10.1.0.2 in', '10.1.0.3 in']);
  await h.director.reload(config(pool(['10.1.0.1'])));
  await h.director.idle();
  // 10.1.0.1 left the kernel with the previous reload and comes back with this one.
  assert.deepEqual(await rows(), ['10.1.0.1 in']);
  await h.director.stop();
});
