// The director's work is proportional to the change: after the one dump at start-up, a verdict or a reload touches
// only the services it concerns, verification reads the table one slice at a time, refused operations are not
// retried in a loop, and status reads the kernel's counters at most once per interval.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { desiredTable } from '../../src/ipvs/desired.ts';
import type { IpvsOp } from '../../src/ipvs/types.ts';
import { config, FakeKernel, harness } from './fakes.ts';

const N = 500;

function conf(n: number, tweak: (i: number) => string = () => ''): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const vip = `10.${(i >> 8) & 255}.${i & 255}.1`;
    out.push(`virtual_server ${vip} 80 {\n lb_kind DR\n protocol TCP\n${tweak(i)}`);
    for (let r = 1; r <= 10; r++) out.push(` real_server 10.200.${i & 255}.${r} ${8000 + (i >> 8)} {\n  weight 1\n  TCP_CHECK {\n   connect_timeout 1\n  }\n }`);
    out.push('}');
  }
  return out.join('\n');
}

const serviceOf = (o: IpvsOp): unknown => (o.op === 'del-service' ? o.id : o.op === 'add-service' || o.op === 'edit-service' ? o.service.id : o.service);
const touched = (ops: readonly IpvsOp[]) => new Set(ops.map((o) => JSON.stringify(serviceOf(o))));

test(`${N} virtual servers: after the start-up dump, a verdict and a reload each touch only their own service`, async () => {
  const cfg = config(conf(N));
  const kernel = new FakeKernel();
  kernel.load(desiredTable(cfg));
  const owned = desiredTable(cfg).services.map((s) => `TCP ${s.service.id.kind === 'addr' ? s.service.id.address : ''}:80`);
  const h = harness(cfg, { kernel, owned });
  await h.director.start();
  assert.equal(kernel.dumps, 1, 'one dump: adoption');
  assert.equal(kernel.applies.length, 0, 'adoption changes nothing');

  h.checker('10.0.7.1').verdict('10.200.7.3', false);
  await h.director.idle();
  assert.equal(kernel.applies.length, 1);
  assert.deepEqual(kernel.applies[0], [{ op: 'del-dest', service: { kind: 'addr', family: 4, protocol: 'TCP', address: '10.0.7.1', port: 80 }, dest: { address: '10.200.7.3', family: 4, port: 8000 } }]);
  assert.equal(kernel.dumps, 1, 'no dump for a verdict');
  assert.equal(kernel.reads, 0, 'nor any read');

  // One real server of one virtual server changes weight; another virtual server gets a new scheduler.
  await h.director.reload(config(conf(N, (i) => (i === 9 ? ' lb_algo wrr\n' : '')).replace('real_server 10.200.20.4 8000 {\n  weight 1', 'real_server 10.200.20.4 8000 {\n  weight 5')));
  assert.equal(kernel.dumps, 1, 'no dump for a reload');
  const reload = kernel.applies[1]!;
  assert.deepEqual([...touched(reload)], [JSON.stringify({ kind: 'addr', family: 4, protocol: 'TCP', address: '10.0.9.1', port: 80 })]);
  assert.deepEqual(reload.map((o) => o.op), ['edit-service']);
  // 10.200.20.4 has no verdict yet, so it stays at the weight the kernel has until its checker speaks.
  h.checker('10.0.20.1').verdict('10.200.20.4', true, { weight: 5 });
  await h.director.idle();
  assert.deepEqual(kernel.view()['TCP 10.0.20.1:80']!.find((d) => d.startsWith('10.200.20.4')), '10.200.20.4:8000 w5');
  await h.director.stop();
});

test('a refused operation is read back once and reported, not retried in a loop; the next turn of its service retries it', async () => {
  const cfg = config(conf(3));
  const kernel = new FakeKernel();
  kernel.refuse = (op) => (op.op === 'add-dest' && op.dest.address === '10.200.1.2' ? 'EINVAL' : undefined);
  const h = harness(cfg, { kernel });
  await h.director.start();
  h.checker('10.0.1.1').verdict('10.200.1.2', true);
  await h.director.idle();
  await sleep(50);
  await h.director.idle();
  const errors = h.events.filter((e) => e.type === 'error');
  assert.equal(errors.length, 1, 'one error, no retry storm');
  assert.equal(kernel.reads, 1, 'the refused service was read back');
  kernel.refuse = undefined;
  h.director.checkDrift();
  await h.director.idle();
  assert.ok(kernel.view()['TCP 10.0.1.1:80']!.includes('10.200.1.2:8000 w1'), 'retried at its next verification');
  await h.director.stop();
});

