import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { desiredTable } from '../../src/ipvs/desired.ts';
import { sharedRunners } from '../../src/check/runner.ts';
import { flagFile } from '../../src/director/quorum-track.ts';
import { VrrpService } from '../../src/vrrp/service.ts';
import { config, FakeKernel, harness } from './fakes.ts';

const vs = (extra = '', rs = ['10.1.0.1', '10.1.0.2', '10.1.0.3'], addr = '10.0.0.1') => `
virtual_server ${addr} 80 {
  delay_loop 1
  lb_algo wrr
  lb_kind NAT
  protocol TCP
  ${extra}
${rs.map((a) => `  real_server ${a} 80 {\n    weight 2\n    TCP_CHECK {\n      connect_timeout 1\n    }\n  }`).join('\n')}
}`;

const BASE = config(vs());

test('start-up adopts the kernel table: nothing checked yet, nothing removed, no flush', async () => {
  const kernel = new FakeKernel();
  kernel.load(desiredTable(BASE));
  const h = harness(BASE, { kernel, owned: ['TCP 10.0.0.1:80'] });
  await h.director.start();
  assert.deepEqual(kernel.applies, []);
  assert.deepEqual(kernel.view(), { 'TCP 10.0.0.1:80': ['10.1.0.1:80 w2', '10.1.0.2:80 w2', '10.1.0.3:80 w2'] });
  assert.equal(h.checks.length, 1);
  assert.equal(h.checks[0]!.started, true);
});

test('empty kernel: the service is created and real servers join as their checks pass', async () => {
  const h = harness(BASE);
  await h.director.start();
  assert.deepEqual(h.kernel.view(), { 'TCP 10.0.0.1:80': [] });
  h.checker('10.0.0.1').verdict('10.1.0.1', true);
  await h.director.idle();
  assert.deepEqual(h.kernel.view(), { 'TCP 10.0.0.1:80': ['10.1.0.1:80 w2'] });
});

test('start-up: real servers without a checker go in with their services in one apply and one always-up event, not a verdict each', async () => {
  const unchecked = (addr: string, rss: string[]) => `
virtual_server ${addr} 80 {
  lb_algo wrr
  lb_kind NAT
  protocol TCP
${rss.map((a) => `  real_server ${a} 80 {\n    weight 2\n  }`).join('\n')}
}`;
  const cfg = config(unchecked('10.0.0.1', ['10.1.0.1', '10.1.0.2', '10.1.0.3']) + unchecked('10.0.0.2', ['10.1.0.4', '10.1.0.5']));
  const h = harness(cfg, { checks: sharedRunners({ runScripts: false, quietAlwaysUp: true }) });
  await h.director.start();
  assert.equal(h.kernel.applies.length, 1);
  assert.deepEqual(h.kernel.view(), {
    'TCP 10.0.0.1:80': ['10.1.0.1:80 w2', '10.1.0.2:80 w2', '10.1.0.3:80 w2'],
    'TCP 10.0.0.2:80': ['10.1.0.4:80 w2', '10.1.0.5:80 w2'],
  });
  assert.deepEqual(h.events.filter((e) => e.type === 'verdict'), []);
  const types = h.events.map((e) => e.type);
  assert.ok(types.indexOf('always-up') < types.indexOf('started'));
  assert.deepEqual(h.events.filter((e) => e.type === 'always-up').map(({ at: _, ...e }) => e), [{ type: 'always-up', realServers: 5, virtualServers: 2 }]);
  assert.deepEqual(h.events.filter((e) => e.type === 'quorum-up').map(({ at: _, ...e }) => e), [{ type: 'quorum-up', virtualServers: 2 }]);
  assert.deepEqual(h.events.filter((e) => e.type === 'quorum').map((e) => e.type === 'quorum' && e.first), [true, true]);
  // A reload that adds a virtual server counts its real servers the same way; the others say nothing again.
  await h.director.reload(config(unchecked('10.0.0.1', ['10.1.0.1', '10.1.0.2', '10.1.0.3']) + unchecked('10.0.0.2', ['10.1.0.4', '10.1.0.5']) + unchecked('10.0.0.3', ['10.1.0.6'])));
  assert.deepEqual(h.events.filter((e) => e.type === 'always-up').map((e) => e.type === 'always-up' && e.realServers), [5, 1]);
  assert.deepEqual(h.events.filter((e) => e.type === 'verdict'), []);
  await h.director.stop();
});

