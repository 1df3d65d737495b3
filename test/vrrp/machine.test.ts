import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialState, masterDownMs, skewMs, step, type MachineAction, type MachineEvent, type MachineParams, type MachineState } from '../../src/vrrp/machine.ts';
import { effectivePriority, initialScriptHealth, scriptResult } from '../../src/vrrp/track.ts';
import { notifyCommands, syncForce } from '../../src/vrrp/sync.ts';
import { splitCommandLine } from '../../src/check/command-line.ts';

const P: MachineParams = { version: 2, advertIntMs: 1000, preempt: true, preemptDelayMs: 0, primaryAddress: '10.0.0.2' };

/** Drives one machine with a fake clock; records every action with the time it happened. */
function drive(p: MachineParams, s0: MachineState) {
  let s = s0;
  const log: { at: number; a: MachineAction }[] = [];
  const on = (ev: MachineEvent, at: number) => {
    const r = step(p, s, ev, at);
    s = r.state;
    for (const a of r.actions) log.push({ at, a });
  };
  /** Fires the timer (if due by `until`) and returns the time it fired. */
  const runTimer = (until: number) => {
    const t = s.timer;
    if (t === undefined || t > until) return undefined;
    on({ kind: 'timer' }, t);
    return t;
  };
  return { on, runTimer, get s() { return s; }, log };
}

test('timer formulas: skew and master-down interval match the lab figures for keepalived pairs', () => {
  assert.equal(skewMs(100, 1000), 609.375);
  assert.equal(masterDownMs(100, 1000), 3609.375);
  assert.equal(masterDownMs(100, 100), 360.9375);
  assert.equal(skewMs(100, 100), 60.9375);
});

test('start: priority < 255 waits Master_Down_Interval in BACKUP, then becomes master and advertises every interval', () => {
  const m = drive(P, initialState(100, 1000));
  m.on({ kind: 'start' }, 0);
  assert.equal(m.s.state, 'BACKUP');
  assert.equal(m.s.timer, 3609.375);
  assert.equal(m.runTimer(3609), undefined);
  assert.equal(m.runTimer(4000), 3609.375);
  assert.equal(m.s.state, 'MASTER');
  assert.deepEqual(m.log.map((x) => x.a.kind === 'send' ? `send ${x.a.priority}` : `${x.a.from}>${x.a.to}`), ['INIT>BACKUP', 'send 100', 'BACKUP>MASTER']);
  assert.equal(m.runTimer(5000), 4609.375);
  assert.deepEqual(m.log.at(-1), { at: 4609.375, a: { kind: 'send', priority: 100 } });
});

test('priority 255 owner becomes master at once', () => {
  const m = drive(P, initialState(255, 1000));
  m.on({ kind: 'start' }, 5);
  assert.equal(m.s.state, 'MASTER');
  assert.equal(m.s.timer, 1005);
  assert.deepEqual(m.log[0], { at: 5, a: { kind: 'send', priority: 255 } });
});

test('backup: adverts from a higher master restart Master_Down_Timer; silence makes it master after 3 x advert + skew', () => {
  const m = drive(P, initialState(100, 1000));
  m.on({ kind: 'start' }, 0);
  for (let t = 1000; t <= 10_000; t += 1000) m.on({ kind: 'advert', priority: 150, intervalMs: 1000, src: '10.0.0.1' }, t);
  assert.equal(m.s.state, 'BACKUP');
  assert.equal(m.s.timer, 13_609.375);
  assert.equal(m.runTimer(13_609), undefined);
  m.runTimer(13_610);
  assert.equal(m.s.state, 'MASTER');
});

test('priority 0 from the master: the backup takes over after Skew_Time only', () => {
  const m = drive(P, initialState(100, 1000));
  m.on({ kind: 'start' }, 0);
  m.on({ kind: 'advert', priority: 150, intervalMs: 1000, src: '10.0.0.1' }, 1000);
  m.on({ kind: 'advert', priority: 0, intervalMs: 1000, src: '10.0.0.1' }, 1500);
  assert.equal(m.s.timer, 1500 + 609.375);
  m.runTimer(3000);
  assert.equal(m.s.state, 'MASTER');
});

