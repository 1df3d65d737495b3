// The announce decision with an injected clock: rise/fall damping, the inputs that gate a VIP, stop.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AnnouncePolicy } from '../../src/bgp/policy.ts';
import type { DirectorEventBody } from '../../src/director/events.ts';

const A = '192.0.2.10/32';
const B = '2001:db8::10/128';
const targets = new Map([[A, ['TCP 192.0.2.10:80', 'TCP 192.0.2.10:443']], [B, ['TCP [2001:db8::10]:80']]]);
const quorum = (virtualServer: string, up: boolean): DirectorEventBody => ({ type: 'quorum', virtualServer, up, liveWeight: up ? 1 : 0 });
const healthy = (p: AnnouncePolicy): void => {
  p.onEvent({ type: 'started', virtualServers: 3, instances: 0 });
  for (const l of targets.values()) for (const vs of l) p.onEvent(quorum(vs, true));
};
const announced = (p: AnnouncePolicy): string[] => p.status().filter((v) => v.announced).map((v) => v.prefix);

test('a VIP is announced after rise healthy observations and withdrawn after fall unhealthy ones', () => {
  const p = new AnnouncePolicy(targets, { rise: 3, fall: 2 }, 0);
  assert.deepEqual(p.tick(1000), []);
  assert.match(p.status()[0]?.reason ?? '', /IPVS table not programmed/);
  healthy(p);
  assert.deepEqual(p.tick(2000), []);
  assert.equal(p.status()[0]?.reason, 'healthy (1/3 rise)');
  assert.deepEqual(p.tick(3000), []);
  assert.deepEqual(p.tick(4000).map((c) => [c.prefix, c.announce]), [[A, true], [B, true]]);
  assert.equal(p.status()[0]?.since, 4000);
  p.onEvent(quorum('TCP 192.0.2.10:443', false));
  assert.deepEqual(p.tick(5000), []);
  assert.equal(p.status()[0]?.reason, 'no quorum: TCP 192.0.2.10:443 (1/2 fall)');
  const c = p.tick(6000);
  assert.deepEqual(c, [{ prefix: A, announce: false, reason: 'no quorum: TCP 192.0.2.10:443' }]);
  assert.deepEqual(announced(p), [B]);
  assert.deepEqual(p.status()[0], { prefix: A, announced: false, since: 6000, healthy: false, reason: 'no quorum: TCP 192.0.2.10:443' });
});

test('a flap shorter than rise or fall changes nothing: the streak restarts', () => {
  const p = new AnnouncePolicy(targets, { rise: 2, fall: 2 }, 0);
  healthy(p);
  p.tick(1);
  p.tick(2);
  assert.deepEqual(announced(p), [A, B]);
  p.onEvent(quorum('TCP 192.0.2.10:80', false));
  p.tick(3);
  p.onEvent(quorum('TCP 192.0.2.10:80', true));
  p.tick(4);
  p.onEvent(quorum('TCP 192.0.2.10:80', false));
  assert.deepEqual(p.tick(5), []);
  assert.deepEqual(p.tick(6).map((c) => c.prefix), [A]);
});

test('a virtual server whose quorum was never decided keeps its VIP withdrawn', () => {
  const p = new AnnouncePolicy(targets, { rise: 1, fall: 1 }, 0);
  p.onEvent({ type: 'started', virtualServers: 3, instances: 0 });
  p.onEvent(quorum('TCP 192.0.2.10:80', true));
  assert.deepEqual(p.tick(1), []);
  assert.equal(p.status()[0]?.reason, 'no quorum: TCP 192.0.2.10:443 (not decided yet)');
});

test('IPVS failures and an unhealthy daemon withdraw every VIP; a clean apply brings them back', () => {
  const p = new AnnouncePolicy(targets, { rise: 1, fall: 1 }, 0);
  healthy(p);
  assert.equal(p.tick(1).length, 2);
  p.onEvent({ type: 'error', where: 'ipvs', message: 'EINVAL' });
  p.onEvent({ type: 'applied', reasons: ['verdict'], ops: ['x'], count: 1, failed: 1 });
  assert.deepEqual(p.tick(2).map((c) => c.announce), [false, false]);
  assert.equal(p.status()[0]?.reason, 'IPVS table not programmed');
  p.onEvent({ type: 'error', where: 'vip', message: 'not an IPVS problem' });
  p.onEvent({ type: 'applied', reasons: ['drift'], ops: ['x'], count: 1, failed: 0 });
  assert.deepEqual(p.tick(3).map((c) => c.announce), [true, true]);
  p.onEvent({ type: 'error', where: 'reconcile', message: 'netlink socket closed' });
  assert.deepEqual(p.tick(4).map((c) => c.announce), [false, false]);
  p.onEvent({ type: 'applied', reasons: ['drift'], ops: ['x'], count: 1, failed: 0 });
  p.tick(5);
  p.setDaemonHealthy(false);
  assert.deepEqual(p.tick(6).map((c) => c.reason), ['daemon unhealthy', 'daemon unhealthy']);
});

test('an IPVS error during start keeps the VIPs withdrawn even though the start completes', () => {
  const p = new AnnouncePolicy(targets, { rise: 1, fall: 1 }, 0);
  p.onEvent({ type: 'error', where: 'ipvs', message: 'EEXIST' });
  healthy(p);
  assert.deepEqual(p.tick(1), []);
});

test('stopping withdraws everything at once, whatever fall says, and nothing is announced again', () => {
  const p = new AnnouncePolicy(targets, { rise: 1, fall: 5 }, 0);
  healthy(p);
  p.tick(1);
  p.onEvent({ type: 'stopping' });
  assert.deepEqual(p.tick(2).map((c) => [c.announce, c.reason]), [[false, 'stopping'], [false, 'stopping']]);
  assert.deepEqual(p.tick(3), []);
  assert.deepEqual(p.stopAll(4), []);
});

test('retarget: new VIPs start withdrawn, kept ones keep their state, settings change', () => {
  const p = new AnnouncePolicy(new Map([[A, ['TCP 192.0.2.10:80']]]), { rise: 1, fall: 1 }, 0);
  healthy(p);
  p.tick(1);
  p.retarget(new Map([[A, ['TCP 192.0.2.10:80']], [B, ['TCP [2001:db8::10]:80']]]), 2, { rise: 2, fall: 1 });
  assert.deepEqual(p.status().map((v) => [v.prefix, v.announced, v.since]), [[A, true, 1], [B, false, 2]]);
  assert.deepEqual(p.tick(3), []);
  assert.deepEqual(p.tick(4).map((c) => c.prefix), [B]);
});
