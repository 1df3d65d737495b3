// keepalived 2.2's tracking-weight rules for sync groups and address owners (vrrp.c vrrp_complete_instance,
// sync_group_tracking_init): what check-config warns about is what the VRRP engine tracks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText, type Config } from '../../src/config/index.ts';
import { instanceSettings } from '../../src/vrrp/instance-settings.ts';
import { effectivePriority } from '../../src/vrrp/track.ts';
import { planVrrpReload } from '../../src/vrrp/reload-plan.ts';

const parse = (text: string) => parseConfigText(text, 'k.conf', { skipHostChecks: true });

const scripts = `
vrrp_script chk_w {
  script "/bin/true"
  weight -20
}
vrrp_script chk_0 {
  script "/bin/true"
}
vrrp_script chk_5 {
  script "/bin/true"
}
`;
const inst = (name: string, vrid: number, body: string) =>
  `vrrp_instance ${name} {\n  interface eth0\n  virtual_router_id ${vrid}\n  priority 100\n${body}\n  virtual_ipaddress { 10.0.0.${vrid}/24 }\n}\n`;
const tracking = '  track_interface { eth1 weight -30\n eth2 }\n  track_script { chk_w\n chk_0\n chk_5 weight 5 }';

function configOf(text: string): { config: Config; warnings: string[] } {
  const r = parse(text);
  assert.ok(r.config, r.problems.map((p) => p.message).join('\n'));
  return { config: r.config, warnings: r.problems.filter((p) => p.severity === 'warning' && !/enable_script_security/.test(p.message)).map((p) => `${p.pos?.line} ${p.message}`) };
}

const tracked = (c: Config, name: string) =>
  instanceSettings(c, c.vrrpInstances.find((i) => i.name === name)!, '10.0.0.1').tracked.map((t) => `${t.kind} ${t.name} ${t.weight}`);

test('a sync group member: weighted interfaces are tracked with weight 0, weighted scripts not at all; each said once', () => {
  const { config, warnings } = configOf(`${scripts}${inst('A', 1, tracking)}${inst('B', 2, '')}vrrp_sync_group G { group { A B } }\n`);
  assert.deepEqual(tracked(config, 'A'), ['iface eth0 0', 'iface eth1 0', 'iface eth2 0', 'script chk_0 0']);
  assert.equal(warnings.length, 3);
  assert.match(warnings[0]!, /^16 vrrp_instance A: tracked interface eth1: its weight is taken as 0 .* sync group G.*sync_group_tracking_weight/);
  assert.match(warnings[1]!, /^18 vrrp_instance A: tracked script chk_w has a weight, so it is not tracked at all: sync group G/);
  assert.match(warnings[2]!, /^20 vrrp_instance A: tracked script chk_5 has a weight/);
});

test('a member whose weighted interface goes down faults (its group follows) instead of losing priority', () => {
  const { config } = configOf(`${scripts}${inst('A', 1, tracking)}${inst('B', 2, '')}vrrp_sync_group G { group { A B } }\n`);
  const sources = instanceSettings(config, config.vrrpInstances[0]!, '10.0.0.1').tracked;
  const down = sources.map((t) => ({ up: t.name !== 'eth1', weight: t.weight, reverse: t.reverse }));
  assert.deepEqual(effectivePriority(100, down), { priority: 100, fault: true });
});

test('sync_group_tracking_weight (and the deprecated global_tracking) keeps the members\' weights', () => {
  for (const kw of ['sync_group_tracking_weight', 'global_tracking']) {
    const { config, warnings } = configOf(`${scripts}${inst('A', 1, tracking)}${inst('B', 2, '')}vrrp_sync_group G {\n group { A B }\n ${kw}\n}\n`);
    assert.deepEqual(tracked(config, 'A'), ['iface eth0 0', 'iface eth1 -30', 'iface eth2 0', 'script chk_w -20', 'script chk_0 0', 'script chk_5 5']);
    assert.deepEqual(warnings.map((w) => /global_tracking is the old name/.test(w)), kw === 'global_tracking' ? [true] : []);
  }
});

test('the group\'s own weighted trackers keep their weight, unless a member is the address owner: then weight 0', () => {
  const group = 'vrrp_sync_group G {\n group { A B }\n track_interface { eth3 weight 10 }\n track_script { chk_w }\n}\n';
  const plain = configOf(`${scripts}${inst('A', 1, '')}${inst('B', 2, '')}${group}`);
  assert.deepEqual(tracked(plain.config, 'B'), ['iface eth0 0', 'iface eth3 10', 'script chk_w -20']);
  assert.deepEqual(plain.warnings, []);
  const owner = configOf(`${scripts}${inst('A', 1, '  priority 255')}${inst('B', 2, '')}${group}`);
  assert.deepEqual(tracked(owner.config, 'B'), ['iface eth0 0', 'iface eth3 0', 'script chk_w 0']);
  assert.deepEqual(owner.warnings.map((w) => w.replace(/:.*/, '')), ['28 vrrp_sync_group G', '29 vrrp_sync_group G']);
  assert.match(owner.warnings[0]!, /member A is the address owner/);
});

test('an address owner outside any group drops its weighted trackers (its priority never floats)', () => {
  const { config, warnings } = configOf(`${scripts}${inst('A', 1, `  priority 255\n${tracking}`)}`);
  assert.deepEqual(tracked(config, 'A'), ['iface eth0 0', 'iface eth2 0', 'script chk_0 0']);
  assert.equal(warnings.length, 3);
  assert.match(warnings[0]!, /tracked interface eth1 has a weight, so it is not tracked at all: the address owner/);
});

test('a reload that adds sync_group_tracking_weight updates the members in place', () => {
  const before = configOf(`${scripts}${inst('A', 1, tracking)}${inst('B', 2, '')}vrrp_sync_group G { group { A B } }\n`).config;
  const after = configOf(`${scripts}${inst('A', 1, tracking)}${inst('B', 2, '')}vrrp_sync_group G {\n group { A B }\n sync_group_tracking_weight\n}\n`).config;
  const plan = planVrrpReload(before, after);
  assert.deepEqual(plan.instances.map((p) => `${p.action} ${p.name}`), ['update A', 'update B']);
});

test('an object both a member and its group track is tracked once: the group\'s weight, unless the member\'s is 0 (keepalived)', () => {
  const group = 'vrrp_sync_group G {\n group { A B }\n sync_group_tracking_weight\n track_interface { eth1 weight -50\n eth0 weight -10 }\n track_script { chk_w weight -40\n chk_0 weight 5 }\n}\n';
  const { config } = configOf(`${scripts}${inst('A', 1, '  track_interface { eth1 weight -30 }\n  track_script { chk_w\n chk_0 }')}${inst('B', 2, '')}${group}`);
  // eth0 is A's own interface, tracked unweighted first: a later weight leaves it unweighted.
  assert.deepEqual(tracked(config, 'A'), ['iface eth0 0', 'iface eth1 -50', 'script chk_w -40', 'script chk_0 0']);
  assert.deepEqual(tracked(config, 'B'), ['iface eth0 0', 'iface eth1 -50', 'script chk_w -40', 'script chk_0 5']);
});
