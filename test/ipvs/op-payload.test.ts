import assert from 'node:assert/strict';
import { test } from 'node:test';
import { opPayload, opRequest } from '../../src/ipvs/codec.ts';
import { encodeGenl } from '../../src/netlink/genl.ts';
import type { DestinationSpec, IpvsOp, ServiceId, ServiceSpec } from '../../src/ipvs/types.ts';

const NO_FLAGS = { persistent: false, onePacket: false, shFallback: false, shPort: false, schedFlag3: false };
const v4: ServiceId = { kind: 'addr', family: 4, protocol: 'TCP', address: '10.0.0.1', port: 80 };
const v6: ServiceId = { kind: 'addr', family: 6, protocol: 'UDP', address: '2001:db8::1', port: 53 };
const mark: ServiceId = { kind: 'fwmark', family: 4, mark: 7 };
const dest = (address: string, family: 4 | 6, extra: Partial<DestinationSpec> = {}): DestinationSpec => ({
  address, family, port: 8080, forward: 'masq', weight: 3, upperThreshold: 100, lowerThreshold: 10, ...extra,
});

function ops(): IpvsOp[] {
  const out: IpvsOp[] = [];
  for (const [service, d] of [
    [v4, dest('10.1.0.2', 4)],
    [v4, dest('10.1.0.3', 4, { forward: 'droute', weight: 0, upperThreshold: 0, lowerThreshold: 0 })],
    [v6, dest('2001:db8::2', 6, { forward: 'local' })],
    [mark, dest('10.1.0.4', 4, { port: 0, weight: 4294967295 })],
    [mark, dest('2001:db8::3', 6, { forward: 'bypass' })],
    [v4, dest('10.1.0.5', 4, { forward: 'tunnel', tunnel: { type: 'gue', port: 6080, csum: 'remote' } })],
  ] as const) {
    out.push({ op: 'add-dest', service, dest: d }, { op: 'edit-dest', service, dest: d }, { op: 'del-dest', service, dest: d });
  }
  const spec: ServiceSpec = { id: v6, scheduler: 'wlc', flags: NO_FLAGS, timeoutS: 300, netmask: '128', pe: 'sip' };
  out.push({ op: 'add-service', service: spec }, { op: 'edit-service', service: spec }, { op: 'del-service', id: mark });
  return out;
}

test('opPayload writes exactly what encodeGenl(opRequest(op)) does, for every kind of step', () => {
  for (const op of ops()) {
    const r = opRequest(op);
    assert.deepEqual(opPayload(op, 1).toString('hex'), encodeGenl(r.cmd, 1, r.attrs).toString('hex'), op.op);
  }
});

test('payloads written back to back across slab boundaries stay intact', () => {
  const all = Array.from({ length: 3000 }, (_, i) => ops()[i % 18] as IpvsOp);
  const payloads = all.map((op) => opPayload(op, 2));
  all.forEach((op, i) => {
    const r = opRequest(op);
    assert.equal(payloads[i]?.toString('hex'), encodeGenl(r.cmd, 2, r.attrs).toString('hex'));
  });
});
