// vrrp_track_process as keepalived 2.2 (vrrp_parser.c, track_process.c, vrrp_track.c): the block, which processes
// count, the quorum with fork/terminate delays on an injected clock, the weight, the planner, and /proc counting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { parseConfigText, type Config } from '../../src/config/index.ts';
import type { VrrpTrackProcess } from '../../src/config/model.ts';
import { matchesProcess, type ProcessEntry } from '../../src/vrrp/process-match.ts';
import { initialQuorum, processEvent, quorumTimer, type QuorumState } from '../../src/vrrp/process-quorum.ts';
import { instanceSettings } from '../../src/vrrp/instance-settings.ts';
import { planVrrpReload } from '../../src/vrrp/reload-plan.ts';
import { effectivePriority, processEffect } from '../../src/vrrp/track.ts';
import { TrackProcesses } from '../../src/vrrp/track-processes.ts';

const parse = (text: string) => parseConfigText(text, 'k.conf', { skipHostChecks: true });
const block = (body: string, name = 'nginx') => `vrrp_track_process ${name} {\n${body}\n}\n`;
const inst = (body: string, name = 'A', vrid = 1) =>
  `vrrp_instance ${name} {\n  interface eth0\n  virtual_router_id ${vrid}\n  priority 100\n${body}\n  virtual_ipaddress { 10.0.0.${vrid}/24 }\n}\n`;

function one(text: string): VrrpTrackProcess {
  const r = parse(text);
  assert.deepEqual(r.problems.filter((p) => p.severity === 'error'), []);
  return r.config!.vrrpTrackProcesses[0]!;
}

test('config: defaults, and what arguments, param_match and quorum_max imply (keepalived\'s parser)', () => {
  const d = one(block('  process nginx'));
  assert.deepEqual({ ...d, pos: undefined }, {
    name: 'nginx', process: 'nginx', params: [], paramMatch: 'none', fullCommand: false, weight: 0, weightReverse: false,
    quorum: 1, quorumMax: 4_294_967_295, forkDelayMs: 0, terminateDelayMs: 0, pos: undefined,
  });
  const args = one(block('  process /usr/sbin/nginx -g "daemon off;"\n  weight -20 reverse\n  quorum 2\n  quorum_max 4\n  delay 0.5\n  fork_delay 2'));
  assert.deepEqual([args.params, args.paramMatch, args.fullCommand, args.weight, args.weightReverse, args.quorum, args.quorumMax, args.forkDelayMs, args.terminateDelayMs],
    [['-g', 'daemon off;'], 'exact', true, -20, true, 2, 4, 2000, 500]);
  assert.deepEqual([one(block('  process x\n  param_match')).paramMatch, one(block('  process x\n  param_match initial')).paramMatch], ['exact', 'initial']);
  const none = one(block('  process x\n  quorum_max 0'));
  assert.deepEqual([none.quorum, none.quorumMax], [0, 0], 'quorum_max 0: up only while none runs');
});

test('config: errors as keepalived reports them; track_process entries refer to blocks; the block is no longer "not applied"', () => {
  const r = parse(block('  quorum_max 2\n  quorum 3\n  weight 255', 'a') + block('  process y\n  param_match sideways', 'b') + block('  weight 1', 'c') +
    inst('  track_process {\n    a\n    nginks weight 10\n  }'));
  assert.deepEqual(r.problems.map((p) => `${p.severity} ${p.code} ${p.pos?.line}`), [
    'error missing 1', 'error range 3', 'error range 4', 'error bad-value 8', 'error missing 10', 'error reference 18', 'error reference 19',
  ]);
  assert.match(r.problems[6]!.message, /track_process nginks names no vrrp_track_process/);
  const ok = parse(block('  process nginx') + inst('  track_process {\n    nginx weight -30\n  }'));
  assert.deepEqual(ok.problems, []);
});

const entry = (comm: string, argv: string[], o: Partial<ProcessEntry> = {}): ProcessEntry => ({ pid: 10, ppid: 1, comm, argv, zombie: false, ...o });

test('matching: comm, or argv[0] with full_command; exact, partial and initial arguments; zombies never', () => {
  const p = (body: string) => one(block(body));
  assert.ok(matchesProcess(p('  process nginx'), entry('nginx', ['/usr/sbin/nginx', '-g', 'x'])));
  assert.ok(!matchesProcess(p('  process nginx'), entry('nginx', [], { zombie: true })));
  assert.ok(!matchesProcess(p('  process /usr/sbin/nginx'), entry('nginx', ['/usr/sbin/nginx'])), 'comm is not the path');
  assert.ok(matchesProcess(p('  process /usr/sbin/nginx\n  full_command'), entry('nginx', ['/usr/sbin/nginx', '-g', 'x'])));
  const exact = p('  process sleep 100');
  assert.ok(matchesProcess(exact, entry('sleep', ['sleep', '100'])));
  assert.ok(!matchesProcess(exact, entry('sleep', ['sleep', '100', '1'])));
  assert.ok(!matchesProcess(exact, entry('sleep', ['sleep', '1000'])));
  const partial = p('  process sleep 100\n  param_match partial');
  assert.ok(matchesProcess(partial, entry('sleep', ['sleep', '100', '1'])));
  assert.ok(!matchesProcess(partial, entry('sleep', ['sleep', '1000'])));
  const initial = p('  process sleep 10\n  param_match initial');
  assert.ok(matchesProcess(initial, entry('sleep', ['sleep', '1000'])));
  assert.ok(!matchesProcess(initial, entry('sleep', ['sleep', '2'])));
  assert.ok(matchesProcess(p('  process sleep\n  param_match'), entry('sleep', ['sleep'])), 'exact with no arguments: none');
  assert.ok(!matchesProcess(p('  process sleep\n  param_match'), entry('sleep', ['sleep', '1'])));
});

