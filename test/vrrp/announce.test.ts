import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gratuitousArp, macBytes, unsolicitedNa } from '../../src/vrrp/announce.ts';

const MAC = macBytes('5a:1f:8d:2f:64:7c');

test('gratuitous ARP: request, sender and target IP both the VIP, target MAC broadcast (as keepalived)', () => {
  assert.equal(
    gratuitousArp(MAC, '10.9.0.100').toString('hex'),
    '0001' + '0800' + '06' + '04' + '0001' + '5a1f8d2f647c' + '0a090064' + 'ffffffffffff' + '0a090064',
  );
});

test('unsolicited NA: type 136, Override flag, target, target link-layer address option', () => {
  const na = unsolicitedNa(MAC, 'fd00::100');
  assert.equal(na.length, 32);
  assert.equal(na[0], 136);
  assert.equal(na.readUInt32BE(4), 0x20000000);
  assert.equal(na.subarray(8, 24).toString('hex'), 'fd000000000000000000000000000100');
  assert.equal(na.subarray(24).toString('hex'), '0201' + '5a1f8d2f647c');
  assert.equal(unsolicitedNa(MAC, 'fd00::100', true).readUInt32BE(4), 0xa0000000);
});
