// Reloads through the director: VRRP gets the new configuration as a message (never a restart), a refusal applies
// nothing, and the real checkers keep the state of every real server whose checkers did not change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sharedRunners } from '../../src/check/runner.ts';
import type { Checker } from '../../src/config/model.ts';
import { VrrpError } from '../../src/vrrp/errors.ts';
import { waitFor } from '../vrrp/lab.ts';
import { config, harness } from './fakes.ts';

const instance = (name: string, vrid: number, priority: number) =>
  `vrrp_instance ${name} {\n state BACKUP\n interface lo\n virtual_router_id ${vrid}\n priority ${priority}\n virtual_ipaddress {\n 10.0.0.${vrid}/32\n }\n}\n`;
const pool = (rss: string[], delayLoop = 1) => `
virtual_server 10.0.0.1 80 {
  delay_loop ${delayLoop}
  lb_kind NAT
  protocol TCP
${rss.map((a) => `  real_server ${a} 80 {\n    weight 2\n    TCP_CHECK {\n      connect_timeout 1\n      retry 3\n      delay_before_retry 0.3\n    }\n  }`).join('\n')}
}`;

test('a VRRP edit reaches the running engine as reconfigure(), never as a restart; views follow removed and renamed instances', async () => {
  const h = harness(config(instance('VI_1', 1, 150) + instance('VI_2', 2, 100) + instance('VI_3', 3, 100)));
  await h.director.start();
  const vrrp = h.vrrps[0]!;
  vrrp.transition('VI_1', 'BACKUP', 'MASTER', 150);
  vrrp.transition('VI_2', 'INIT', 'BACKUP', 100);
  vrrp.transition('VI_3', 'BACKUP', 'MASTER', 100);
  await h.director.reload(config(instance('VI_1', 1, 160) + instance('WEB', 2, 100)));
  assert.equal(h.vrrps.length, 1, 'no second VRRP was started');
  assert.equal(vrrp.stopped, false);
  assert.deepEqual(vrrp.plans[0]!.instances.map((p) => `${p.name} ${p.action}`), ['VI_1 update', 'WEB update', 'VI_3 stop']);
  const s = await h.director.status();
  assert.deepEqual(s.vrrp.map((i) => [i.name, i.state]), [['VI_1', 'MASTER'], ['WEB', 'BACKUP']], 'the renamed instance keeps its state, the removed one is gone');
  // Nothing VRRP in the edit: the engine is not even asked.
  await h.director.reload(config(instance('VI_1', 1, 160) + instance('WEB', 2, 100) + pool(['10.1.0.1'])));
  assert.equal(vrrp.plans.length, 1);
  // A garp_group alone is VRRP's (the engine paces its announcements with it).
  await h.director.reload(config('garp_group {\n garp_interval 0.1\n interface lo\n}\n' + instance('VI_1', 1, 160) + instance('WEB', 2, 100) + pool(['10.1.0.1'])));
  assert.equal(vrrp.plans.length, 2);
  await h.director.stop();
});

test('a reload that VRRP refuses applies nothing: checkers, table and configuration stay as they were', async () => {
  const before = config(instance('VI_1', 1, 150) + pool(['10.1.0.1', '10.1.0.2']));
  const h = harness(before);
  await h.director.start();
  const checks = h.checker('10.0.0.1');
  h.vrrps[0]!.refuse = new VrrpError('VRRP_NO_INTERFACE', '(VI_2) interface eth9 does not exist');
  await assert.rejects(h.director.reload(config(instance('VI_1', 1, 150) + instance('VI_2', 2, 100) + pool(['10.1.0.1']))), { code: 'VRRP_NO_INTERFACE' });
  assert.equal(h.director.config, before);
  assert.deepEqual(checks.reconfigured, []);
  assert.equal(h.events.some((e) => e.type === 'reloaded'), false);
  await h.director.stop();
});