test('v3 backup adopts the master interval (0.1 s) for its Master_Down_Interval; v2 keeps its own', () => {
  const m = drive({ ...P, version: 3 }, initialState(100, 1000));
  m.on({ kind: 'start' }, 0);
  m.on({ kind: 'advert', priority: 150, intervalMs: 100, src: '10.0.0.1' }, 200);
  assert.equal(m.s.masterAdvertIntMs, 100);
  assert.equal(m.s.timer, 200 + 360.9375);
  const m2 = drive(P, initialState(100, 1000));
  m2.on({ kind: 'start' }, 0);
  m2.on({ kind: 'advert', priority: 150, intervalMs: 100, src: '10.0.0.1' }, 200);
  assert.equal(m2.s.timer, 200 + 3609.375);
});

test('preempt: a higher-priority backup ignores a lower master and takes over when Master_Down_Timer runs out', () => {
  const m = drive(P, initialState(200, 1000));
  m.on({ kind: 'start' }, 0);
  const down = masterDownMs(200, 1000);
  for (let t = 500; t < 4000; t += 1000) m.on({ kind: 'advert', priority: 100, intervalMs: 1000, src: '10.0.0.1' }, t);
  assert.equal(m.s.timer, down);
  m.runTimer(4000);
  assert.equal(m.s.state, 'MASTER');
  // The old master hears us and steps down; we then keep hearing nothing lower.
  const old = drive({ ...P, primaryAddress: '10.0.0.1' }, initialState(100, 1000));
  old.on({ kind: 'start' }, 0);
  old.runTimer(10_000);
  assert.equal(old.s.state, 'MASTER');
  old.on({ kind: 'advert', priority: 200, intervalMs: 1000, src: '10.0.0.2' }, 4000);
  assert.equal(old.s.state, 'BACKUP');
  assert.equal(old.s.timer, 4000 + masterDownMs(100, 1000));
});

test('nopreempt: a higher-priority backup keeps accepting the lower master', () => {
  const m = drive({ ...P, preempt: false }, initialState(200, 1000));
  m.on({ kind: 'start' }, 0);
  for (let t = 500; t < 20_000; t += 1000) m.on({ kind: 'advert', priority: 100, intervalMs: 1000, src: '10.0.0.1' }, t);
  m.runTimer(20_000);
  assert.equal(m.s.state, 'BACKUP');
  m.runTimer(30_000);
  assert.equal(m.s.state, 'MASTER');
});

test('preempt_delay: lower adverts are accepted until the delay has passed, then ignored', () => {
  const m = drive({ ...P, preemptDelayMs: 5000 }, initialState(200, 1000));
  m.on({ kind: 'start' }, 0);
  for (let t = 1000; t <= 5000; t += 1000) m.on({ kind: 'advert', priority: 100, intervalMs: 1000, src: '10.0.0.1' }, t);
  assert.equal(m.s.preemptAt, 6000);
  m.on({ kind: 'advert', priority: 100, intervalMs: 1000, src: '10.0.0.1' }, 6000);
  const timerAfterLastAccepted = 5000 + masterDownMs(200, 1000);
  for (let t = 7000; t <= 8000; t += 1000) m.on({ kind: 'advert', priority: 100, intervalMs: 1000, src: '10.0.0.1' }, t);
  assert.equal(m.s.timer, timerAfterLastAccepted);
  m.runTimer(20_000);
  assert.equal(m.s.state, 'MASTER');
  assert.equal(m.log.find((x) => x.a.kind === 'transition' && x.a.to === 'MASTER')?.at, timerAfterLastAccepted);
  // A higher or equal advert cancels a running preempt delay.
  const n = drive({ ...P, preemptDelayMs: 5000 }, initialState(200, 1000));
  n.on({ kind: 'start' }, 0);
  n.on({ kind: 'advert', priority: 100, intervalMs: 1000, src: '10.0.0.1' }, 1000);
  n.on({ kind: 'advert', priority: 250, intervalMs: 1000, src: '10.0.0.1' }, 2000);
  assert.equal(n.s.preemptAt, undefined);
});

