import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AUTH_AH, AUTH_NONE, AUTH_PASS, checkAdvert, checksum, decodeAdvert, encodeAdvert, parseIpv4, passAuthData,
  type Advert, type Expectation,
} from '../../src/vrrp/codec.ts';
import { addrToBytes, bytesToAddr, compareAddr } from '../../src/vrrp/addr.ts';

// Captured from Debian's keepalived 2.2.7 (tcpdump in a namespace lab): VRRP payloads and their IP addresses.
const KA_V2_PASS = '21339602 0101c56f 0a090064 0a090065 73656372 65743132';
const KA_V2_PASS_PRIO0 = '21330002 01015b70 0a090064 0a090065 73656372 65743132';
const KA_V3_V4 = '3134c801 00321190 0a090066';
const KA_V3_V6 = '31357801 0064117b fd000000 00000000 00000000 00000100';
const KA_V3_V6_PRIO0 = '31350001 0064897b fd000000 00000000 00000000 00000100';
const KA_V3_V4_IP = '45c00020 00010000 ff70d090 0a090001 e0000012 3134c801 00321190 0a090066';
const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');
const V4 = { src: '10.9.0.1', dst: '224.0.0.18' };
const V6 = { src: 'fe80::581f:8dff:fe2f:647c', dst: 'ff02::12' };

const v2: Advert = {
  version: 2, vrid: 51, priority: 150, intervalMs: 1000, family: 4, addresses: ['10.9.0.100', '10.9.0.101'],
  authType: AUTH_PASS, authData: passAuthData('secret12345'),
};
const v3: Advert = { version: 3, vrid: 52, priority: 200, intervalMs: 500, family: 4, addresses: ['10.9.0.102'], authType: AUTH_NONE, authData: Buffer.alloc(0) };
const v6: Advert = { version: 3, vrid: 53, priority: 120, intervalMs: 1000, family: 6, addresses: ['fd00::100'], authType: AUTH_NONE, authData: Buffer.alloc(0) };

test('encodes byte for byte what keepalived sends (v2 PASS, v3 IPv4, v3 IPv6, priority 0)', () => {
  assert.equal(encodeAdvert(v2, V4).toString('hex'), hex(KA_V2_PASS).toString('hex'));
  assert.equal(encodeAdvert({ ...v2, priority: 0 }, V4).toString('hex'), hex(KA_V2_PASS_PRIO0).toString('hex'));
  assert.equal(encodeAdvert(v3, V4).toString('hex'), hex(KA_V3_V4).toString('hex'));
  assert.equal(encodeAdvert(v6, V6).toString('hex'), hex(KA_V3_V6).toString('hex'));
  assert.equal(encodeAdvert({ ...v6, priority: 0 }, V6).toString('hex'), hex(KA_V3_V6_PRIO0).toString('hex'));
});

test('decodes keepalived captures back to the same adverts', () => {
  assert.deepEqual(decodeAdvert(hex(KA_V2_PASS), 4, V4), { ok: true, advert: { ...v2, authData: Buffer.from('secret12') } });
  assert.deepEqual(decodeAdvert(hex(KA_V3_V4), 4, V4), { ok: true, advert: v3 });
  assert.deepEqual(decodeAdvert(hex(KA_V3_V6), 6, V6), { ok: true, advert: v6 });
  const ip = parseIpv4(hex(KA_V3_V4_IP));
  assert.ok(ip);
  assert.deepEqual({ src: ip.src, dst: ip.dst, ttl: ip.ttl, protocol: ip.protocol }, { ...V4, ttl: 255, protocol: 112 });
  assert.deepEqual(decodeAdvert(ip.payload, 4, ip), { ok: true, advert: v3 });
});

test('RFC 5798 section 5.1: v3 max advert interval is 12 bits of centiseconds; the checksum covers the pseudo-header', () => {
  const max = encodeAdvert({ ...v3, intervalMs: 40950 }, V4);
  assert.equal(max.readUInt16BE(4), 0x0fff);
  // Same bytes under a different destination address no longer verify: the pseudo-header is in the sum.
  assert.deepEqual(decodeAdvert(max, 4, { src: V4.src, dst: '10.9.0.2' }).ok, false);
  assert.equal(checksum(max, Buffer.from([10, 9, 0, 1, 224, 0, 0, 18, 0, 112, 0, 12])), 0);
  // RFC 3768 section 5.3.8: the v2 checksum is over the VRRP message only.
  assert.equal(checksum(hex(KA_V2_PASS)), 0);
});

