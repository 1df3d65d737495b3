// virtual_routes / virtual_rules and static_ipaddress / static_routes / static_rules with keepalived 2.2.7's grammar
// (vrrp_iproute.c alloc_route, vrrp_iprule.c alloc_rule): good lines become model objects, bad ones and options
// ipvs-ts does not program are errors at their own file:line:col.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText, type Problem } from '../../src/config/index.ts';
import { describeRoute, describeRule } from '../../src/config/routes.ts';

const parse = (text: string) => parseConfigText(text, 'k.conf', { skipHostChecks: true });
const summary = (ps: readonly Problem[]): string[] => ps.map((p) => `${p.severity} ${p.code} ${p.pos?.line}:${p.pos?.col}`);
const instance = (body: string): string =>
  `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    10.0.0.1/24\n  }\n${body}\n}\n`;
/** Routes in a vrrp_instance; the first route line is line 8 of the file. */
const routes = (...lines: string[]) => parse(instance(`  virtual_routes {\n${lines.map((l) => `    ${l}`).join('\n')}\n  }`));
const rules = (...lines: string[]) => parse(instance(`  virtual_rules {\n${lines.map((l) => `    ${l}`).join('\n')}\n  }`));

test('common route forms: via, dev, src, metric, table, scope, onlink, types, default, IPv6', () => {
  const r = routes(
    '192.168.110.0/24 via 10.0.0.254 dev eth0 src 10.0.0.1 metric 5 table 100',
    'to 192.168.111.0/24 dev eth1 scope link onlink',
    'blackhole 192.168.114.0/24',
    'default via 10.0.0.254 table main',
    '2001:db8:1::/64 via fe80::1 dev eth0 metric 1024',
    'inet6 default via 2001:db8::1 dev eth0',
    '10.9.9.9 dev eth0 protocol keepalived',
  );
  assert.deepEqual(summary(r.problems), []);
  const got = r.config?.vrrpInstances[0]?.virtualRoutes ?? [];
  assert.deepEqual(got.map(describeRoute), [
    '192.168.110.0/24 via 10.0.0.254 dev eth0 src 10.0.0.1 table 100 metric 5',
    '192.168.111.0/24 dev eth1 scope link onlink',
    'blackhole 192.168.114.0/24',
    'default via 10.0.0.254',
    '2001:db8:1::/64 via fe80::1 dev eth0 metric 1024',
    'default via 2001:db8::1 dev eth0',
    '10.9.9.9/32 dev eth0',
  ]);
  assert.deepEqual(got.map((x) => [x.family, x.protocol, x.table]), [[4, 18, 100], [4, 18, 254], [4, 18, 254], [4, 18, 254], [6, 18, 254], [6, 18, 254], [4, 18, 254]]);
  assert.deepEqual(got[3]?.dst, { address: '0.0.0.0', len: 0 });
  assert.deepEqual(got[5]?.dst, { address: '::', len: 0 });
  assert.equal(got[6]?.pos.line, 14);
});

test('route options keepalived knows but ipvs-ts does not program are refused at the option', () => {
  const r = routes('10.1.0.0/16 via 10.0.0.254 mtu 1400', '10.2.0.0/16 nexthop via 10.0.0.1 nexthop via 10.0.0.2', '10.3.0.0/16 via 10.0.0.1 or 10.0.0.2');
  assert.deepEqual(summary(r.problems), ['error unsupported 8:32', 'error unsupported 9:17', 'error unsupported 10:30']);
  assert.match(r.problems[0]?.message ?? '', /route option 'mtu' is not supported/);
  assert.deepEqual(r.config?.vrrpInstances[0]?.virtualRoutes ?? [], []);
});

test('bad routes: unknown word, host bits, mixed families, no destination, missing value, type with a gateway', () => {
  const r = routes('10.1.0.0/16 vai 10.0.0.1', '10.1.0.1/16 dev eth0', '10.1.0.0/16 via 2001:db8::1', 'dev eth0', '10.1.0.0/16 metric', 'blackhole 10.5.0.0/16 via 10.0.0.1');
  assert.deepEqual(summary(r.problems), ['error bad-value 8:17', 'error bad-value 9:5', 'error bad-value 10:21', 'error missing 11:5', 'error arguments 12:17', 'error bad-value 13:5']);
  assert.match(r.problems[1]?.message ?? '', /host bits set; the prefix is 10\.1\.0\.0\/16/);
});

test('gw is taken as via (deprecated); a protocol other than keepalived is reset unless no_track', () => {
  const r = routes('10.1.0.0/16 gw 10.0.0.1', '10.2.0.0/16 via 10.0.0.1 protocol static', '10.3.0.0/16 via 10.0.0.1 protocol static no_track');
  assert.deepEqual(summary(r.problems), ['warning deprecated 8:17', 'warning lenient 9:30']);
  assert.deepEqual(r.config?.vrrpInstances[0]?.virtualRoutes?.map((x) => [x.via, x.protocol]), [['10.0.0.1', 18], ['10.0.0.1', 18], ['10.0.0.1', 4]]);
});