test('master: equal priority is won by the higher primary address; lower adverts get an immediate advert back', () => {
  const m = drive(P, initialState(100, 1000));
  m.on({ kind: 'start' }, 0);
  m.runTimer(5000);
  m.on({ kind: 'advert', priority: 100, intervalMs: 1000, src: '10.0.0.1' }, 5000);
  assert.equal(m.s.state, 'MASTER');
  assert.deepEqual(m.log.at(-1), { at: 5000, a: { kind: 'send', priority: 100 } });
  m.on({ kind: 'advert', priority: 0, intervalMs: 1000, src: '10.0.0.1' }, 5100);
  assert.deepEqual(m.log.at(-1), { at: 5100, a: { kind: 'send', priority: 100 } });
  m.on({ kind: 'advert', priority: 100, intervalMs: 1000, src: '10.0.0.10' }, 5200);
  assert.equal(m.s.state, 'BACKUP');
});

test('strict mode: a master ignores lower adverts (lower_prio_no_advert) but still answers a priority-0 advert', () => {
  const m = drive({ ...P, lowerPrioNoAdvert: true }, initialState(100, 1000));
  m.on({ kind: 'start' }, 0);
  m.runTimer(5000);
  const sent = m.log.length;
  m.on({ kind: 'advert', priority: 50, intervalMs: 1000, src: '10.0.0.1' }, 5000);
  assert.equal(m.s.state, 'MASTER');
  assert.equal(m.log.length, sent, 'no advert back');
  m.on({ kind: 'advert', priority: 0, intervalMs: 1000, src: '10.0.0.1' }, 5100);
  assert.deepEqual(m.log.at(-1), { at: 5100, a: { kind: 'send', priority: 100 } });
});

test('backup: equal priority is accepted (no preemption on a tie)', () => {
  const m = drive(P, initialState(100, 1000));
  m.on({ kind: 'start' }, 0);
  m.on({ kind: 'advert', priority: 100, intervalMs: 1000, src: '10.0.0.1' }, 1000);
  assert.equal(m.s.timer, 1000 + masterDownMs(100, 1000));
});

test('stop: a master sends priority 0 and stops; a backup just stops', () => {
  const m = drive(P, initialState(255, 1000));
  m.on({ kind: 'start' }, 0);
  m.on({ kind: 'stop' }, 300);
  assert.deepEqual(m.log.slice(-2).map((x) => x.a), [{ kind: 'send', priority: 0 }, { kind: 'transition', from: 'MASTER', to: 'STOP' }]);
  assert.equal(m.s.timer, undefined);
  const b = drive(P, initialState(100, 1000));
  b.on({ kind: 'start' }, 0);
  b.on({ kind: 'stop' }, 300);
  assert.deepEqual(b.log.at(-1)?.a, { kind: 'transition', from: 'BACKUP', to: 'STOP' });
});

test('tracking: FAULT from master sends priority 0; recovery goes to BACKUP; priority changes apply to adverts', () => {
  const m = drive(P, initialState(100, 1000));
  m.on({ kind: 'start' }, 0);
  m.runTimer(4000);
  m.on({ kind: 'track', priority: 90, fault: false }, 4000);
  m.runTimer(5000);
  assert.deepEqual(m.log.at(-1)?.a, { kind: 'send', priority: 90 });
  m.on({ kind: 'track', priority: 90, fault: true }, 5000);
  assert.equal(m.s.state, 'FAULT');
  assert.deepEqual(m.log.slice(-2).map((x) => x.a.kind), ['send', 'transition']);
  m.on({ kind: 'advert', priority: 50, intervalMs: 1000, src: '10.0.0.1' }, 5500);
  m.runTimer(99_000);
  assert.equal(m.s.state, 'FAULT');
  m.on({ kind: 'track', priority: 90, fault: false }, 6000);
  assert.equal(m.s.state, 'BACKUP');
  assert.equal(m.s.timer, 6000 + masterDownMs(90, 1000));
  // A fault present at start-up goes straight to FAULT.
  const f = drive(P, initialState(100, 1000, true));
  f.on({ kind: 'start' }, 0);
  assert.equal(f.s.state, 'FAULT');
});

