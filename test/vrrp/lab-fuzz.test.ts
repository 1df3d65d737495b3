// Hostile input at a running master: random and mutated adverts (wrong TTL, bad checksums, truncated, huge address
// counts, wrong version/type/VRID, random bytes). The master must not crash or change state, and must count every
// packet under the reason the codec predicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { instanceConf, Lab, labUnavailable, START_MS, NODE, sleep, waitFor } from './lab.ts';
import { DROP_REASONS } from '../../src/vrrp/codec.ts';

const skip = labUnavailable();
const COUNT = 3000;

test(`fuzz: ${COUNT} invalid adverts at a running master are all counted and change nothing`, { skip }, async (t) => {
  const lab = new Lab('fuzz');
  t.after(() => lab.cleanup());
  lab.setup({ d1: ['10.80.0.1/24'], evil: ['10.80.0.66/24'] });
  const d1 = lab.ipvsTs('d1', instanceConf({ vrid: 30, priority: 100, advert: 0.1, vips: ['10.80.0.100/24'] }));
  await waitFor('d1 master', () => lab.entered(d1, 'MASTER') > 0, START_MS);
  const out = execFileSync('ip', ['netns', 'exec', lab.ns('evil'), NODE, new URL('./fuzz-sender.ts', import.meta.url).pathname, 'eth0', '30', String(COUNT), '7', '10.80.0.100'], { encoding: 'utf8' });
  const expected = JSON.parse(out) as Record<string, number>;
  const total = (x: Record<string, number>) => Object.values(x).reduce((a, b) => a + b, 0);
  const dropped = async () => {
    const st = await lab.stats(d1, 'ipvs-ts-d1');
    const got: Record<string, number> = {};
    for (const r of DROP_REASONS) {
      const n = (st.instances[0]?.stats[r] ?? 0) + Object.values(st.unmatched).reduce((a, s) => a + (s[r] ?? 0), 0);
      if (n > 0) got[r] = n;
    }
    return { st, got };
  };
  // On a loaded machine the master may still be working through its socket queue: let the count settle.
  let { st, got } = await dropped();
  for (let i = 0; i < 50 && total(got) < total(expected); i++) {
    await sleep(100);
    ({ st, got } = await dropped());
  }
  assert.equal(d1.child.exitCode, null, 'still running');
  const inst = st.instances[0];
  assert.equal(inst?.state, 'MASTER');
  assert.equal(lab.entered(d1, 'MASTER'), 1);
  assert.equal(lab.entered(d1, 'BACKUP'), 1, 'only the start-up BACKUP');
  t.diagnostic(`drops by reason: ${JSON.stringify(got)}`);
  assert.deepEqual(got, expected);
  assert.equal(inst?.stats.advert_rcvd, 0);
  assert.ok(lab.addresses('d1').includes('10.80.0.100'));
});
