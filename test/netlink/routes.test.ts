// The route and rule codec byte for byte: rtmsg / fib_rule_hdr headers and their attributes as the kernel reads
// them (include/uapi/linux/rtnetlink.h, fib_rules.h), and a decoded dump row back into a RouteSpec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRoute, RTM_DELROUTE, RTM_NEWROUTE, RTM_NEWRULE, routeRequest, ruleRequest, RTN, FR_ACT, FIB_RULE_INVERT, RTNH_F_ONLINK, type RouteSpec } from '../../src/netlink/routes.ts';
import { decodeAttrs } from '../../src/netlink/attributes.ts';

const route: RouteSpec = {
  family: 4, type: RTN.unicast, dst: '10.80.0.0', dstLen: 24, gateway: '10.79.0.254', oif: 3, prefsrc: '10.79.0.2',
  table: 100, priority: 5, scope: 0, protocol: 18, tos: 0, flags: RTNH_F_ONLINK,
};

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('an IPv4 route: rtmsg then RTA_DST, RTA_PREFSRC, RTA_GATEWAY, RTA_OIF, RTA_PRIORITY; a table below 256 in the header', () => {
  const req = routeRequest(RTM_NEWROUTE, route, 0, 'add');
  assert.deepEqual(req.payload, hex(`
    02 18 00 00 64 12 00 01  04000000
    0800 0100 0a500000
    0800 0700 0a4f0002
    0800 0500 0a4f00fe
    0800 0400 03000000
    0800 0600 05000000`));
});

test('a table of 256 and more goes in RTA_TABLE with rtm_table 0; a default route has no RTA_DST', () => {
  const req = routeRequest(RTM_NEWROUTE, { family: 4, type: RTN.blackhole, dst: '0.0.0.0', dstLen: 0, table: 1000, scope: 0, protocol: 18, tos: 0, flags: 0 }, 0, 'add');
  assert.deepEqual(req.payload, hex('02 00 00 00 00 12 00 06 00000000  0800 0f00 e8030000'));
});

test('a delete leaves the scope at "nowhere" and a unicast type unset, so the kernel matches any; the protocol stays', () => {
  const b = routeRequest(RTM_DELROUTE, route, 0, 'del').payload;
  assert.deepEqual([b[5], b[6], b[7]], [18, 255, 0]);
  const bh = routeRequest(RTM_DELROUTE, { ...route, type: RTN.blackhole }, 0, 'del').payload;
  assert.equal(bh[7], RTN.blackhole);
});

test('an IPv6 source-specific route: RTA_SRC with rtm_src_len', () => {
  const b = routeRequest(RTM_NEWROUTE, { family: 6, type: RTN.unicast, dst: '2001:db8:1::', dstLen: 48, src: { address: '2001:db8:2::', len: 64 }, table: 254, scope: 0, protocol: 18, tos: 0, flags: 0 }, 0, 'add').payload;
  assert.deepEqual([...b.subarray(0, 8)], [10, 48, 64, 0, 254, 18, 0, 1]);
  const a = decodeAttrs(b.subarray(12));
  assert.equal(a.get(1)?.toString('hex'), '20010db8000100000000000000000000');
  assert.equal(a.get(2)?.toString('hex'), '20010db8000200000000000000000000');
});

test('a rule: fib_rule_hdr, FRA_PRIORITY first, selectors, names, FRA_PROTOCOL last; not is FIB_RULE_INVERT', () => {
  const b = ruleRequest(RTM_NEWRULE, {
    family: 4, action: FR_ACT.table, table: 100, priority: 1000, src: { address: '10.79.1.0', len: 24 }, flags: FIB_RULE_INVERT, tos: 0,
    fwmark: 16, fwmask: 255, iifname: 'eth0', protocol: 18,
  }, 0, 'add').payload;
  assert.deepEqual(b, hex(`
    02 00 18 00 64 00 00 01  02000000
    0800 0600 e8030000
    0800 0200 0a4f0100
    0900 0300 65746830 00 000000
    0800 0a00 10000000
    0800 1000 ff000000
    0500 1500 12 000000`));
});

test('a goto rule carries FRA_GOTO; a table of 256 and more FRA_TABLE', () => {
  const a = decodeAttrs(ruleRequest(RTM_NEWRULE, { family: 6, action: FR_ACT.goto, goto: 500, priority: 400, flags: 0, tos: 0, protocol: 18 }, 0, 'add').payload.subarray(12));
  assert.equal(a.u32(4), 500);
  const t = ruleRequest(RTM_NEWRULE, { family: 4, action: FR_ACT.table, table: 70000, priority: 1, flags: 0, tos: 0, protocol: 18 }, 0, 'add').payload;
  assert.equal(t[4], 0);
  assert.equal(decodeAttrs(t.subarray(12)).u32(15), 70000);
});

test('a dumped route decodes back into what was sent', () => {
  const req = routeRequest(RTM_NEWROUTE, route, 0, 'add');
  const back = decodeRoute({ type: RTM_NEWROUTE, flags: 0, seq: 0, pid: 0, payload: req.payload });
  assert.deepEqual(back, route);
});
