// The reload planner: what each VRRP instance gets from an edit. Every test is an edit an operator makes, and the
// plan must move nothing the edit does not concern.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/index.ts';
import type { Config } from '../../src/config/model.ts';
import { planVrrpReload, summarizePlan, type InstancePlan } from '../../src/vrrp/reload-plan.ts';
import { instanceConf } from './lab.ts';

function config(text: string): Config {
  const { config: c, problems } = parseConfigText(text, 'test.conf', { skipHostChecks: true });
  if (!c) throw new Error(problems.map((p) => p.message).join('\n'));
  return c;
}

const VI1 = { name: 'VI_1', vrid: 50, priority: 150, vips: ['10.80.0.100/24'] };
const VI2 = { name: 'VI_2', vrid: 51, priority: 150, vips: ['10.80.0.101/24'] };
const VS = 'virtual_server 10.80.0.100 80 {\n  lb_kind DR\n  real_server 10.80.0.11 80 {\n    TCP_CHECK {\n    }\n  }\n}\n';
const SCRIPT = (weight: number, cmd = '/bin/true') => `vrrp_script chk {\n  script "${cmd}"\n  interval 1\n  weight ${weight}\n}\n`;

/** `VI_1 keep`, `VI_2 update: priority 150 -> 160`, … */
function lines(old: string, next: string): string[] {
  return planVrrpReload(config(old), config(next)).instances.map(describe);
}

function describe(p: InstancePlan): string {
  if (p.action === 'update') return `${p.name} update${p.was !== p.name ? ` (was ${p.was})` : ''}: ${p.changes.join('; ')}`;
  if (p.action === 'restart') return `${p.name} restart: ${p.why.join('; ')}`;
  return `${p.name} ${p.action}`;
}

test('the measured reload set: a virtual server added, notify_backup added, a second instance, a priority raised', () => {
  const base = instanceConf(VI1);
  const withVs = base + VS;
  assert.deepEqual(lines(base, withVs), ['VI_1 keep'], 'a virtual server is not VRRP');
  const withNotify = instanceConf({ ...VI1, extra: '  notify_backup /bin/true' }) + VS;
  assert.deepEqual(lines(withVs, withNotify), ['VI_1 update: notify']);
  const withSecond = withNotify + instanceConf(VI2);
  assert.deepEqual(lines(withNotify, withSecond), ['VI_1 keep', 'VI_2 start']);
  const raised = instanceConf({ ...VI1, priority: 160, extra: '  notify_backup /bin/true' }) + VS + instanceConf(VI2);
  assert.deepEqual(lines(withSecond, raised), ['VI_1 update: priority 150 -> 160', 'VI_2 keep']);
  assert.equal(summarizePlan(planVrrpReload(config(withSecond), config(raised))), '1 unchanged, 1 reconfigured in place VRRP instance(s)');
});

test('the same file, or only moved lines and comments: everything is kept', () => {
  const text = instanceConf(VI1) + instanceConf(VI2);
  assert.deepEqual(lines(text, text), ['VI_1 keep', 'VI_2 keep']);
  assert.deepEqual(lines(text, `# moved\n\n${instanceConf(VI2)}\n${instanceConf(VI1)}`), ['VI_2 keep', 'VI_1 keep']);
});

test('in place: VIPs, timers, preemption, authentication, tracking, garp settings, unicast peers', () => {
  const uni = { ...VI1, unicastSrc: '10.80.0.2', peers: ['10.80.0.1'] };
  const cases: [Parameters<typeof instanceConf>[0], string][] = [
    [{ ...VI1, vips: ['10.80.0.100/24', '10.80.0.110/24'] }, 'virtualIps'],
    [{ ...VI1, advert: 2 }, 'advertIntMs 1000 -> 2000'],
    [{ ...VI1, extra: '  nopreempt' }, 'nopreempt false -> true'],
    [{ ...VI1, version: 2, pass: 'secret' }, 'auth'],
    [{ ...VI1, extra: '  track_interface {\n    eth1\n  }' }, 'trackInterfaces'],
    [{ ...VI1, extra: '  garp_master_refresh 10' }, 'garpMasterRefreshMs 0 -> 10000'],
  ];
  for (const [edit, change] of cases) {
    const old = edit.version === 2 ? { ...VI1, version: 2 as const } : VI1;
    assert.deepEqual(lines(instanceConf(old), instanceConf(edit)), [`VI_1 update: ${change}`]);
  }
  assert.deepEqual(lines(instanceConf(uni), instanceConf({ ...uni, peers: ['10.80.0.1', '10.80.0.3'] })), ['VI_1 update: unicastPeers'], 'a peer joins without an election');
});

