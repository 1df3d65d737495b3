// vrrp_startup_delay as keepalived 2.2 applies it (vrrp_init_instance_sands): a backup's timers count from the end
// of the delay while it lasts; masters are not held back; a reload neither restarts it nor counts as a change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/index.ts';
import { initialState, masterDownMs, skewMs, step, type MachineEvent, type MachineParams, type MachineState } from '../../src/vrrp/machine.ts';
import { planVrrpReload } from '../../src/vrrp/reload-plan.ts';

const P: MachineParams = { version: 2, advertIntMs: 1000, preempt: true, preemptDelayMs: 0, primaryAddress: '10.0.0.2', delayedStartAt: 5000 };

function run(p: MachineParams, s0: MachineState, events: [number, MachineEvent][]): MachineState {
  let s = s0;
  for (const [at, ev] of events) s = step(p, s, ev, at).state;
  return s;
}

test('a backup started inside the delay waits the delay plus Master_Down_Interval before taking over', () => {
  const s = run(P, initialState(100, 1000), [[0, { kind: 'start' }]]);
  assert.equal(s.state, 'BACKUP');
  assert.equal(s.timer, 5000 + masterDownMs(100, 1000));
  assert.equal(run(P, s, [[8000, { kind: 'timer' }]]).state, 'BACKUP', 'not due yet');
  assert.equal(run(P, s, [[8609.375, { kind: 'timer' }]]).state, 'MASTER');
});

test('adverts received inside the delay restart the timer from its end; after it, from now', () => {
  const advert = (priority: number): MachineEvent => ({ kind: 'advert', priority, intervalMs: 1000, src: '10.0.0.1' });
  const s = run(P, initialState(100, 1000), [[0, { kind: 'start' }], [1000, advert(150)]]);
  assert.equal(s.timer, 5000 + masterDownMs(100, 1000));
  assert.equal(run(P, s, [[2000, advert(0)]]).timer, 5000 + skewMs(100, 1000), 'priority 0: skew only, still from the end of the delay');
  assert.equal(run(P, s, [[6000, advert(150)]]).timer, 6000 + masterDownMs(100, 1000));
});

test('without a delay, or once it is over, the timers are RFC 5798\'s; an address owner is master at once either way', () => {
  const { delayedStartAt: _, ...plain } = P;
  assert.equal(run(plain, initialState(100, 1000), [[0, { kind: 'start' }]]).timer, masterDownMs(100, 1000));
  assert.equal(run(P, initialState(100, 1000), [[7000, { kind: 'start' }]]).timer, 7000 + masterDownMs(100, 1000));
  assert.equal(run(P, initialState(255, 1000), [[0, { kind: 'start' }]]).state, 'MASTER');
});

test('a master that hears a higher priority inside the delay goes back to backup with the delayed timer', () => {
  const s = run(P, initialState(255, 1000), [[0, { kind: 'start' }]]);
  const b = run({ ...P }, { ...s, priority: 100 }, [[1000, { kind: 'advert', priority: 200, intervalMs: 1000, src: '10.0.0.9' }]]);
  assert.equal(b.state, 'BACKUP');
  assert.equal(b.timer, 5000 + masterDownMs(100, 1000));
});

test('config: vrrp_startup_delay in seconds (ms resolution); 0 is refused, a minute or more is remarked on', () => {
  const conf = (v: string) => parseConfigText(`global_defs {\n  vrrp_startup_delay ${v}\n}\n`, 'k.conf', { skipHostChecks: true });
  assert.equal(conf('2.5').config?.globalDefs.vrrp.startupDelayMs, 2500);
  assert.deepEqual(conf('2.5').problems, []);
  assert.equal(conf('0').config, undefined);
  assert.match(conf('90').problems[0]?.message ?? '', /vrrp_startup_delay 90 s is very large/);
  assert.equal(parseConfigText('global_defs {\n}\n', 'k.conf', { skipHostChecks: true }).config?.globalDefs.vrrp.startupDelayMs, undefined);
});

test('reload: a changed vrrp_startup_delay concerns no running instance (it counts from the process start only)', () => {
  const conf = (g: string) => parseConfigText(
    `global_defs {\n${g}}\nvrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  virtual_ipaddress { 10.0.0.1/24 }\n}\n`, 'k.conf', { skipHostChecks: true },
  ).config!;
  const plan = planVrrpReload(conf(''), conf('  vrrp_startup_delay 10\n'));
  assert.deepEqual(plan.instances, [{ action: 'keep', name: 'A' }]);
});