test('quorum: changes count at once; fork_delay after a fork, terminate_delay after an exit; an exec cancels a pending exit', () => {
  const lim = { quorum: 2, quorumMax: 3, forkDelayMs: 500, terminateDelayMs: 1000 };
  let s: QuorumState = initialQuorum(lim, 1);
  assert.equal(s.up, false);
  s = processEvent(lim, s, 'exec', 0);
  assert.deepEqual(s, { count: 2, up: true }, 'an exec reaches quorum at once');
  s = processEvent(lim, s, 'fork', 10);
  s = processEvent(lim, s, 'fork', 20);
  assert.deepEqual(s, { count: 4, up: true, pending: { kind: 'fork', at: 520 } }, 'above quorum_max by a fork: after fork_delay');
  assert.equal(quorumTimer(lim, s, 519), s);
  assert.deepEqual(quorumTimer(lim, s, 520), { count: 4, up: false });
  s = processEvent(lim, s, 'exit', 30);
  assert.deepEqual(s, { count: 3, up: true }, 'an exit during fork_delay cancels it and counts at once');
  s = processEvent(lim, s, 'exit', 40);
  s = processEvent(lim, s, 'exit', 50);
  assert.deepEqual(s, { count: 1, up: true, pending: { kind: 'terminate', at: 1050 } }, 'below quorum by an exit: after terminate_delay');
  assert.deepEqual(processEvent(lim, s, 'exec', 60), { count: 2, up: true }, 'the restart in time cancels it');
  assert.deepEqual(quorumTimer(lim, s, 1050), { count: 1, up: false });
  const plain = { quorum: 1, quorumMax: 4_294_967_295, forkDelayMs: 0, terminateDelayMs: 0 };
  assert.deepEqual(processEvent(plain, initialQuorum(plain, 1), 'exit', 0), { count: 0, up: false });
});

test('weight: reverse negates the weight (keepalived), weight 0 is FAULT without quorum (with it, reversed)', () => {
  assert.deepEqual(processEffect(true, 10, false), { delta: 10, fault: false });
  assert.deepEqual(processEffect(false, 10, false), { delta: 0, fault: false });
  assert.deepEqual(processEffect(false, -30, false), { delta: -30, fault: false });
  assert.deepEqual(processEffect(true, 10, true), { delta: -10, fault: false });
  assert.deepEqual(processEffect(false, -30, true), { delta: 30, fault: false });
  assert.deepEqual(processEffect(false, 0, false), { delta: 0, fault: true });
  assert.deepEqual(processEffect(true, 0, true), { delta: 0, fault: true });
  assert.deepEqual(effectivePriority(100, [{ quorum: false, weight: -60 }]), { priority: 40, fault: false });
});

function configOf(text: string): Config {
  const r = parse(text);
  assert.ok(r.config, r.problems.map((p) => p.message).join('\n'));
  return r.config;
}

test('instances take the block\'s weight unless the entry sets one; a sync group with an owner zeroes the group\'s; reload updates in place', () => {
  const text = (w: string) => block(`  process nginx\n  weight ${w}`) + inst('  track_process {\n    nginx\n  }') + inst('', 'B', 2) +
    'vrrp_sync_group G {\n  group { A B }\n  track_process { nginx weight 5 }\n}\n';
  const c = configOf(text('-30'));
  const tracked = (name: string) => instanceSettings(c, c.vrrpInstances.find((i) => i.name === name)!, '10.0.0.1').tracked.filter((t) => t.kind === 'process').map((t) => `${t.name} ${t.weight}`);
  // Named by the member and its group: one link, with the group's weight (keepalived's add_vrrp_to_track_process).
  assert.deepEqual(tracked('A'), ['nginx 5']);
  assert.deepEqual(tracked('B'), ['nginx 5']);
  const owner = configOf(text('-30').replace('priority 100', 'priority 255'));
  assert.deepEqual(instanceSettings(owner, owner.vrrpInstances[1]!, '10.0.0.1').tracked.filter((t) => t.kind === 'process').map((t) => t.weight), [0]);
  assert.deepEqual(planVrrpReload(c, configOf(text('-40'))).instances.map((p) => (p.action === 'update' ? `update ${p.name}: ${p.changes.join(', ')}` : `${p.action} ${p.name}`)), [
    'update A: vrrp_track_process nginx',
    'update B: vrrp_track_process nginx',
  ]);
});

test('TrackProcesses counts from /proc: a killed process loses the quorum within a scan, a new one gains it', async (t) => {
  // A duration no other process on the machine runs with: its command line names it alone.
  const tag = `600.${process.pid}`;
  const start = () => spawn('sleep', [tag], { stdio: 'ignore' });
  const children = [start()];
  let changes = 0;
  const tracker = new TrackProcesses(() => undefined, () => changes++, () => performance.now());
  t.after(() => {
    tracker.close();
    for (const c of children) c.kill('SIGKILL');
  });
  const cfg = one(block(`  process sleep ${tag}`, 'sleeper'));
  await new Promise((r) => setTimeout(r, 50));
  await tracker.follow([cfg]);
  assert.equal(tracker.up('sleeper'), true);
  const waitUp = async (want: boolean) => {
    const t0 = performance.now();
    while (tracker.up('sleeper') !== want) {
      assert.ok(performance.now() - t0 < 3000, `quorum ${want ? 'gained' : 'lost'} in time`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return performance.now() - t0;
  };
  children[0]!.kill('SIGKILL');
  const lost = await waitUp(false);
  children.push(start());
  await waitUp(true);
  assert.equal(changes, 2);
  t.diagnostic(`loss seen after ${lost.toFixed(0)} ms`);
});
