import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCmsgs, decodePacketInfo, encodeCmsgs, cmsgSpace, pktinfoCmsg } from '../../src/sys/cmsg.ts';
import { IP_PKTINFO, IP_TTL, IPV6_HOPLIMIT, IPV6_PKTINFO, SOL_IP, SOL_IPV6 } from '../../src/sys/constants.ts';
import { htons, inetFamily, inetNtop, inetPton } from '../../src/sys/inet.ts';
import { decodeSockaddr, encodeSockaddr } from '../../src/sys/sockaddr.ts';

test('inetPton/inetNtop: IPv4 and IPv6 round trips in canonical form', () => {
  assert.deepEqual([...inetPton('192.0.2.1')], [192, 0, 2, 1]);
  assert.equal(inetNtop(inetPton('2001:DB8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
  assert.equal(inetNtop(inetPton('::')), '::');
  assert.equal(inetNtop(inetPton('::1')), '::1');
  assert.equal(inetNtop(inetPton('fe80::1%eth0')), 'fe80::1');
  assert.equal(inetNtop(inetPton('1:2:3:4:5:6:7:8')), '1:2:3:4:5:6:7:8');
  assert.equal(inetNtop(inetPton('1:0:3:4:5:6:7:8')), '1:0:3:4:5:6:7:8', 'a single zero word is not compressed');
  assert.equal(inetNtop(inetPton('::ffff:192.0.2.1')), '::ffff:c000:201');
  assert.deepEqual([...inetPton('::ffff:192.0.2.1').subarray(10)], [0xff, 0xff, 192, 0, 2, 1]);
  assert.equal(inetFamily('10.0.0.1'), 4);
  assert.equal(inetFamily('ff02::12'), 6);
  assert.equal(inetFamily('nope'), undefined);
  assert.throws(() => inetPton('300.1.1.1'), TypeError);
  assert.equal(htons(0x0806), 0x0608);
});

test('sockaddr_in: 16 bytes, family host order, port and address network order', () => {
  const b = encodeSockaddr({ family: 4, address: '10.1.2.3', port: 0x1234 });
  assert.equal(b.toString('hex'), '0200' + '1234' + '0a010203' + '0000000000000000');
  assert.deepEqual(decodeSockaddr(b), { family: 4, address: '10.1.2.3', port: 0x1234 });
});

test('sockaddr_in6: 28 bytes with flowinfo and scope id', () => {
  const b = encodeSockaddr({ family: 6, address: 'fe80::1', port: 80, scopeId: 7 });
  assert.equal(b.length, 28);
  assert.equal(b.toString('hex'), '0a00' + '0050' + '00000000' + 'fe800000000000000000000000000001' + '07000000');
  assert.deepEqual(decodeSockaddr(b), { family: 6, address: 'fe80::1', port: 80, flowinfo: 0, scopeId: 7 });
});

test('sockaddr_nl: 12 bytes, pid and groups', () => {
  const b = encodeSockaddr({ family: 'netlink', pid: 0x01020304, groups: 0x11 });
  assert.equal(b.toString('hex'), '1000' + '0000' + '04030201' + '11000000');
  assert.deepEqual(decodeSockaddr(b), { family: 'netlink', pid: 0x01020304, groups: 0x11 });
});

test('sockaddr_ll: ethertype network order, ifindex, hardware address', () => {
  const mac = Buffer.from('ffffffffffff', 'hex');
  const b = encodeSockaddr({ family: 'packet', protocol: 0x0806, ifindex: 3, addr: mac });
  assert.equal(b.toString('hex'), '1100' + '0806' + '03000000' + '0000' + '00' + '06' + 'ffffffffffff0000');
  assert.deepEqual(decodeSockaddr(b), { family: 'packet', protocol: 0x0806, ifindex: 3, hatype: 0, pkttype: 0, addr: mac });
  assert.throws(() => encodeSockaddr({ family: 'packet', protocol: 0, ifindex: 1, addr: new Uint8Array(9) }), RangeError);
});

test('decodeSockaddr: empty or unknown family gives undefined', () => {
  assert.equal(decodeSockaddr(new Uint8Array(0)), undefined);
  assert.equal(decodeSockaddr(Buffer.from('01000000', 'hex')), undefined);
});

test('cmsg: 64-bit layout, CMSG_ALIGN padding between elements', () => {
  const ttl = Buffer.alloc(4);
  ttl.writeInt32LE(64);
  const list = [{ level: SOL_IP, type: IP_TTL, data: ttl }, pktinfoCmsg(4, '127.0.0.1', 1)];
  const b = encodeCmsgs(list);
  assert.equal(cmsgSpace(4), 24);
  assert.equal(cmsgSpace(12), 32);
  assert.equal(b.length, 24 + 32);
  // cmsg_len counts header + data without the trailing padding.
  assert.equal(b.readBigUInt64LE(0), 20n);
  assert.equal(b.readInt32LE(8), SOL_IP);
  assert.equal(b.readInt32LE(12), IP_TTL);
  assert.equal(b.readBigUInt64LE(24), 28n);
  assert.equal(b.readInt32LE(24 + 12), IP_PKTINFO);
  assert.deepEqual(decodeCmsgs(b), list);
});

test('cmsg: a malformed tail ends the list without throwing', () => {
  const good = encodeCmsgs([{ level: 1, type: 2, data: Buffer.from([1, 2, 3, 4]) }]);
  const bad = Buffer.concat([good, Buffer.from('ff00000000000000' + '0000000000000000', 'hex')]);
  assert.equal(decodeCmsgs(bad).length, 1);
});

test('decodePacketInfo: IPv4 pktinfo + TTL and IPv6 pktinfo + hop limit', () => {
  const v4info = Buffer.alloc(12);
  v4info.writeInt32LE(2, 0);
  v4info.set([224, 0, 0, 18], 8);
  const ttl = Buffer.alloc(4);
  ttl.writeInt32LE(255);
  assert.deepEqual(decodePacketInfo([{ level: SOL_IP, type: IP_PKTINFO, data: v4info }, { level: SOL_IP, type: IP_TTL, data: ttl }]), {
    ifindex: 2,
    destination: '224.0.0.18',
    ttl: 255,
  });
  const v6info = Buffer.alloc(20);
  v6info.set(inetPton('ff02::12'), 0);
  v6info.writeUInt32LE(5, 16);
  assert.deepEqual(
    decodePacketInfo([{ level: SOL_IPV6, type: IPV6_PKTINFO, data: v6info }, { level: SOL_IPV6, type: IPV6_HOPLIMIT, data: ttl }]),
    { destination: 'ff02::12', ifindex: 5, ttl: 255 },
  );
  const sent = pktinfoCmsg(6, 'fe80::1', 4);
  assert.equal(sent.data.length, 20);
  assert.equal(sent.data.readUInt32LE(16), 4);
});