test('reconfigure, master: a new priority goes out at once and the next advert is counted from it; no transition', () => {
  const m = drive(P, initialState(255, 1000));
  m.on({ kind: 'start' }, 0);
  m.log.length = 0;
  m.on({ kind: 'reconfigure', priority: 255, fault: false }, 400);
  assert.deepEqual(m.log, [], 'nothing changed, nothing sent');
  assert.equal(m.s.timer, 1000);
  m.on({ kind: 'reconfigure', priority: 160, fault: false }, 400);
  assert.deepEqual(m.log, [{ at: 400, a: { kind: 'send', priority: 160 } }]);
  assert.equal(m.s.state, 'MASTER');
  assert.equal(m.s.timer, 1400);
  assert.equal(m.runTimer(1400), 1400);
  assert.deepEqual(m.log.at(-1), { at: 1400, a: { kind: 'send', priority: 160 } });
});

test('reconfigure, master: a new advert_int is announced at once and used from then on', () => {
  const p = { ...P, advertIntMs: 3000 };
  const m = drive(P, initialState(255, 1000));
  m.on({ kind: 'start' }, 0);
  m.log.length = 0;
  const r = step(p, m.s, { kind: 'reconfigure', priority: 255, fault: false }, 500);
  assert.deepEqual(r.actions, [{ kind: 'send', priority: 255 }]);
  assert.equal(r.state.timer, 3500);
  assert.equal(r.state.masterAdvertIntMs, 3000);
});

test('reconfigure, backup: a priority above the master\'s preempts by the usual rules (its adverts stop resetting the timer)', () => {
  const m = drive(P, initialState(100, 1000));
  m.on({ kind: 'start' }, 0);
  m.on({ kind: 'advert', priority: 150, intervalMs: 1000, src: '10.0.0.1' }, 1000);
  m.on({ kind: 'reconfigure', priority: 200, fault: false }, 1500);
  assert.equal(m.s.state, 'BACKUP', 'no election at the reload itself');
  assert.equal(m.s.timer, 1000 + masterDownMs(100, 1000), 'the running Master_Down_Timer is kept');
  m.on({ kind: 'advert', priority: 150, intervalMs: 1000, src: '10.0.0.1' }, 2000);
  assert.equal(m.s.timer, 1000 + masterDownMs(100, 1000), 'a lower master no longer restarts it');
  m.runTimer(10_000);
  assert.equal(m.s.state, 'MASTER');
});

test('reconfigure, backup: a lower priority just waits; v2 times the master with the new interval, v3 keeps the master\'s', () => {
  const m = drive(P, initialState(100, 1000));
  m.on({ kind: 'start' }, 0);
  const v2 = step({ ...P, advertIntMs: 2000 }, m.s, { kind: 'reconfigure', priority: 90, fault: false }, 100);
  assert.deepEqual(v2.actions, []);
  assert.equal(v2.state.priority, 90);
  assert.equal(v2.state.masterAdvertIntMs, 2000);
  const v3 = step({ ...P, version: 3, advertIntMs: 2000 }, m.s, { kind: 'reconfigure', priority: 90, fault: false }, 100);
  assert.equal(v3.state.masterAdvertIntMs, 1000);
});

test('reconfigure: a new tracked object that is down puts a master in FAULT with priority 0; cleared, it returns to BACKUP', () => {
  const m = drive(P, initialState(255, 1000));
  m.on({ kind: 'start' }, 0);
  m.log.length = 0;
  m.on({ kind: 'reconfigure', priority: 255, fault: true }, 100);
  assert.deepEqual(m.log.map((x) => x.a), [{ kind: 'send', priority: 0 }, { kind: 'transition', from: 'MASTER', to: 'FAULT' }]);
  m.on({ kind: 'reconfigure', priority: 255, fault: false }, 200);
  assert.equal(m.s.state, 'BACKUP');
});