test('rules: from/to, table, preference, fwmark with mask, iif/oif, not, actions, IPv6', () => {
  const r = rules(
    'from 192.168.0.0/24 table 100 preference 100',
    'to 10.0.0.0/8 iif eth0 fwmark 0x10/0xff lookup main priority 200',
    'not from 10.1.0.0/16 oif eth1 blackhole preference 300',
    'from 2001:db8::/32 table 100 preference 100',
    'preference 400 goto 500',
    'type nop preference 450',
  );
  assert.deepEqual(summary(r.problems), []);
  assert.deepEqual(r.config?.vrrpInstances[0]?.virtualRules?.map(describeRule), [
    '100: from 192.168.0.0/24 lookup 100',
    '200: from all to 10.0.0.0/8 fwmark 16/255 iif eth0 lookup 254',
    '300: not from 10.1.0.0/16 oif eth1 blackhole',
    'inet6 100: from 2001:db8::/32 lookup 100',
    '400: from all goto 500',
    '450: from all nop',
  ]);
});

test('bad rules: no action, two actions, table 0, goto not forward, unsupported options, bad fwmark', () => {
  const r = rules('from 10.0.0.0/8 preference 5', 'table 100 blackhole preference 6', 'table 0 preference 7', 'preference 600 goto 500',
    'from 10.0.0.0/8 table 100 preference 8 sport 80', 'fwmark 1/x table 100 preference 9');
  assert.deepEqual(summary(r.problems), ['error missing 8:5', 'error bad-value 9:15', 'error bad-value 10:5', 'error bad-value 11:5', 'error unsupported 12:44', 'error bad-value 13:12']);
  assert.deepEqual(r.config?.vrrpInstances[0]?.virtualRules ?? [], []);
});

test('a rule without a preference is numbered from 16384 down per family, with keepalived\'s warning', () => {
  const r = rules('from 10.0.0.0/8 table 100', 'from 10.1.0.0/16 table 100', 'from 2001:db8::/32 table 100');
  assert.deepEqual(summary(r.problems), ['warning lenient 8:5', 'warning lenient 9:5', 'warning lenient 10:5']);
  assert.deepEqual(r.config?.vrrpInstances[0]?.virtualRules?.map((x) => x.priority), [16384, 16383, 16384]);
});

test('static_ipaddress / static_routes / static_rules at the top level; an address needs its device', () => {
  const r = parse(
    'static_ipaddress {\n  192.168.200.1/24 dev eth0 scope global\n  192.168.201.1/24\n}\n' +
      'static_routes {\n  192.168.100.0/24 via 192.168.200.254 dev eth0\n}\n' +
      'static_rules {\n  from 192.168.100.0/24 table 100 preference 100\n}\n' + instance(''),
  );
  assert.deepEqual(summary(r.problems), ['error missing 3:3']);
  const c = parseConfigText(
    'static_ipaddress {\n  192.168.200.1/24 dev eth0\n}\nstatic_routes {\n  192.168.100.0/24 via 192.168.200.254\n}\nstatic_rules {\n  from 192.168.100.0/24 table 100 preference 100\n}\n' + instance(''),
    'k.conf', { skipHostChecks: true },
  );
  assert.deepEqual(summary(c.problems), []);
  assert.deepEqual(c.config?.staticAddresses?.map((a) => `${a.address}/${a.prefix} ${a.dev}`), ['192.168.200.1/24 eth0']);
  assert.deepEqual(c.config?.staticRoutes?.map(describeRoute), ['192.168.100.0/24 via 192.168.200.254']);
  assert.deepEqual(c.config?.staticRules?.map(describeRule), ['100: from 192.168.100.0/24 lookup 100']);
});

test('static entries without a vrrp_instance are accepted but said to be not installed', () => {
  const r = parse('static_routes {\n  192.168.100.0/24 via 192.168.200.254\n}\n');
  assert.deepEqual(summary(r.problems), ['warning lenient 2:3']);
});

test('with host facts, a route, rule or static address on an interface this host lacks is reported at its line', () => {
  const text = 'static_ipaddress {\n  10.9.0.1/24 dev nosuch1\n}\n' + instance('  virtual_routes {\n    10.1.0.0/16 via 10.0.0.1 dev nosuch0\n  }\n  virtual_rules {\n    iif nosuch2 table 100 preference 5\n  }');
  const r = parseConfigText(text, 'k.conf', { hostFacts: { interfaces: new Set(['eth0']), addresses: new Set<string>() } });
  assert.deepEqual(r.problems.filter((p) => p.code === 'host').map((p) => `${p.pos?.line} ${/interface (\S+)/.exec(p.message)?.[1]}`), ['2 nosuch1', '11 nosuch0', '14 nosuch2']);
});