test('a batch whose socket failed is read back and re-planned a second later', async () => {
  const cfg = config(conf(2));
  const kernel = new FakeKernel();
  const h = harness(cfg, { kernel });
  await h.director.start();
  kernel.throwNext = true;
  h.checker('10.0.1.1').verdict('10.200.1.2', true);
  await h.director.idle();
  assert.equal(h.events.filter((e) => e.type === 'error').length, 1);
  assert.ok(!kernel.view()['TCP 10.0.1.1:80']!.includes('10.200.1.2:8000 w1'));
  const deadline = performance.now() + 10_000;
  while (!kernel.view()['TCP 10.0.1.1:80']!.includes('10.200.1.2:8000 w1') && performance.now() < deadline) await sleep(100);
  assert.ok(kernel.view()['TCP 10.0.1.1:80']!.includes('10.200.1.2:8000 w1'));
  await h.director.stop();
});

test('an IPVS connection that fails every request for the bound is declared dead, once', async () => {
  const kernel = new FakeKernel();
  const h = harness(config(conf(2)), { kernel, ipvsDeadAfterMs: 500 });
  await h.director.start();
  kernel.broken = true;
  h.checker('10.0.1.1').verdict('10.200.1.2', true);
  const deadline = performance.now() + 10_000;
  while (!h.events.some((e) => e.type === 'ipvs-failed') && performance.now() < deadline) await sleep(100);
  await sleep(1500);
  const dead = h.events.filter((e) => e.type === 'ipvs-failed');
  assert.equal(dead.length, 1);
  assert.match(dead[0]!.type === 'ipvs-failed' ? dead[0]!.message : '', /every IPVS request has failed for \d+ s/);
  kernel.broken = false;
  await h.director.stop();
});

test('verification: the table is read back a slice per second (the drift interval spread, within a time budget), and a change behind our back is repaired', async () => {
  const cfg = config(conf(30));
  const kernel = new FakeKernel();
  kernel.load(desiredTable(cfg));
  const h = harness(cfg, { kernel, owned: desiredTable(cfg).services.map((s) => `TCP ${s.service.id.kind === 'addr' ? s.service.id.address : ''}:80`), driftIntervalMs: 3000 });
  await h.director.start();
  h.checker('10.0.29.1').verdict('10.200.29.10', true);
  await h.director.idle();
  kernel.services.get('TCP 10.0.29.1:80')!.destinations.delete('10.200.29.10:8000');
  await sleep(1300);
  // A third of the table per second at most; fewer when the reads overrun the time budget (a loaded machine).
  assert.ok(kernel.reads >= 1 && kernel.reads <= 10, `first second: ${kernel.reads} reads`);
  const deadline = performance.now() + 10_000;
  while (kernel.reads < 30 && performance.now() < deadline) await sleep(100);
  await h.director.idle();
  assert.ok(kernel.reads >= 30, `the whole table read back (${kernel.reads} reads)`);
  assert.ok(kernel.view()['TCP 10.0.29.1:80']!.includes('10.200.29.10:8000 w1'), 'repaired');
  const drift = h.events.filter((e) => e.type === 'drift');
  assert.equal(drift.length, 1);
  assert.equal(kernel.dumps, 1);
  await h.director.stop();
});

test('status answers from the view; kernel counters are read at most once per interval', async () => {
  const cfg = config(conf(20));
  const kernel = new FakeKernel();
  kernel.load(desiredTable(cfg));
  const h = harness(cfg, { kernel });
  await h.director.start();
  const a = await h.director.status();
  const b = await h.director.status();
  assert.equal(kernel.dumps, 2, 'adoption + one counters read for two status calls');
  assert.equal(a.virtualServers.length, 20);
  assert.equal(b.virtualServers[0]!.realServers[0]!.inTable, true);
  await h.director.stop();
});