test('a down verdict removes the real server in one minimal plan; a burst is coalesced into one apply', async () => {
  const kernel = new FakeKernel();
  kernel.load(desiredTable(BASE));
  const h = harness(BASE, { kernel, owned: ['TCP 10.0.0.1:80'] });
  await h.director.start();
  const c = h.checker('10.0.0.1');
  c.verdict('10.1.0.1', true);
  c.verdict('10.1.0.2', false);
  c.verdict('10.1.0.3', false);
  await h.director.idle();
  assert.equal(kernel.applies.length, 1);
  assert.deepEqual(kernel.applies[0]!.map((o) => o.op), ['del-dest', 'del-dest']);
  assert.deepEqual(kernel.view(), { 'TCP 10.0.0.1:80': ['10.1.0.1:80 w2'] });
  const applied = h.events.find((e) => e.type === 'applied');
  assert.ok(applied && applied.type === 'applied' && applied.sinceVerdictMs !== undefined && applied.sinceVerdictMs < 1000);
  c.verdict('10.1.0.2', true);
  await h.director.idle();
  assert.deepEqual(kernel.applies[1]!.map((o) => o.op), ['add-dest']);
});

test('inhibit_on_failure keeps a down server at weight 0', async () => {
  const cfg = config(vs('inhibit_on_failure'));
  const h = harness(cfg);
  await h.director.start();
  const c = h.checker('10.0.0.1');
  c.verdict('10.1.0.1', true);
  c.verdict('10.1.0.2', false, { present: true, weight: 0 });
  await h.director.idle();
  assert.deepEqual(h.kernel.view(), { 'TCP 10.0.0.1:80': ['10.1.0.1:80 w2', '10.1.0.2:80 w0'] });
});

