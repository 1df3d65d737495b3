// vrrp_strict / strict_mode as keepalived 2.2.7's vrrp_complete_instance (vrrp.c) applies them: what keepalived
// refuses is an error, what it rewrites and runs is a warning, each at the place in the file; check-config and
// the daemon read the same model (`accept`, `strict`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText, type Problem } from '../../src/config/index.ts';

const parse = (text: string) => parseConfigText(text, 'k.conf', { skipHostChecks: true });
const summary = (ps: Problem[]): string[] => ps.map((p) => `${p.severity} ${p.code} ${p.pos?.line}:${p.pos?.col}`);
const STRICT = 'global_defs {\n  vrrp_strict\n}\n';
const instance = (body: string, name = 'VI_1'): string =>
  `vrrp_instance ${name} {\n  interface eth0\n  virtual_router_id 51\n${body}\n}\n`;
const vips = '  virtual_ipaddress {\n    10.0.0.1/24\n  }';

test('a plain strict BACKUP instance is clean: strict, no accept mode; the owner keeps accept mode', () => {
  const r = parse(STRICT + instance(`  state BACKUP\n  priority 100\n${vips}`) + instance(`  priority 255\n${vips}`, 'OWNER').replace('51', '52'));
  assert.deepEqual(summary(r.problems), []);
  const [a, b] = r.config?.vrrpInstances ?? [];
  assert.deepEqual([a?.strict, a?.accept, b?.strict, b?.accept, b?.state], [true, false, true, true, 'MASTER']);
});

test('without strict mode accept mode is on by default; no_accept turns it off; strict_mode per instance', () => {
  const r = parse(instance(`  priority 100\n${vips}`) + instance(`  priority 100\n  no_accept\n${vips}`, 'B').replace('51', '52') +
    instance(`  priority 100\n  strict_mode\n  version 3\n${vips}`, 'C').replace('51', '53'));
  assert.deepEqual(summary(r.problems), []);
  assert.deepEqual(r.config?.vrrpInstances.map((i) => [i.strict, i.accept]), [[false, true], [false, false], [true, false]]);
  const off = parse(STRICT + instance(`  priority 100\n  strict_mode off\n${vips}`));
  assert.deepEqual(off.config?.vrrpInstances.map((i) => [i.strict, i.accept]), [[false, true]]);
});

test('strict: authentication is dropped with a warning (the adverts carry none), as keepalived does', () => {
  const r = parse(STRICT + instance(`  priority 100\n  authentication {\n    auth_type PASS\n    auth_pass secret\n  }\n${vips}`));
  assert.deepEqual(summary(r.problems), ['warning strict 4:1']);
  assert.match(r.problems[0]?.message ?? '', /strict mode does not support authentication/);
  assert.equal(r.config?.vrrpInstances[0]?.auth, undefined);
  // AH would be refused; in strict mode it is dropped first, so it is not.
  const ah = parse(STRICT + instance(`  priority 100\n  authentication {\n    auth_type AH\n    auth_pass secret\n  }\n${vips}`));
  assert.deepEqual(summary(ah.problems), ['warning strict 4:1']);
});

test('strict: unicast peers and an instance without VIPs are refused', () => {
  const u = parse(STRICT + instance(`  priority 100\n  unicast_peer {\n    10.0.0.9\n  }\n${vips}`));
  assert.equal(u.config, undefined);
  assert.deepEqual(summary(u.problems), ['error strict 4:1']);
  assert.match(u.problems[0]?.message ?? '', /unicast peers are not supported in strict mode/);
  const n = parse(STRICT + instance('  priority 100'));
  assert.equal(n.config, undefined);
  assert.match(n.problems[0]?.message ?? '', /strict mode requires at least one/);
});

test('strict: state MASTER without priority 255 becomes BACKUP, with a warning; preempt_delay is reset', () => {
  const r = parse(STRICT + instance(`  state MASTER\n  priority 150\n  preempt_delay 5\n${vips}`));
  assert.deepEqual(summary(r.problems), ['warning strict 4:1', 'warning strict 4:1']);
  assert.match(r.problems[0]?.message ?? '', /state MASTER must match being the address owner.*BACKUP/);
  assert.match(r.problems[1]?.message ?? '', /preempt_delay is incompatible with strict mode/);
  const i = r.config?.vrrpInstances[0];
  assert.deepEqual([i?.state, i?.preemptDelayMs], ['BACKUP', 0]);
  const b = parse(STRICT + instance(`  state BACKUP\n  priority 255\n${vips}`));
  assert.equal(b.config?.vrrpInstances[0]?.state, 'MASTER');
});

test('strict VRRPv2: accept is reset to no_accept with a warning (RFC 3768); VRRPv3 keeps it', () => {
  const v2 = parse(STRICT + instance(`  priority 100\n  accept\n${vips}`));
  assert.deepEqual(summary(v2.problems), ['warning strict 4:1']);
  assert.match(v2.problems[0]?.message ?? '', /RFC 3768/);
  assert.equal(v2.config?.vrrpInstances[0]?.accept, false);
  const v3 = parse(STRICT + instance(`  priority 100\n  version 3\n  accept\n${vips}`));
  assert.deepEqual(summary(v3.problems), []);
  assert.equal(v3.config?.vrrpInstances[0]?.accept, true);
});

test('strict IPv6: the first VIP should be link-local (warned, as keepalived reports it and runs)', () => {
  const r = parse(STRICT + instance(`  priority 100\n  version 3\n  virtual_ipaddress {\n    2001:db8::1/64\n  }`));
  assert.deepEqual(summary(r.problems), ['warning strict 10:5']);
  assert.match(r.problems[0]?.message ?? '', /must be link-local/);
});

test('vrrp_strict ignores an argument as keepalived does: "vrrp_strict off" is strict, and said so', () => {
  const r = parse('global_defs {\n  vrrp_strict off\n}\n');
  assert.deepEqual(summary(r.problems), ['warning lenient 2:15']);
  assert.equal(r.config?.globalDefs.vrrp.strict, true);
});
