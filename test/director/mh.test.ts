// The director with `lb_algo mh` for several directors (src/ipvs/mh.ts): destinations in canonical order, and with
// mh-fallback real servers that are not in kept at weight 0 (added at their configured weight first).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { config, harness } from './fakes.ts';

const vs = (flags: string) => config(`
virtual_server 10.0.0.1 80 {
  delay_loop 1
  lb_algo mh
  ${flags}
  lb_kind DR
  protocol TCP
${['10.1.0.3', '10.1.0.10', '10.1.0.2'].map((a) => `  real_server ${a} 80 {\n    weight 2\n    TCP_CHECK {\n      connect_timeout 1\n    }\n  }`).join('\n')}
}`);

test('mh + mh-fallback: every real server is added in canonical order at its weight, set to 0 until checked up; a failure sets weight 0', async () => {
  const h = harness(vs('mh-port\n  mh-fallback'));
  await h.director.start();
  const first = h.kernel.applies.flat().filter((o) => o.op === 'add-dest' || o.op === 'edit-dest').map((o) => `${o.op} ${'dest' in o ? `${o.dest.address} w${'weight' in o.dest ? o.dest.weight : ''}` : ''}`);
  assert.deepEqual(first, ['add-dest 10.1.0.2 w2', 'edit-dest 10.1.0.2 w0', 'add-dest 10.1.0.3 w2', 'edit-dest 10.1.0.3 w0', 'add-dest 10.1.0.10 w2', 'edit-dest 10.1.0.10 w0']);
  const c = h.checker('10.0.0.1');
  for (const a of ['10.1.0.3', '10.1.0.10', '10.1.0.2']) c.verdict(a, true);
  await h.director.idle();
  assert.deepEqual(Object.values(h.kernel.view())[0]?.slice().sort(), ['10.1.0.10:80 w2', '10.1.0.2:80 w2', '10.1.0.3:80 w2']);
  const before = h.kernel.applies.length;
  c.verdict('10.1.0.3', false);
  await h.director.idle();
  assert.deepEqual(h.kernel.applies.slice(before).flat().map((o) => o.op), ['edit-dest'], 'weight 0, no delete');
  assert.deepEqual(Object.values(h.kernel.view())[0]?.slice().sort(), ['10.1.0.10:80 w2', '10.1.0.2:80 w2', '10.1.0.3:80 w0']);
});

test('mh without mh-fallback: canonical order, and a failed real server is deleted as before', async () => {
  const h = harness(vs('mh-port'));
  await h.director.start();
  const c = h.checker('10.0.0.1');
  for (const a of ['10.1.0.3', '10.1.0.10', '10.1.0.2']) c.verdict(a, true);
  await h.director.idle();
  const adds = h.kernel.applies.flat().flatMap((o) => (o.op === 'add-dest' ? [o.dest.address] : []));
  assert.deepEqual(adds, ['10.1.0.2', '10.1.0.3', '10.1.0.10']);
  const before = h.kernel.applies.length;
  c.verdict('10.1.0.3', false);
  await h.director.idle();
  assert.deepEqual(h.kernel.applies.slice(before).flat().map((o) => o.op), ['del-dest']);
});