test('identity changes restart that one instance and say why; the others are kept', () => {
  const two = (a: Parameters<typeof instanceConf>[0]) => instanceConf(a) + instanceConf(VI2);
  const base = two(VI1);
  assert.deepEqual(lines(base, two({ ...VI1, vrid: 52 })), ['VI_1 restart: virtual_router_id 50 -> 52', 'VI_2 keep']);
  assert.deepEqual(lines(base, two({ ...VI1, version: 2 })), ['VI_1 restart: version 3 -> 2', 'VI_2 keep']);
  assert.deepEqual(lines(base, two({ ...VI1, vips: ['fd80::100/64'] })), ['VI_1 restart: family IPv4 -> IPv6; mode multicast 224.0.0.18 -> multicast ff02::12', 'VI_2 keep']);
  assert.deepEqual(lines(base, base.replace('interface eth0', 'interface eth1')), ['VI_1 restart: interface eth0 -> eth1', 'VI_2 keep']);
  assert.deepEqual(lines(base, two({ ...VI1, unicastSrc: '10.80.0.2', peers: ['10.80.0.1'] })), ['VI_1 restart: mode multicast 224.0.0.18 -> unicast', 'VI_2 keep']);
  // The group is global: every multicast IPv4 instance joins it anew.
  assert.deepEqual(lines(base, `global_defs {\n  vrrp_mcast_group4 224.0.0.19\n}\n${base}`), [
    'VI_1 restart: mode multicast 224.0.0.18 -> multicast 224.0.0.19',
    'VI_2 restart: mode multicast 224.0.0.18 -> multicast 224.0.0.19',
  ]);
});

test('added and removed instances start and stop; nothing else moves', () => {
  const three = instanceConf(VI1) + instanceConf(VI2) + instanceConf({ name: 'VI_3', vrid: 53, priority: 100, vips: ['10.80.0.103/24'] });
  assert.deepEqual(lines(three, instanceConf(VI1) + instanceConf(VI2)), ['VI_1 keep', 'VI_2 keep', 'VI_3 stop']);
  assert.deepEqual(lines(instanceConf(VI2), instanceConf(VI1) + instanceConf(VI2)), ['VI_1 start', 'VI_2 keep']);
});

test('a renamed instance is the same router on the wire: updated in place under its new name', () => {
  const base = instanceConf(VI1) + instanceConf(VI2);
  assert.deepEqual(lines(base, instanceConf({ ...VI1, name: 'WEB' }) + instanceConf(VI2)), ['WEB update (was VI_1): name VI_1 -> WEB', 'VI_2 keep']);
  // Renamed and given another VRID: nothing to match, so it is another instance.
  assert.deepEqual(lines(base, instanceConf({ ...VI1, name: 'WEB', vrid: 60 }) + instanceConf(VI2)), ['WEB start', 'VI_2 keep', 'VI_1 stop']);
});

test('sync groups: a membership or group change updates its members in place; other instances are kept', () => {
  const vi3 = instanceConf({ name: 'VI_3', vrid: 53, priority: 100, vips: ['10.80.0.103/24'] });
  const group = (members: string[], notify = '') => `vrrp_sync_group G {\n  group {\n${members.map((m) => `    ${m}\n`).join('')}  }\n${notify}}\n`;
  const base = group(['VI_1', 'VI_2']) + instanceConf(VI1) + instanceConf(VI2) + vi3;
  assert.deepEqual(lines(base, group(['VI_1', 'VI_2', 'VI_3']) + instanceConf(VI1) + instanceConf(VI2) + vi3), [
    'VI_1 update: vrrp_sync_group G',
    'VI_2 update: vrrp_sync_group G',
    'VI_3 update: vrrp_sync_group G',
  ]);
  assert.deepEqual(lines(base, group(['VI_1', 'VI_2'], '  notify_master /bin/true\n') + instanceConf(VI1) + instanceConf(VI2) + vi3), [
    'VI_1 update: vrrp_sync_group G',
    'VI_2 update: vrrp_sync_group G',
    'VI_3 keep',
  ]);
  // A member's own edit concerns that member only.
  assert.deepEqual(lines(base, group(['VI_1', 'VI_2']) + instanceConf(VI1) + instanceConf({ ...VI2, priority: 155 }) + vi3), ['VI_1 keep', 'VI_2 update: priority 150 -> 155', 'VI_3 keep']);
});

test('vrrp_script: a changed script updates the instances tracking it; its state carries over unless the command changed', () => {
  const tracking = instanceConf({ ...VI1, extra: '  track_script {\n    chk\n  }' });
  const plan = (old: string, next: string) => planVrrpReload(config(old), config(next));
  const weightEdit = plan(SCRIPT(-20) + tracking + instanceConf(VI2), SCRIPT(-30) + tracking + instanceConf(VI2));
  assert.deepEqual(weightEdit.instances.map(describe), ['VI_1 update: vrrp_script chk', 'VI_2 keep']);
  assert.deepEqual(weightEdit.scripts, { carried: ['chk'], fresh: [], removed: [] });
  const commandEdit = plan(SCRIPT(-20) + tracking, SCRIPT(-20, '/bin/false') + tracking);
  assert.deepEqual(commandEdit.scripts, { carried: [], fresh: ['chk'], removed: [] });
  const dropped = plan(SCRIPT(-20) + tracking, instanceConf(VI1));
  assert.deepEqual(dropped.instances.map(describe), ['VI_1 update: trackScripts; vrrp_script chk']);
  assert.deepEqual(dropped.scripts, { carried: [], fresh: [], removed: ['chk'] });
});
