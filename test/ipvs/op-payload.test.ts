import assert from 'node:assert/strict';
import { test } from 'node:test';
import { opPayload, servicePayload } from '../../src/ipvs/codec.ts';
import { IPVS_CMD, IPVS_CMD_ATTR } from '../../src/ipvs/constants.ts';
import { nested } from '../../src/netlink/attributes.ts';
import { encodeGenl } from '../../src/netlink/genl.ts';
import type { PayloadWriter } from '../../src/netlink/socket.ts';
import { opRequest, serviceIdAttrs } from './reference-encoder.ts';
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

/** What the socket does with a payload writer: write it at an offset of a zero-filled send buffer. */
function written(p: PayloadWriter, at = 0): string {
  const out = Buffer.alloc(at + p.length + 8);
  p.write(out, at);
  assert.equal(out.subarray(at + p.length).every((b) => b === 0), true, 'nothing written past length');
  return out.subarray(at, at + p.length).toString('hex');
}

test('opPayload writes exactly what encodeGenl(opRequest(op)) does, for every kind of step', () => {
  for (const op of ops()) {
    const r = opRequest(op);
    assert.equal(written(opPayload(op, 1)), encodeGenl(r.cmd, 1, r.attrs).toString('hex'), op.op);
  }
});

test('payloads written back to back into one buffer, as a batch is sent, stay intact', () => {
  const all = Array.from({ length: 3000 }, (_, i) => ops()[i % 18] as IpvsOp);
  const payloads = all.map((op) => opPayload(op, 2));
  const out = Buffer.alloc(payloads.reduce((n, p) => n + ((p.length + 3) & ~3), 0));
  let off = 0;
  for (const p of payloads) {
    p.write(out, off);
    off += (p.length + 3) & ~3;
  }
  off = 0;
  all.forEach((op, i) => {
    const r = opRequest(op);
    const len = payloads[i]!.length;
    assert.equal(out.subarray(off, off + len).toString('hex'), encodeGenl(r.cmd, 2, r.attrs).toString('hex'));
    off += (len + 3) & ~3;
  });
});

test('service reads by identity (GET_DEST, GET_SERVICE, ZERO) and the ones for every service', () => {
  for (const id of [v4, v6, mark]) {
    assert.equal(written(servicePayload(IPVS_CMD.GET_DEST, 1, id), 3), encodeGenl(IPVS_CMD.GET_DEST, 1, [nested(IPVS_CMD_ATTR.SERVICE, serviceIdAttrs(id))]).toString('hex'));
  }
  assert.equal(written(servicePayload(IPVS_CMD.GET_SERVICE, 1)), encodeGenl(IPVS_CMD.GET_SERVICE, 1, []).toString('hex'));
});

test('an address of the wrong family or no address at all fails when the request is made, before anything is sent', () => {
  const d = dest('2001:db8::9', 4);
  assert.throws(() => opPayload({ op: 'add-dest', service: v4, dest: d }, 1), { code: 'IPVS_DECODE' });
  assert.throws(() => opPayload({ op: 'del-service', id: { ...v4, address: '10.0.0.256' } }, 1));
  assert.throws(() => opPayload({ op: 'del-service', id: { ...v4, address: '2001:db8::1' } }, 1), { code: 'IPVS_DECODE' });
});
