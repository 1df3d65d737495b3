import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeAttrs, string, u32 } from '../../src/netlink/attributes.ts';
import { NetlinkError } from '../../src/netlink/errors.ts';
import { errnoName } from '../../src/sys/native.ts';
import { decodeGenl, decodeFamily, encodeGenl } from '../../src/netlink/genl.ts';
import {
  decodeDone, decodeError, decodeMessages, encodeMessage, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_MULTI, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR,
  NLMSGERR_ATTR_MISS_TYPE, NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS,
} from '../../src/netlink/message.ts';

test('encodeMessage: nlmsghdr in host order, length without padding, buffer padded to 4', () => {
  const m = encodeMessage({ type: 0x10, flags: NLM_F_REQUEST, seq: 7, pid: 99, payload: Buffer.from([1, 2, 3, 4, 5]) });
  assert.equal(m.length, 24);
  assert.equal(m.toString('hex'), '15000000' + '1000' + '0100' + '07000000' + '63000000' + '0102030405000000');
});

test('decodeMessages: several messages in one datagram, each padded', () => {
  const a = encodeMessage({ type: 20, flags: NLM_F_MULTI, seq: 1, payload: Buffer.from([9]) });
  const b = encodeMessage({ type: NLMSG_DONE, flags: NLM_F_MULTI, seq: 1, payload: Buffer.alloc(4) });
  const { messages, error } = decodeMessages(Buffer.concat([a, b]));
  assert.equal(error, undefined);
  assert.deepEqual(messages.map((m) => [m.type, m.flags, m.seq, m.payload.length]), [[20, NLM_F_MULTI, 1, 1], [NLMSG_DONE, NLM_F_MULTI, 1, 4]]);
});

test('decodeMessages: a split or lying header keeps the messages before it and reports the fault', () => {
  const a = encodeMessage({ type: 20, flags: 0, seq: 1, payload: Buffer.alloc(4) });
  const b = encodeMessage({ type: 20, flags: 0, seq: 2, payload: Buffer.alloc(40) });
  const { messages, error } = decodeMessages(Buffer.concat([a, b.subarray(0, 30)]));
  assert.equal(messages.length, 1);
  assert.match(error!, /malformed netlink message at offset 20 \(length 56, 30 bytes left\)/);
  assert.match(decodeMessages(Buffer.from('0400000000000000000000000000000000', 'hex')).error!, /length 4/);
});

/** An NLMSG_ERROR as the kernel builds it with NETLINK_CAP_ACK and NETLINK_EXT_ACK set. */
function errorMessage(errno: number, reqSeq: number, tlvs: Buffer, capped = true, echoed = Buffer.alloc(0)) {
  const hdr = Buffer.alloc(20);
  hdr.writeInt32LE(-errno, 0);
  hdr.writeUInt32LE(16 + echoed.length, 4);
  echoed = Buffer.concat([echoed, Buffer.alloc(((echoed.length + 3) & ~3) - echoed.length)]);
  hdr.writeUInt16LE(0x1c, 8);
  hdr.writeUInt16LE(5, 10);
  hdr.writeUInt32LE(reqSeq, 12);
  hdr.writeUInt32LE(1234, 16);
  const flags = (capped ? NLM_F_CAPPED : 0) | (tlvs.length ? NLM_F_ACK_TLVS : 0);
  return decodeMessages(encodeMessage({ type: NLMSG_ERROR, flags, seq: reqSeq, payload: Buffer.concat([hdr, echoed, tlvs]) })).messages[0]!;
}

