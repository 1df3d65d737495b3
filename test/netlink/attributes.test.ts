import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attrsLength, be16, binary, decodeAttrs, encodeAttrs, flag, NLA_F_NESTED, nested, s32, string, u16, u32, u64, u8 } from '../../src/netlink/attributes.ts';

test('scalar attributes: TLV header, host/network order, 4-byte padding', () => {
  const b = encodeAttrs([u8(1, 0xab), u16(2, 0x1234), be16(3, 0x1234), u32(4, 0xdeadbeef), s32(5, -2), u64(6, 0x0102030405060708n)]);
  assert.equal(
    b.toString('hex'),
    '0500' + '0100' + 'ab000000' +
      '0600' + '0200' + '34120000' +
      '0600' + '0300' + '12340000' +
      '0800' + '0400' + 'efbeadde' +
      '0800' + '0500' + 'feffffff' +
      '0c00' + '0600' + '0807060504030201',
  );
  const a = decodeAttrs(b);
  assert.equal(a.u8(1), 0xab);
  assert.equal(a.u16(2), 0x1234);
  assert.equal(a.be16(3), 0x1234);
  assert.equal(a.u32(4), 0xdeadbeef);
  assert.equal(a.s32(5), -2);
  assert.equal(a.u64(6), 0x0102030405060708n);
  assert.equal(a.error, undefined);
});

test('strings are NUL-terminated and padded; flags are empty; binary is verbatim', () => {
  const b = encodeAttrs([string(1, 'rr'), flag(2), binary(3, Buffer.from([1, 2, 3, 4, 5]))]);
  assert.equal(b.toString('hex'), '0700' + '0100' + '72720000' + '0400' + '0200' + '0900' + '0300' + '0102030405000000');
  const a = decodeAttrs(b);
  assert.equal(a.string(1), 'rr');
  assert.equal(a.has(2), true);
  assert.deepEqual([...a.get(3)!], [1, 2, 3, 4, 5]);
  assert.equal(a.string(9), undefined);
});

test('nested attributes carry NLA_F_NESTED, sizes include padding, decode through the nest', () => {
  const attrs = [nested(1, [u16(1, 2), nested(2, [string(1, 'wlc')])]), u32(2, 7)];
  const b = encodeAttrs(attrs);
  assert.equal(b.length, attrsLength(attrs));
  assert.equal(b.readUInt16LE(2), 1 | NLA_F_NESTED);
  assert.equal(b.readUInt16LE(0), 4 + 8 + 4 + 8);
  const a = decodeAttrs(b);
  assert.equal(a.list[0]!.nested, true);
  assert.equal(a.list[0]!.type, 1, 'flag bits are masked from the type');
  const inner = a.nested(1)!;
  assert.equal(inner.u16(1), 2);
  assert.equal(inner.nested(2)?.string(1), 'wlc');
  assert.equal(a.u32(2), 7);
});

test('repeated attributes: get() returns the last, all() every one, nestedList() a list of nests', () => {
  const b = encodeAttrs([u32(1, 1), u32(1, 2), nested(7, [nested(1, [string(1, 'a'), u32(2, 10)]), nested(2, [string(1, 'b'), u32(2, 11)])])]);
  const a = decodeAttrs(b);
  assert.equal(a.u32(1), 2);
  assert.deepEqual(a.all(1).map((v) => v.readUInt32LE(0)), [1, 2]);
  assert.deepEqual(a.nestedList(7).map((g) => [g.string(1), g.u32(2)]), [['a', 10], ['b', 11]]);
});

test('the decoder keeps its first error: malformed TLV, short values, nested errors, codec failures', () => {
  const truncated = Buffer.concat([encodeAttrs([u32(1, 5)]), Buffer.from('2000' + '0200' + '0000', 'hex')]);
  const a = decodeAttrs(truncated);
  assert.equal(a.u32(1), 5, 'attributes before the fault are kept');
  assert.match(a.error!, /malformed attribute at offset 8/);

  const short = decodeAttrs(encodeAttrs([u16(1, 1), u16(2, 2)]));
  assert.equal(short.u32(1), undefined);
  assert.equal(short.u64(2), undefined);
  assert.match(short.error!, /attribute 1 has 2 bytes, expected 4/, 'only the first error is kept');

  const n = decodeAttrs(encodeAttrs([nested(3, [binary(1, Buffer.from([1]))])]));
  assert.equal(n.nested(3)!.u32(1), undefined);
  assert.match(n.error!, /^attr 3: attribute 1 has 1 bytes/, 'nested views share the error and name the path');

  const c = decodeAttrs(encodeAttrs([]));
  assert.equal(c.error, undefined);
  c.fail('IPVS_SVC_ATTR_AF missing');
  c.fail('second');
  assert.equal(c.error, 'IPVS_SVC_ATTR_AF missing');
});

test('trailing padding shorter than a header is ignored; attribute longer than 64 KiB is refused', () => {
  const a = decodeAttrs(Buffer.concat([encodeAttrs([u8(1, 1)]), Buffer.alloc(3)]));
  assert.equal(a.error, undefined);
  assert.throws(() => encodeAttrs([binary(1, Buffer.alloc(70000))]), RangeError);
});
