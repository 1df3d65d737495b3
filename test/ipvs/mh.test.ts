import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addAtHashWeight, canonicalOrder, withFailedAtZero } from '../../src/ipvs/mh.ts';
import { planService } from '../../src/ipvs/plan.ts';
import type { DestinationSpec, ServiceSpec } from '../../src/ipvs/types.ts';

const FLAGS = { persistent: false, onePacket: false, shFallback: false, shPort: false, schedFlag3: false };
const svc = (scheduler: string, fallback = false): ServiceSpec => ({
  id: { kind: 'addr', family: 4, protocol: 'TCP', address: '192.0.2.10', port: 80 }, scheduler, flags: { ...FLAGS, shFallback: fallback, shPort: true }, timeoutS: 0, netmask: '255.255.255.255',
});
const dst = (address: string, weight = 1, port = 80): DestinationSpec => ({ address, family: address.includes(':') ? 6 : 4, port, forward: 'droute', weight, upperThreshold: 0, lowerThreshold: 0 });
const names = (ds: readonly { address: string; port: number }[]): string[] => ds.map((d) => `${d.address}:${d.port}`);

test('canonical order: address bytes (not text), then port, IPv4 before IPv6', () => {
  const order = canonicalOrder([dst('2001:db8::1'), dst('10.0.0.10'), dst('10.0.0.9', 1, 90), dst('10.0.0.9', 1, 80)]);
  assert.deepEqual(names(order), ['10.0.0.9:80', '10.0.0.9:90', '10.0.0.10:80', '2001:db8::1:80']);
});

test('planService adds mh destinations in canonical order whatever the configuration order; other schedulers keep it', () => {
  const dests = [dst('10.0.0.3'), dst('10.0.0.1'), dst('10.0.0.2')];
  const adds = (scheduler: string) => names(planService({ service: svc(scheduler), destinations: dests }, undefined).flatMap((o) => (o.op === 'add-dest' ? [o.dest] : [])));
  assert.deepEqual(adds('mh'), ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80']);
  assert.deepEqual(adds('rr'), ['10.0.0.3:80', '10.0.0.1:80', '10.0.0.2:80']);
  // A service that exists: a new destination is added, again in canonical order among the added ones.
  const more = planService({ service: svc('mh'), destinations: [dst('10.0.0.9'), dst('10.0.0.1'), dst('10.0.0.5')] }, { service: svc('mh'), destinations: [dst('10.0.0.1')] });
  assert.deepEqual(more.map((o) => `${o.op} ${o.op === 'add-dest' ? o.dest.address : ''}`), ['add-dest 10.0.0.5', 'add-dest 10.0.0.9']);
});

test('mh with mh-fallback: a configured real server the checkers took out stays at weight 0, in canonical order', () => {
  const configured = { service: svc('mh', true), destinations: [dst('10.0.0.2', 3), dst('10.0.0.1', 2)] };
  const want = withFailedAtZero({ service: configured.service, destinations: [dst('10.0.0.2', 3)] }, configured);
  assert.deepEqual(want.destinations, [dst('10.0.0.1', 0), dst('10.0.0.2', 3)]);
  // Without mh-fallback (a weight-0 server would get its flows and drop them) and for other schedulers: unchanged.
  for (const service of [svc('mh'), svc('rr', true)]) {
    const w = { service, destinations: [dst('10.0.0.2', 3)] };
    assert.equal(withFailedAtZero(w, { ...configured, service }), w);
  }
});

test('mh with mh-fallback: a real server added at weight 0 is added at its configured weight, then set to 0', () => {
  const configured = { service: svc('mh', true), destinations: [dst('10.0.0.1', 2), dst('10.0.0.2', 3)] };
  const ops = planService(withFailedAtZero({ service: configured.service, destinations: [dst('10.0.0.2', 3)] }, configured), undefined);
  assert.deepEqual(addAtHashWeight(ops, configured), [
    { op: 'add-service', service: configured.service },
    { op: 'add-dest', service: configured.service.id, dest: dst('10.0.0.1', 2) },
    { op: 'edit-dest', service: configured.service.id, dest: dst('10.0.0.1', 0) },
    { op: 'add-dest', service: configured.service.id, dest: dst('10.0.0.2', 3) },
  ]);
  // A failure of a server that is in: one edit to weight 0, no delete.
  const failed = planService(withFailedAtZero({ service: configured.service, destinations: [dst('10.0.0.2', 3)] }, configured), { service: configured.service, destinations: configured.destinations });
  assert.deepEqual(addAtHashWeight(failed, configured), [{ op: 'edit-dest', service: configured.service.id, dest: dst('10.0.0.1', 0) }]);
});