test('sync group forces: members follow MASTER/BACKUP/FAULT; a member with its own fault stays in FAULT', () => {
  assert.deepEqual(syncForce('MASTER'), { kind: 'force', state: 'MASTER' });
  assert.equal(syncForce('STOP'), undefined);
  const m = drive(P, initialState(100, 1000));
  m.on({ kind: 'start' }, 0);
  m.on({ kind: 'force', state: 'MASTER' }, 10);
  assert.equal(m.s.state, 'MASTER');
  m.on({ kind: 'force', state: 'FAULT' }, 20);
  assert.equal(m.s.state, 'FAULT');
  m.on({ kind: 'force', state: 'BACKUP' }, 30);
  assert.equal(m.s.state, 'BACKUP');
  m.on({ kind: 'track', priority: 100, fault: true }, 40);
  m.on({ kind: 'force', state: 'BACKUP' }, 50);
  assert.equal(m.s.state, 'FAULT');
});

test('rise/fall debounce and weights', () => {
  let h = initialScriptHealth(false);
  h = scriptResult(h, false, 2, 3);
  h = scriptResult(h, false, 2, 3);
  assert.equal(h.up, true);
  h = scriptResult(h, false, 2, 3);
  assert.equal(h.up, false);
  h = scriptResult(h, true, 2, 3);
  h = scriptResult(h, false, 2, 3);
  h = scriptResult(h, true, 2, 3);
  assert.equal(h.up, false);
  h = scriptResult(h, true, 2, 3);
  assert.equal(h.up, true);
  assert.equal(initialScriptHealth(true).up, false);
  assert.deepEqual(effectivePriority(100, [{ up: true, weight: 20 }, { up: false, weight: -30 }]), { priority: 90, fault: false });
  assert.deepEqual(effectivePriority(100, [{ up: false, weight: 20 }, { up: true, weight: -30 }]), { priority: 100, fault: false });
  assert.deepEqual(effectivePriority(100, [{ up: false, weight: 0 }]), { priority: 100, fault: true });
  assert.deepEqual(effectivePriority(100, [{ up: true, weight: 0, reverse: true }]), { priority: 100, fault: true });
  // reverse negates the weight where it counts (keepalived 2.2.7's weight_multiplier), it does not flip up and down.
  assert.deepEqual([true, false].map((up) => effectivePriority(100, [{ up, weight: 10, reverse: true }]).priority), [90, 100]);
  assert.deepEqual([true, false].map((up) => effectivePriority(100, [{ up, weight: -10, reverse: true }]).priority), [100, 110]);
  assert.deepEqual(effectivePriority(250, [{ up: true, weight: 50 }]), { priority: 254, fault: false });
  assert.deepEqual(effectivePriority(10, [{ up: false, weight: -50 }]), { priority: 1, fault: false });
  assert.deepEqual(effectivePriority(255, [{ up: false, weight: -50 }]), { priority: 255, fault: false });
});

test('notify: own script as written, then notify with the four keepalived arguments', () => {
  const cmds = notifyCommands({ master: '/bin/m "a b"', any: '/bin/n --x' }, 'INSTANCE', 'VI "1"', 'MASTER', 150);
  assert.deepEqual(cmds.map((c) => splitCommandLine(c.command)), [
    ['/bin/m', 'a b'],
    ['/bin/n', '--x', 'INSTANCE', 'VI "1"', 'MASTER', '150'],
  ]);
  assert.deepEqual(notifyCommands({ fault: '/bin/f' }, 'GROUP', 'G', 'BACKUP', 0), []);
});

test('notify: a script given USERNAME [GROUPNAME] runs as them; the others as script_user', () => {
  const n = { master: '/bin/m', any: '/bin/n', users: { master: { user: 'vrrp', group: 'adm' } } };
  assert.deepEqual(notifyCommands(n, 'INSTANCE', 'VI_1', 'MASTER', 100), [
    { command: '/bin/m', user: { user: 'vrrp', group: 'adm' } },
    { command: '/bin/n "INSTANCE" "VI_1" "MASTER" "100"' },
  ]);
});
