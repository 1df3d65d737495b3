// src/vrrp/routes.ts without a kernel: configuration lines → the rtnetlink specs sent (protocol 18, IPv6's
// default metric, a missing device), entry identity across a reload, and what the status shows per instance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/index.ts';
import { entryKey, routeSpec, ruleSpec, staticEntries, virtualEntries } from '../../src/vrrp/routes.ts';
import { vrrpInstances } from '../../src/vrrp/instance-status.ts';
import { VrrpError } from '../../src/vrrp/errors.ts';
import { FIB_RULE_INVERT, FR_ACT, RTN, RTNH_F_ONLINK } from '../../src/netlink/routes.ts';

const conf = (routes: string, rules = '', lead = '') =>
  parseConfigText(
    `${lead}vrrp_instance VI_1 {\n  interface lo\n  virtual_router_id 51\n  virtual_ipaddress {\n    10.0.0.1/24\n  }\n` +
      `  virtual_routes {\n${routes}\n  }\n  virtual_rules {\n${rules}\n  }\n}\n`,
    'k.conf', { skipHostChecks: true },
  );

test('route lines become rtnetlink specs: protocol 18, table, type, onlink; IPv6 without a metric at 1024 (as the kernel reports it)', () => {
  const c = conf('    10.80.0.0/24 via 10.79.0.254 dev lo metric 5 table 100 onlink\n    blackhole 10.99.0.0/16\n    2001:db8:1::/48 via fe80::1 dev lo', '    not from 10.1.0.0/16 fwmark 7/0xff table 100 preference 10');
  assert.deepEqual(c.problems, []);
  const i = c.config!.vrrpInstances[0]!;
  const [a, b, v6] = (i.virtualRoutes ?? []).map(routeSpec);
  assert.deepEqual(a, { family: 4, type: RTN.unicast, dst: '10.80.0.0', dstLen: 24, gateway: '10.79.0.254', oif: 1, table: 100, priority: 5, scope: 0, protocol: 18, tos: 0, flags: RTNH_F_ONLINK });
  assert.deepEqual(b, { family: 4, type: RTN.blackhole, dst: '10.99.0.0', dstLen: 16, table: 254, scope: 0, protocol: 18, tos: 0, flags: 0 });
  assert.equal(v6?.priority, 1024);
  assert.deepEqual(ruleSpec(i.virtualRules![0]!), {
    family: 4, action: FR_ACT.table, table: 100, priority: 10, src: { address: '10.1.0.0', len: 16 }, flags: FIB_RULE_INVERT, tos: 0, fwmark: 7, fwmask: 255, protocol: 18,
  });
});

test('a route on a device that does not exist: VRRP_ROUTE_DEVICE naming it', () => {
  const c = conf('    10.80.0.0/24 via 10.79.0.254 dev nosuch0');
  assert.throws(() => routeSpec(c.config!.vrrpInstances[0]!.virtualRoutes![0]!), (e: unknown) => e instanceof VrrpError && e.code === 'VRRP_ROUTE_DEVICE' && /nosuch0/.test(e.message));
});

test('an entry is the same across a reload when only its line moved; static entries come addresses, routes, rules', () => {
  const a = conf('    10.80.0.0/24 via 10.79.0.254');
  const b = conf('\n\n    10.80.0.0/24 via 10.79.0.254');
  const [ea] = virtualEntries(a.config!.vrrpInstances[0]!);
  const [eb] = virtualEntries(b.config!.vrrpInstances[0]!);
  assert.notEqual(ea?.kind === 'route' && ea.route.pos.line, eb?.kind === 'route' && eb.route.pos.line);
  assert.equal(entryKey(ea!), entryKey(eb!));
  const s = conf('', '', 'static_rules {\n  from 10.2.0.0/16 table 5 preference 5\n}\nstatic_routes {\n  10.3.0.0/16 via 10.0.0.254\n}\nstatic_ipaddress {\n  10.4.0.1/24 dev lo\n}\n');
  assert.deepEqual(staticEntries(s.config!).map((e) => e.kind), ['address', 'route', 'rule']);
});

test('status: each instance lists its routes and rules, not installed until the worker says otherwise', () => {
  const c = conf('    10.80.0.0/24 via 10.79.0.254 dev lo', '    to 10.81.0.0/24 table 100 preference 1000').config!;
  const none = vrrpInstances(c, { live: undefined, views: new Map(), failure: undefined }, 0);
  assert.deepEqual(none[0]?.virtualRoutes, [
    { what: 'route 10.80.0.0/24 via 10.79.0.254 dev lo', installed: false },
    { what: 'rule 1000: from all to 10.81.0.0/24 lookup 100', installed: false },
  ]);
  const routes = [{ what: 'route 10.80.0.0/24 via 10.79.0.254 dev lo', installed: true }];
  const live = { instances: [{ name: 'VI_1', state: 'MASTER' as const, priority: 100, master: undefined, stats: {} as never, routes }], unmatched: {} };
  assert.deepEqual(vrrpInstances(c, { live, views: new Map(), failure: undefined }, 0)[0]?.virtualRoutes, routes);
});
