// IpvsClient over an injected socket on a scripted transport: the requests it writes, the idempotent fallbacks
// and explained errors of apply(), and dumps decoded in place.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeAttrs, nested, string, u16, u32 } from '../../src/netlink/attributes.ts';
import { encodeGenl } from '../../src/netlink/genl.ts';
import { NLM_F_MULTI, NLMSGERR_ATTR_MSG } from '../../src/netlink/message.ts';
import { NetlinkSocket } from '../../src/netlink/socket.ts';
import { IpvsClient } from '../../src/ipvs/client.ts';
import { IPVS_CMD, IPVS_CMD_ATTR, IPVS_DEST_ATTR } from '../../src/ipvs/constants.ts';
import type { DestinationSpec, IpvsOp, ServiceId, ServiceSpec } from '../../src/ipvs/types.ts';
import { ack, done, FakeTransport, tick } from '../netlink/fake-transport.ts';
import { encodeMessage } from '../../src/netlink/message.ts';
import { destAttrs, opRequest, serviceAttrs } from './reference-encoder.ts';

const FAMILY = { name: 'IPVS', id: 0x23, version: 1, hdrsize: 0, maxattr: 0, mcastGroups: new Map<string, number>() };
const NO_FLAGS = { persistent: false, onePacket: false, shFallback: false, shPort: false, schedFlag3: false };
const id: ServiceId = { kind: 'addr', family: 4, protocol: 'TCP', address: '10.0.0.1', port: 80 };
const service: ServiceSpec = { id, scheduler: 'wlc', flags: NO_FLAGS, timeoutS: 0, netmask: '255.255.255.255' };
const dest = (address: string, weight = 1): DestinationSpec => ({ address, family: 4, port: 80, forward: 'masq', weight, upperThreshold: 0, lowerThreshold: 0 });

function setup() {
  const t = new FakeTransport();
  const nl = new NetlinkSocket(t);
  return { t, nl, client: new IpvsClient(nl, FAMILY) };
}

const row = (seq: number, attrs: Parameters<typeof encodeAttrs>[0]) => encodeMessage({ type: FAMILY.id, flags: NLM_F_MULTI, seq, payload: encodeGenl(IPVS_CMD.NEW_DEST, 1, attrs) });

test('apply writes one request per step, byte for byte the reference encoding; an injected socket stays open on close()', async () => {
  const { t, nl, client } = setup();
  const ops: IpvsOp[] = [{ op: 'add-service', service }, { op: 'add-dest', service: id, dest: dest('10.1.0.1') }, { op: 'del-dest', service: id, dest: dest('10.1.0.2') }];
  const result = client.apply(ops);
  assert.deepEqual(t.sent.map((m) => [m.type, m.payload.toString('hex')]), ops.map((op) => {
    const r = opRequest(op);
    return [FAMILY.id, encodeGenl(r.cmd, 1, r.attrs).toString('hex')];
  }));
  t.deliver(t.sent.map((m) => ack(m.seq)));
  assert.deepEqual(await result, { applied: ops, failed: [] });
  client.close();
  assert.equal(nl.closed, false);
  nl.close();
});

test('apply falls back (add that exists → edit, delete of what is gone → done) and explains what still fails', async () => {
  const { t, client } = setup();
  const add: IpvsOp = { op: 'add-dest', service: id, dest: dest('10.1.0.1', 3) };
  const gone: IpvsOp = { op: 'del-dest', service: id, dest: dest('10.1.0.2') };
  const bad: IpvsOp = { op: 'edit-dest', service: id, dest: dest('10.1.0.3', 7) };
  const result = client.apply([add, gone, bad]);
  const [a, g, b] = t.sent.map((m) => m.seq);
  t.deliver([ack(a!, 17), ack(g!, 2), ack(b!, 22, encodeAttrs([string(NLMSGERR_ATTR_MSG, 'weight out of range')]))]);
  await tick();
  assert.equal(t.sent.length, 4, 'the add that found the destination is retried as an edit');
  assert.equal(t.sent[3]!.payload[0], IPVS_CMD.SET_DEST);
  t.deliver([ack(t.sent[3]!.seq)]);
  const r = await result;
  assert.deepEqual(r.applied, [{ op: 'edit-dest', service: id, dest: add.dest }]);
  assert.equal(r.failed.length, 1);
  assert.equal(r.failed[0]!.op, bad);
  assert.equal(r.failed[0]!.error.code, 'IPVS_KERNEL');
  assert.equal(r.failed[0]!.error.errno, 'EINVAL');
  assert.match(r.failed[0]!.error.message, /kernel rejected the settings \(weight, thresholds or tunnel options\) \(EINVAL\)/);
});

test('a failed read reports the kernel\'s errno and extended-ACK text', async () => {
  const { t, client } = setup();
  const p = client.destinations(id);
  t.deliver([ack(t.sent[0]!.seq, 1, encodeAttrs([string(NLMSGERR_ATTR_MSG, 'not allowed here')]))]);
  await assert.rejects(p, (e: unknown) => {
    assert.equal((e as { code: string }).code, 'IPVS_KERNEL');
    assert.match((e as Error).message, /list real servers failed: not allowed here \(EPERM\): IPVS needs root/);
    return true;
  });
});

test('table(): the service dump, then each service\'s destinations decoded in place, dumps back to back', async () => {
  const { t, client } = setup();
  const ids: ServiceId[] = [id, { kind: 'fwmark', family: 6, mark: 9 }];
  const p = client.table();
  const s0 = t.sent[0]!.seq;
  t.deliver(ids.map((sid, i) => encodeMessage({
    type: FAMILY.id, flags: NLM_F_MULTI, seq: s0,
    payload: encodeGenl(IPVS_CMD.NEW_SERVICE, 1, [nested(IPVS_CMD_ATTR.SERVICE, serviceAttrs({ ...service, id: sid, netmask: i ? '128' : '255.255.255.255' }))]),
  })));
  t.deliver([done(s0)]);
  await tick();
  assert.equal(t.sent.length, 2, 'destination dumps one at a time');
  const d1 = t.sent[1]!.seq;
  t.deliver([row(d1, [nested(IPVS_CMD_ATTR.DEST, [...destAttrs(dest('10.1.0.1', 4)), u32(IPVS_DEST_ATTR.ACTIVE_CONNS, 3)])]), done(d1)]);
  assert.equal(t.sent.length, 3, 'the next dump went out in the same wake-up');
  const d2 = t.sent[2]!.seq;
  t.deliver([row(d2, [nested(IPVS_CMD_ATTR.DEST, destAttrs({ ...dest('2001:db8::5'), family: 6 }))]), done(d2)]);
  const table = await p;
  assert.deepEqual(table.services.map((s) => s.service.id), ids);
  assert.deepEqual(table.services.map((s) => s.destinations.map((d) => [d.address, d.weight, d.activeConns])), [[['10.1.0.1', 4, 3]], [['2001:db8::5', 1, 0]]]);
  assert.equal(table.services[0]!.destinations[0]!.stats.conns, 0n);
});

test('a destination reply the codec cannot read fails the dump with IPVS_DECODE', async () => {
  const { t, client } = setup();
  const p = client.destinations(id);
  const s = t.sent[0]!.seq;
  t.deliver([row(s, [nested(IPVS_CMD_ATTR.DEST, [u16(IPVS_DEST_ATTR.PORT, 80)])]), done(s)]);
  await assert.rejects(p, { code: 'IPVS_DECODE', message: 'cannot decode a destination from the kernel: missing attributes' });
});