test('drops malformed packets with keepalived reason names', () => {
  const reason = (b: Buffer, fam: 4 | 6 = 4, p = V4) => {
    const r = decodeAdvert(b, fam, p);
    return r.ok ? 'ok' : r.reason;
  };
  const good = hex(KA_V3_V4);
  assert.equal(reason(good.subarray(0, 7)), 'packet_len_err');
  assert.equal(reason(good.subarray(0, 11)), 'packet_len_err');
  assert.equal(reason(Buffer.concat([good, Buffer.alloc(4)])), 'packet_len_err');
  const many = Buffer.from(good); many[3] = 255;
  assert.equal(reason(many), 'packet_len_err');
  const ver = Buffer.from(good); ver[0] = 0x41;
  assert.equal(reason(ver), 'vers_err');
  const type = Buffer.from(good); type[0] = 0x32;
  assert.equal(reason(type), 'invalid_type_rcvd');
  const sum = Buffer.from(good); sum[7]! ^= 1;
  assert.equal(reason(sum), 'chk_err');
  assert.equal(reason(hex(KA_V3_V6), 6, { ...V6, src: 'fe80::1' }), 'chk_err');
  assert.equal(reason(hex(KA_V3_V6)), 'packet_len_err');
});

test('per-instance checks: VRID, TTL, version, auth, v2 interval; address list and priority 0 are noted', () => {
  const e: Expectation = { version: 2, vrid: 51, intervalMs: 1000, addresses: v2.addresses, authType: AUTH_PASS, authData: passAuthData('secret12'), unicast: false };
  const r = (a: Advert, ttl: number | undefined, x: Expectation = e) => {
    const c = checkAdvert(a, ttl, x);
    return c.ok ? c.notes.join(',') || 'ok' : c.reason;
  };
  assert.equal(r(v2, 255), 'ok');
  assert.equal(r({ ...v2, vrid: 9 }, 255), 'vrid_err');
  assert.equal(r(v2, 254), 'ip_ttl_err');
  assert.equal(r(v2, 64, { ...e, unicast: true }), 'ok');
  assert.equal(r({ ...v2, version: 3 }, 255), 'vers_err');
  assert.equal(r({ ...v2, authType: AUTH_AH }, 255), 'invalid_authtype');
  assert.equal(r({ ...v2, authType: 7 }, 255), 'invalid_authtype');
  assert.equal(r({ ...v2, authType: AUTH_NONE }, 255), 'authtype_mismatch');
  assert.equal(r({ ...v2, authData: passAuthData('wrong') }, 255), 'auth_failure');
  assert.equal(r({ ...v2, intervalMs: 2000 }, 255), 'advert_interval_err');
  assert.equal(r({ ...v2, addresses: ['10.9.0.100'] }, 255), 'addr_list_err');
  assert.equal(r({ ...v2, addresses: ['10.9.0.100', '10.9.0.7'] }, 255), 'addr_list_err');
  assert.equal(r({ ...v2, priority: 0 }, 255), 'pri_zero_rcvd');
  // v3 adverts carry the master's interval; a different one is adopted, never dropped.
  const e3: Expectation = { ...e, version: 3, authType: AUTH_NONE, authData: Buffer.alloc(0), vrid: 52, addresses: v3.addresses };
  assert.equal(r({ ...v3, intervalMs: 2000 }, 255, e3), 'ok');
});

test('address helpers: canonical text, numeric order', () => {
  assert.equal(bytesToAddr(addrToBytes('FD00:0:0::0100')), 'fd00::100');
  
  assert.equal(bytesToAddr(addrToBytes('10.1.2.3')), '10.1.2.3');
  assert.ok(compareAddr('10.0.0.10', '10.0.0.9') > 0);
  assert.ok(compareAddr('fe80::2', 'fe80::10') < 0);
});
