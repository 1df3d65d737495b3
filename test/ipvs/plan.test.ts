import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serviceKey } from '../../src/ipvs/identity.ts';
import { planIpvs } from '../../src/ipvs/plan.ts';
import type { DestinationEntry, DestinationSpec, IpvsTable, ServiceSpec } from '../../src/ipvs/types.ts';

const FLAGS = { persistent: false, onePacket: false, shFallback: false, shPort: false, schedFlag3: false };
const svc = (address: string, port = 80, scheduler = 'wrr'): ServiceSpec => ({
  id: { kind: 'addr', family: 4, protocol: 'TCP', address, port }, scheduler, flags: FLAGS, timeoutS: 0, netmask: '255.255.255.255',
});
const dst = (address: string, weight = 1): DestinationSpec => ({ address, family: 4, port: 80, forward: 'droute', weight, upperThreshold: 0, lowerThreshold: 0 });
const keys = (t: IpvsTable): Set<string> => new Set(t.services.map((s) => serviceKey(s.service.id)));

const A = svc('10.0.0.1');
const B = svc('10.0.0.2');
const desired: IpvsTable = { services: [{ service: A, destinations: [dst('10.1.0.1'), dst('10.1.0.2'), dst('10.1.0.3')] }] };

test('empty kernel: add the service, then its destinations', () => {
  const ops = planIpvs({ desired, kernel: { services: [] }, owned: new Set() });
  assert.deepEqual(ops.map((o) => o.op), ['add-service', 'add-dest', 'add-dest', 'add-dest']);
});

test('kernel equal to desired: nothing to do (idempotent)', () => {
  assert.deepEqual(planIpvs({ desired, kernel: desired, owned: keys(desired) }), []);
});

test('one weight changed: exactly one edit-dest', () => {
  const changed: IpvsTable = { services: [{ service: A, destinations: [dst('10.1.0.1'), dst('10.1.0.2', 5), dst('10.1.0.3')] }] };
  const ops = planIpvs({ desired: changed, kernel: desired, owned: keys(desired) });
  assert.deepEqual(ops, [{ op: 'edit-dest', service: A.id, dest: dst('10.1.0.2', 5) }]);
});

test('scheduler change edits the service in place, destinations untouched', () => {
  const changed: IpvsTable = { services: [{ service: { ...A, scheduler: 'wlc' }, destinations: desired.services[0]!.destinations }] };
  assert.deepEqual(planIpvs({ desired: changed, kernel: desired, owned: keys(desired) }).map((o) => o.op), ['edit-service']);
});

test('removed real server: deleted, or drained to weight 0 and deleted once it has no connections', () => {
  const fewer: IpvsTable = { services: [{ service: A, destinations: [dst('10.1.0.1'), dst('10.1.0.2')] }] };
  const gone = { address: '10.1.0.3', family: 4, port: 80 };
  assert.deepEqual(planIpvs({ desired: fewer, kernel: desired, owned: keys(desired) }), [{ op: 'del-dest', service: A.id, dest: gone }]);
  assert.deepEqual(planIpvs({ desired: fewer, kernel: desired, owned: keys(desired), drainRemoved: true }), [
    { op: 'edit-dest', service: A.id, dest: dst('10.1.0.3', 0) },
  ]);
  const stats = { conns: 0n, inPkts: 0n, outPkts: 0n, inBytes: 0n, outBytes: 0n, cps: 0n, inPps: 0n, outPps: 0n, inBps: 0n, outBps: 0n };
  const drained = (active: number): IpvsTable => {
    const entry: DestinationEntry = { ...dst('10.1.0.3', 0), activeConns: active, inactiveConns: 0, persistConns: 0, stats };
    return { services: [{ service: A, destinations: [dst('10.1.0.1'), dst('10.1.0.2'), entry] }] };
  };
  assert.deepEqual(planIpvs({ desired: fewer, kernel: drained(2), owned: keys(desired), drainRemoved: true }), []);
  assert.deepEqual(planIpvs({ desired: fewer, kernel: drained(0), owned: keys(desired), drainRemoved: true }), [{ op: 'del-dest', service: A.id, dest: gone }]);
});

test('services we do not own are never touched; owned ones that left the config are deleted first', () => {
  const kernel: IpvsTable = { services: [...desired.services, { service: B, destinations: [dst('10.2.0.1')] }, { service: svc('10.0.0.3'), destinations: [] }] };
  const owned = new Set([...keys(desired), serviceKey(svc('10.0.0.3').id)]);
  const want: IpvsTable = { services: [...desired.services, { service: svc('10.0.0.4'), destinations: [dst('10.4.0.1')] }] };
  const ops = planIpvs({ desired: want, kernel, owned });
  assert.deepEqual(ops.map((o) => o.op), ['del-service', 'add-service', 'add-dest']);
  assert.deepEqual(ops[0], { op: 'del-service', id: svc('10.0.0.3').id });
});

test('a desired service someone else created is adopted and made to match', () => {
  const foreign: IpvsTable = { services: [{ service: { ...A, scheduler: 'rr' }, destinations: [dst('10.9.9.9')] }] };
  const ops = planIpvs({ desired, kernel: foreign, owned: new Set() });
  assert.deepEqual(ops.map((o) => o.op), ['edit-service', 'del-dest', 'add-dest', 'add-dest', 'add-dest']);
});

test('tunnel settings and thresholds are compared; defaults match the kernel read-back', () => {
  const t = (tunnel?: DestinationSpec['tunnel']): DestinationSpec => ({ ...dst('10.1.0.1'), forward: 'tunnel', ...(tunnel ? { tunnel } : {}) });
  const table = (d: DestinationSpec): IpvsTable => ({ services: [{ service: A, destinations: [d] }] });
  assert.deepEqual(planIpvs({ desired: table(t()), kernel: table(t({ type: 'ipip' })), owned: keys(desired) }), []);
  assert.equal(planIpvs({ desired: table(t({ type: 'gue', port: 6080 })), kernel: table(t({ type: 'ipip' })), owned: keys(desired) }).length, 1);
  assert.equal(planIpvs({ desired: table({ ...dst('10.1.0.1'), upperThreshold: 9 }), kernel: table(dst('10.1.0.1')), owned: keys(desired) }).length, 1);
});