test('VRRP starts with the first instance a reload adds and stops with the last it removes', async () => {
  const h = harness(config(pool(['10.1.0.1'])));
  await h.director.start();
  assert.equal(h.vrrps.length, 0);
  await h.director.reload(config(instance('VI_1', 1, 150) + pool(['10.1.0.1'])));
  assert.equal(h.vrrps.length, 1);
  await h.director.reload(config(pool(['10.1.0.1'])));
  assert.equal(h.vrrps[0]!.stopped, true);
  assert.deepEqual((await h.director.status()).vrrp, []);
  await h.director.stop();
});

test('a changed lvs_sync_daemon restarts the sync daemon with the new settings, in the followed instance\'s role', async () => {
  const sync = (id: number) => `global_defs {\n lvs_sync_daemon lo VI_1 id ${id}\n}\n`;
  const h = harness(config(sync(5) + instance('VI_1', 1, 150)));
  await h.director.start();
  h.vrrps[0]!.transition('VI_1', 'BACKUP', 'MASTER', 150);
  await h.director.reload(config(sync(6) + instance('VI_1', 1, 150)));
  await h.director.stop();
  assert.deepEqual(h.kernel.daemons, ['stop master', 'start backup lo 5', 'stop backup', 'start master lo 5', 'stop master', 'stop backup', 'start master lo 6', 'stop master']);
  assert.equal(h.vrrps.length, 1, 'VRRP untouched');
});

test('with the real checkers: a reload replacing one real server leaves another in the middle of its retries, and the pool in IPVS', async (t) => {
  const attempts = new Map<string, { at: number; ok: boolean }[]>();
  let failing = false;
  const runChecker = async (c: Checker) => {
    const ok = !(failing && c.connectIp === '10.1.0.1');
    attempts.set(c.connectIp, [...(attempts.get(c.connectIp) ?? []), { at: performance.now(), ok }]);
    return ok ? { ok, reason: 'connected', latencyMs: 1 } : { ok, reason: 'connection refused', latencyMs: 1 };
  };
  const h = harness(config(pool(['10.1.0.1', '10.1.0.2', '10.1.0.3'])), { checks: sharedRunners({ runChecker, random: () => 0 }) });
  t.after(() => h.director.stop());
  await h.director.start();
  const inTable = () => h.kernel.view()['TCP 10.0.0.1:80'] ?? [];
  await waitFor('all three in IPVS', () => inTable().length === 3, 5_000);
  failing = true;
  const failures = () => (attempts.get('10.1.0.1') ?? []).filter((a) => !a.ok).length;
  await waitFor('the first failure of 10.1.0.1', () => failures() === 1, 5_000);
  // 10.1.0.3 is replaced while 10.1.0.1 is one failure into its retries (retry 3: down at the 4th).
  const eventsBefore = h.events.length;
  await h.director.reload(config(pool(['10.1.0.1', '10.1.0.2', '10.1.0.4'])));
  await waitFor('10.1.0.1 down', () => h.events.some((e) => e.type === 'verdict' && e.realServer === '10.1.0.1:80' && !e.up), 5_000);
  await h.director.idle();
  assert.equal(failures(), 4, 'down after retry + 1 failures in all: the retry count survived the reload');
  const after = h.events.slice(eventsBefore).flatMap((e) => (e.type === 'verdict' ? [`${e.realServer} ${e.up ? 'up' : 'down'}`] : []));
  assert.deepEqual(after.filter((v) => !v.startsWith('10.1.0.4')), ['10.1.0.1:80 down'], 'no verdict for the server that stayed healthy');
  const removed = h.kernel.applies.flat().filter((o) => o.op === 'del-dest').map((o) => (o.op === 'del-dest' ? o.dest.address : ''));
  assert.deepEqual(removed.sort(), ['10.1.0.1', '10.1.0.3'], '10.1.0.2 never left IPVS (10.1.0.3 went: removed, and without connections)');
});