test('decodeError: ACK, errno with extack message/offset/missing type, echoed request skipped', () => {
  const ack = decodeError(errorMessage(0, 5, Buffer.alloc(0)))!;
  assert.equal(ack.errno, 0);
  assert.deepEqual(ack.request, { len: 16, type: 0x1c, flags: 5, seq: 5, pid: 1234 });
  assert.deepEqual(ack.extack, {});

  const tlvs = encodeAttrs([string(NLMSGERR_ATTR_MSG, 'Service already exists'), u32(NLMSGERR_ATTR_OFFS, 24), u32(NLMSGERR_ATTR_MISS_TYPE, 3)]);
  const e = decodeError(errorMessage(17, 6, tlvs))!;
  assert.equal(e.errno, 17);
  assert.deepEqual(e.extack, { message: 'Service already exists', offset: 24, missingType: 3 });

  const uncapped = decodeError(errorMessage(22, 7, encodeAttrs([string(NLMSGERR_ATTR_MSG, 'bad')]), false, Buffer.from('aabbccddee', 'hex')))!;
  assert.equal(uncapped.extack.message, 'bad', 'TLVs start after the aligned echoed request');
  assert.equal(decodeError({ type: NLMSG_ERROR, flags: 0, seq: 0, pid: 0, payload: Buffer.alloc(8) }), undefined);
});

test('decodeDone: status and extack of a failed dump', () => {
  const p = Buffer.concat([Buffer.from('feffffff', 'hex'), encodeAttrs([string(NLMSGERR_ATTR_MSG, 'nope')])]);
  assert.deepEqual(decodeDone({ type: NLMSG_DONE, flags: NLM_F_ACK_TLVS, seq: 1, pid: 0, payload: p }), { errno: 2, extack: { message: 'nope' } });
  assert.deepEqual(decodeDone({ type: NLMSG_DONE, flags: 0, seq: 1, pid: 0, payload: Buffer.alloc(4) }), { errno: 0, extack: {} });
});

test('NetlinkError.fromKernel: errno name as code, extack text in the message', () => {
  const e = NetlinkError.fromKernel(17, { type: 0x1c, flags: 0x600, seq: 9 }, 'ipv4: Address already assigned', 'add address 10.0.0.1/24');
  assert.equal(e.code, 'EEXIST');
  assert.equal(e.errno, 17);
  assert.equal(e.extack, 'ipv4: Address already assigned');
  assert.equal(e.message, 'add address 10.0.0.1/24 failed: ipv4: Address already assigned (EEXIST)');
  assert.deepEqual(e.request, { type: 0x1c, flags: 0x600, seq: 9 });
  assert.equal(NetlinkError.fromKernel(2, undefined, undefined).message, 'netlink request failed: no such entry (ENOENT)');
  assert.equal(errnoName(105), 'ENOBUFS');
  assert.equal(errnoName(9999), 'E9999');
});

test('genl: genlmsghdr codec and nlctrl family decoding', () => {
  const payload = encodeGenl(1, 2, [u32(9, 1)]);
  assert.equal(payload.subarray(0, 4).toString('hex'), '01020000');
  const g = decodeGenl({ type: 0x20, flags: 0, seq: 1, pid: 0, payload });
  assert.deepEqual([g.cmd, g.version, g.attrs.u32(9)], [1, 2, 1]);
  assert.match(decodeGenl({ type: 0x20, flags: 0, seq: 1, pid: 0, payload: Buffer.alloc(2) }).attrs.error!, /shorter than its header/);

  const fam = encodeGenl(1, 2, [
    { type: 1, value: Buffer.from([0x1c, 0]) },
    string(2, 'IPVS'),
    u32(3, 1),
    u32(4, 0),
    u32(5, 3),
    { type: 7 | 0x8000, value: [{ type: 1 | 0x8000, value: [string(1, 'events'), u32(2, 33)] }] },
  ]);
  const f = decodeFamily(decodeGenl({ type: 16, flags: 0, seq: 1, pid: 0, payload: fam }).attrs, 'IPVS');
  assert.deepEqual({ ...f, mcastGroups: [...f.mcastGroups] }, { name: 'IPVS', id: 0x1c, version: 1, hdrsize: 0, maxattr: 3, mcastGroups: [['events', 33]] });
  assert.throws(() => decodeFamily(decodeGenl({ type: 16, flags: 0, seq: 1, pid: 0, payload: encodeGenl(1, 2, [string(2, 'X')]) }).attrs, 'X'), (e: unknown) => e instanceof NetlinkError && e.code === 'MALFORMED');
});