test('quorum loss puts the sorry server in; a quorum track writes its flag file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'director-'));
  try {
    const cfg = config(`vrrp_instance VI_1 {\n state MASTER\n interface lo\n virtual_router_id 1\n priority 100\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n${vs('quorum 4\n  sorry_server 10.9.9.9 80')}`);
    const h = harness(cfg, { runDir: dir, quorumTracks: [{ virtualServer: 'TCP 10.0.0.1:80', instance: 'VI_1', weight: -50 }] });
    await h.director.start();
    const vrrpCfg = h.vrrps[0]!.config;
    assert.equal(vrrpCfg.vrrpScripts.length, 1);
    assert.deepEqual(vrrpCfg.vrrpInstances[0]!.trackScripts.map((t) => t.name), [vrrpCfg.vrrpScripts[0]!.name]);
    const c = h.checker('10.0.0.1');
    const theVs = cfg.virtualServers[0]!;
    c.emit({ kind: 'quorum', virtualServer: theVs, up: false, liveWeight: 2, at: 0 });
    c.emit({ kind: 'sorryServer', virtualServer: theVs, sorryServer: theVs.sorryServer!, present: true, weight: 1, at: 0 });
    await h.director.idle();
    assert.deepEqual(h.kernel.view(), { 'TCP 10.0.0.1:80': ['10.9.9.9:80 w1'] });
    assert.ok(existsSync(flagFile(dir, 'TCP 10.0.0.1:80')));
    c.emit({ kind: 'quorum', virtualServer: theVs, up: true, liveWeight: 6, at: 0 });
    await h.director.idle();
    assert.ok(!existsSync(flagFile(dir, 'TCP 10.0.0.1:80')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('reload: unchanged virtual servers keep their checkers; a changed one is reconfigured in place; removed real servers drain', async () => {
  const two = config(`${vs()}\n${vs('', ['10.2.0.1'], '10.0.0.2')}`);
  const h = harness(two);
  await h.director.start();
  const c1 = h.checker('10.0.0.1');
  const c2 = h.checker('10.0.0.2');
  for (const a of ['10.1.0.1', '10.1.0.2', '10.1.0.3']) c1.verdict(a, true);
  c2.verdict('10.2.0.1', true);
  await h.director.idle();
  // 10.1.0.3 carries connections: it must drain at weight 0, not be cut.
  h.kernel.setConnections('TCP 10.0.0.1:80', '10.1.0.3:80', 5);
  const next = config(`${vs('', ['10.1.0.1', '10.1.0.2', '10.1.0.4'])}\n${vs('', ['10.2.0.1'], '10.0.0.2')}`);
  await h.director.reload(next);
  assert.equal(c2.stopped, false, 'the unchanged virtual server keeps its checker');
  assert.deepEqual(c2.reconfigured, [], 'and it is not even told');
  assert.equal(c1.stopped, false, 'the changed one keeps its checkers running (the runner keeps unchanged ones\' state)');
  assert.deepEqual(c1.reconfigured.map((vss) => vss.map((v) => v.realServers.map((r) => r.address))), [[['10.1.0.1', '10.1.0.2', '10.1.0.4']]]);
  const n1 = h.checker('10.0.0.1');
  assert.equal(n1, c1);
  assert.deepEqual(h.kernel.view()['TCP 10.0.0.1:80'], ['10.1.0.1:80 w2', '10.1.0.2:80 w2', '10.1.0.3:80 w0']);
  n1.verdict('10.1.0.4', true);
  await h.director.idle();
  assert.deepEqual(h.kernel.view()['TCP 10.0.0.1:80'], ['10.1.0.1:80 w2', '10.1.0.2:80 w2', '10.1.0.3:80 w0', '10.1.0.4:80 w2']);
  // Connections gone: the next reconcile deletes it.
  h.kernel.setConnections('TCP 10.0.0.1:80', '10.1.0.3:80', 0);
  h.director.checkDrift();
  await h.director.idle();
  assert.deepEqual(h.kernel.view()['TCP 10.0.0.1:80'], ['10.1.0.1:80 w2', '10.1.0.2:80 w2', '10.1.0.4:80 w2']);
  assert.ok(h.events.some((e) => e.type === 'reloaded'));
});

test('reload removing a virtual server deletes its service; services we do not own are never touched', async () => {
  const kernel = new FakeKernel();
  kernel.load(desiredTable(config(vs('', ['10.3.0.1'], '10.0.0.9'))));
  const two = config(`${vs()}\n${vs('', ['10.2.0.1'], '10.0.0.2')}`);
  const h = harness(two, { kernel });
  await h.director.start();
  await h.director.reload(BASE);
  assert.deepEqual(Object.keys(kernel.view()).sort(), ['TCP 10.0.0.1:80', 'TCP 10.0.0.9:80']);
});

test('drift: an external change to our table is repaired and reported; VIPs of a MASTER instance are put back', async () => {
  const cfg = config(`vrrp_instance VI_1 {\n state MASTER\n interface lo\n virtual_router_id 1\n priority 100\n virtual_ipaddress {\n 10.0.0.1/32\n }\n}\n${vs()}`);
  const h = harness(cfg, { local: ['10.0.0.1'] });
  await h.director.start();
  h.checker('10.0.0.1').verdict('10.1.0.1', true);
  await h.director.idle();
  h.kernel.services.get('TCP 10.0.0.1:80')!.destinations.delete('10.1.0.1:80');
  h.director.checkDrift();
  await h.director.idle();
  assert.deepEqual(h.kernel.view()['TCP 10.0.0.1:80'], ['10.1.0.1:80 w2']);
  const drift = h.events.filter((e) => e.type === 'drift');
  assert.equal(drift.length, 1);
  h.vrrps[0]!.transition('VI_1', 'BACKUP', 'MASTER');
  h.addressEvent({ kind: 'del', address: '10.0.0.1' });
  await h.director.idle();
  assert.ok(h.local.has('10.0.0.1'));
  assert.equal(h.events.filter((e) => e.type === 'drift').length, 2);
  assert.equal(h.director.counters.driftRepairs, 2);
});

test('the sync daemon follows the lvs_sync_daemon instance: backup at start, master on MASTER, back on BACKUP', async () => {
  const cfg = config(`global_defs {\n lvs_sync_daemon lo VI_1\n}\nvrrp_instance VI_1 {\n state MASTER\n interface lo\n virtual_router_id 7\n priority 100\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n`);
  const h = harness(cfg);
  await h.director.start();
  h.vrrps[0]!.transition('VI_1', 'INIT', 'MASTER');
  h.vrrps[0]!.transition('VI_1', 'MASTER', 'BACKUP');
  await h.director.stop();
  // The sync id defaults to the followed instance's virtual_router_id, as in keepalived.
  assert.deepEqual(h.kernel.daemons, ['stop master', 'start backup lo 7', 'stop backup', 'start master lo 7', 'stop master', 'start backup lo 7', 'stop backup']);
  assert.equal(h.vrrps[0]!.stopped, true);
});

test('lvs_sync_daemon following no instance runs the master and the backup daemon from start to stop, as keepalived does', async () => {
  const cfg = config(`global_defs {\n lvs_sync_daemon lo id 9\n}\nvrrp_instance VI_1 {\n interface lo\n virtual_router_id 7\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n`);
  const h = harness(cfg);
  await h.director.start();
  h.vrrps[0]!.transition('VI_1', 'INIT', 'MASTER');
  h.vrrps[0]!.transition('VI_1', 'MASTER', 'BACKUP');
  await h.director.stop();
  assert.deepEqual(h.kernel.daemons, ['start master lo 9', 'start backup lo 9', 'stop master', 'stop backup']);
});

test('lvs_timeouts are set at start and again only when a reload changes them; kinds left out stay as they are', async () => {
  const withTimeouts = (t: string) => config(`global_defs {\n lvs_timeouts ${t}\n}\n${vs()}`);
  const h = harness(withTimeouts('tcp 7200 udp 300'));
  await h.director.start();
  assert.deepEqual(h.kernel.timeouts, [{ tcp: 7200, tcpFin: 0, udp: 300 }]);
  await h.director.reload(withTimeouts('tcp 7200 udp 300'));
  assert.equal(h.kernel.timeouts.length, 1, 'an unchanged lvs_timeouts is not set again');
  await h.director.reload(withTimeouts('tcp 900 tcpfin 60 udp 300'));
  assert.deepEqual(h.kernel.timeouts[1], { tcp: 900, tcpFin: 60, udp: 300 });
  assert.ok(h.events.some((e) => e.type === 'lvs-timeouts' && e.tcp === 900));
  await h.director.reload(BASE);
  assert.equal(h.kernel.timeouts.length, 2, 'a removed lvs_timeouts leaves the kernel as it is');
  await h.director.stop();
});

test('ha_suspend: checkers run only while the VIP is local', async () => {
  const cfg = config(vs('ha_suspend'));
  const h = harness(cfg);
  await h.director.start();
  assert.equal(h.checks.length, 0);
  h.addressEvent({ kind: 'add', address: '10.0.0.1' });
  assert.equal(h.checks.length, 1);
  h.addressEvent({ kind: 'del', address: '10.0.0.1' });
  assert.equal(h.checks[0]!.stopped, true);
  const status = await h.director.status();
  assert.equal(status.virtualServers[0]!.suspended, true);
});

test('stop keeps IPVS by default and removes only owned services with lvs_flush_on_stop', async () => {
  const kernel = new FakeKernel();
  kernel.load(desiredTable(config(vs('', ['10.3.0.1'], '10.0.0.9'))));
  const keep = harness(BASE, { kernel });
  await keep.director.start();
  keep.checker('10.0.0.1').verdict('10.1.0.1', true);
  await keep.director.stop();
  assert.deepEqual(Object.keys(kernel.view()).sort(), ['TCP 10.0.0.1:80', 'TCP 10.0.0.9:80']);
  const flush = harness(config(`global_defs {\n lvs_flush_on_stop\n}\n${vs()}`), { kernel, owned: ['TCP 10.0.0.1:80'] });
  await flush.director.start();
  await flush.director.stop();
  assert.deepEqual(Object.keys(kernel.view()), ['TCP 10.0.0.9:80']);
});

test('status: real servers with verdicts, configured and current weights, VRRP view', async () => {
  const h = harness(config(`vrrp_instance VI_1 {\n state MASTER\n interface lo\n virtual_router_id 1\n priority 150\n virtual_ipaddress {\n 10.0.0.1/32\n }\n}\n${vs()}`));
  await h.director.start();
  h.checker('10.0.0.1').verdict('10.1.0.1', true);
  h.checker('10.0.0.1').verdict('10.1.0.2', false);
  h.vrrps[0]!.transition('VI_1', 'BACKUP', 'MASTER', 150);
  await h.director.idle();
  const s = await h.director.status();
  assert.equal(s.vrrp[0]!.state, 'MASTER');
  assert.equal(s.vrrp[0]!.lastTransition?.from, 'BACKUP');
  const rss = s.virtualServers[0]!.realServers;
  assert.deepEqual(rss.map((r) => [r.address, r.up, r.inTable, r.weight]), [['10.1.0.1', true, true, 2], ['10.1.0.2', false, false, null], ['10.1.0.3', null, false, null]]);
  JSON.stringify(s);
});

test('VRRP dies: instances show STOP with the reason, its VIPs are removed and never put back, and a keep-table stop leaves IPVS even with lvs_flush_on_stop', async () => {
  const cfg = config(`global_defs {\n lvs_flush_on_stop\n}\nvrrp_instance VI_1 {\n state MASTER\n interface lo\n virtual_router_id 1\n priority 100\n virtual_ipaddress {\n 10.0.0.1/32\n }\n virtual_ipaddress_excluded {\n 10.0.0.2/32\n }\n}\n${vs()}`);
  const kernel = new FakeKernel();
  kernel.load(desiredTable(cfg));
  const h = harness(cfg, { kernel, owned: ['TCP 10.0.0.1:80'], local: ['10.0.0.1', '10.0.0.2'] });
  await h.director.start();
  h.vrrps[0]!.transition('VI_1', 'BACKUP', 'MASTER');
  h.vrrps[0]!.die();
  await h.director.idle();
  assert.deepEqual(h.events.filter((e) => e.type === 'vrrp-failed').map((e) => e.type === 'vrrp-failed' && e.code), ['VRRP_WORKER']);
  assert.deepEqual(h.deletedVips, ['10.0.0.1/32 dev lo', '10.0.0.2/32 dev lo']);
  const s = await h.director.status();
  assert.equal(s.vrrp[0]!.state, 'STOP');
  assert.deepEqual(s.vrrpFailure && { code: s.vrrpFailure.code, message: s.vrrpFailure.message }, { code: 'VRRP_WORKER', message: 'VRRP worker exited unexpectedly (code 1)' });
  assert.equal(s.vrrp[0]!.lastTransition?.from, 'MASTER');
  assert.match(s.vrrp[0]!.lastTransition?.why ?? '', /^VRRP failed: /);
  // The last transition said MASTER, but a dead VRRP holds nothing: drift repair must not add the VIPs back.
  h.director.checkDrift();
  await h.director.idle();
  assert.equal(h.local.has('10.0.0.1'), false);
  assert.equal(h.events.filter((e) => e.type === 'drift').length, 0);
  await h.director.stop({ keepTable: true });
  assert.deepEqual(Object.keys(kernel.view()), ['TCP 10.0.0.1:80']);
});

test('with the real VrrpService: a status asked while the worker thread dies answers at once, VRRP in STOP', async () => {
  const cfg = config(`vrrp_instance VI_1 {\n state MASTER\n interface lo\n virtual_router_id 1\n priority 100\n virtual_ipaddress {\n 10.0.0.1/32\n }\n}\n${vs()}`);
  // The stand-in worker exits when it gets its first status request, so the request is in flight at its death.
  const spawn = () => new Worker(new URL('../vrrp/fake-worker.ts', import.meta.url), { workerData: { death: 'exit' } });
  const h = harness(cfg, { vrrp: (c, hooks) => VrrpService.start(c, hooks, spawn) });
  await h.director.start();
  const t0 = performance.now();
  const s = await h.director.status();
  assert.ok(performance.now() - t0 < 1000, 'status answered without waiting for the dead worker');
  assert.equal(s.vrrp[0]!.state, 'STOP');
  assert.equal(s.vrrpFailure?.code, 'VRRP_WORKER');
  assert.equal(h.events.filter((e) => e.type === 'vrrp-failed').length, 1);
  await h.director.stop({ keepTable: true });
});
