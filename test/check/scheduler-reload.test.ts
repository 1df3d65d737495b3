// Checker state across a reload (keepalived's migrate), on a fake clock: a checker whose virtual server, real server
// and settings did not change carries on exactly where it was (health, retries, next check, the attempt running),
// whatever else the reload changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckScheduler } from '../../src/check/scheduler.ts';
import type { CheckEvent, DueCheck } from '../../src/check/types.ts';
import type { VirtualServer } from '../../src/config/model.ts';
import { realServer, tcpCheck, virtualServer } from './model.ts';

const check = (over: Parameters<typeof tcpCheck>[0] = {}) => tcpCheck({ delayLoopMs: 10_000, retry: 2, delayBeforeRetryMs: 1_000, ...over });
const rs = (address: string, over: Parameters<typeof realServer>[0] = {}) => realServer({ address, checkers: [check({ connectIp: address })], ...over });
const pool = (...rss: ReturnType<typeof rs>[]) => [virtualServer({ realServers: rss })];

/** A scheduler on a fake clock whose checks complete at once with `ok(address, at)`; records starts and events. */
function clock(vss: VirtualServer[], ok: (address: string, at: number) => boolean) {
  const sched = new CheckScheduler(vss, { random: () => 0 });
  const starts: string[] = [];
  const events: string[] = [];
  const record = (es: CheckEvent[]) => {
    for (const e of es) if (e.kind === 'realServer') events.push(`${e.at} ${e.realServer.address} ${e.up ? 'up' : 'down'} w${e.weight}`);
  };
  record(sched.start(0));
  return {
    sched,
    starts,
    events,
    record,
    /** Runs every check due up to `until`. */
    run(until: number) {
      for (let at = sched.nextDueAt(); at !== undefined && at <= until; at = sched.nextDueAt()) {
        for (const due of sched.takeDue(at)) {
          starts.push(`${at} ${due.realServer.address}`);
          record(sched.complete(due.id, { ok: ok(due.realServer.address, at), reason: 'test', latencyMs: 0 }, at));
        }
      }
    },
  };
}

const of = (starts: string[], address: string) => starts.filter((s) => s.endsWith(` ${address}`)).map((s) => Number(s.split(' ')[0]));

test('a reload that changes one real server leaves another in the middle of its retries, and the rest on their plan', () => {
  // .1 starts failing at 10 s: retries at 11 s and 12 s, down at 12 s (retry 2).
  const c = clock(pool(rs('10.1.0.1'), rs('10.1.0.2'), rs('10.1.0.3')), (a, at) => !(a === '10.1.0.1' && at >= 10_000));
  c.run(10_500);
  c.events.length = 0;
  // The operator replaces .3 by .4 while .1 is one failure into its retries.
  c.record(c.sched.reconfigure(pool(rs('10.1.0.1'), rs('10.1.0.2'), rs('10.1.0.4')), 10_500));
  assert.deepEqual(c.events, [], 'nothing to say about the servers that stayed');
  c.run(25_000);
  assert.deepEqual(of(c.starts, '10.1.0.1'), [0, 10_000, 11_000, 12_000, 22_000], 'the retry cycle went on, not restarted');
  assert.deepEqual(c.events, ['10500 10.1.0.4 up w1', '12000 10.1.0.1 down w0'], 'down after retry + 1 failures in all, the new server checked at once');
  assert.deepEqual(of(c.starts, '10.1.0.2'), [0, 10_000, 20_000], 'the healthy server kept its plan');
  assert.deepEqual(of(c.starts, '10.1.0.3'), [0, 10_000], 'the removed server is no longer checked');
});

test('an attempt running across the reload lands in the new configuration; one of a removed server is ignored', () => {
  const c = clock(pool(rs('10.1.0.1'), rs('10.1.0.2'), rs('10.1.0.3')), (_a, at) => at < 10_000);
  c.run(0);
  const due: DueCheck[] = c.sched.takeDue(10_000);
  assert.equal(due.length, 3);
  c.events.length = 0;
  // .2 gets weight 5, .3 goes, while all three checks run.
  c.record(c.sched.reconfigure(pool(rs('10.1.0.1'), rs('10.1.0.2', { weight: 5 })), 10_100));
  assert.deepEqual(c.events, ['10100 10.1.0.2 up w5'], 'a new weight for a checked server is published at once');
  const fail = { ok: false, reason: 'refused', latencyMs: 0 };
  for (const d of due) c.record(c.sched.complete(d.id, fail, 10_200));
  c.run(12_200);
  assert.deepEqual(c.events, ['10100 10.1.0.2 up w5', '12200 10.1.0.1 down w0', '12200 10.1.0.2 down w0'], 'the failures counted; nothing about .3');
});

test('a changed checker starts afresh; until it decides, its real server stays as last published', () => {
  const c = clock(pool(rs('10.1.0.1'), rs('10.1.0.2')), (a, at) => !(a === '10.1.0.2' && at >= 5_000));
  c.run(3_000);
  c.events.length = 0;
  const slower = realServer({ address: '10.1.0.2', checkers: [check({ connectIp: '10.1.0.2', connectTimeoutMs: 1_000 })] });
  c.record(c.sched.reconfigure(pool(rs('10.1.0.1'), slower), 3_000));
  assert.deepEqual(c.events, [], 'no verdict while the new checker has not run');
  c.run(20_000);
  assert.deepEqual(of(c.starts, '10.1.0.2'), [0, 3_000, 13_000, 14_000, 15_000], 'first check of the new checker at the reload, then its own retries');
  assert.deepEqual(c.events, ['15000 10.1.0.2 down w0']);
  assert.deepEqual(of(c.starts, '10.1.0.1'), [0, 10_000, 20_000]);
});

test('an identical configuration changes nothing at all', () => {
  const vss = () => pool(rs('10.1.0.1'), rs('10.1.0.2'));
  const plain = clock(vss(), (_a, at) => at < 10_000);
  plain.run(30_000);
  const reloaded = clock(vss(), (_a, at) => at < 10_000);
  reloaded.run(10_000);
  reloaded.record(reloaded.sched.reconfigure(vss(), 10_000));
  reloaded.run(30_000);
  assert.deepEqual(reloaded.starts, plain.starts);
  assert.deepEqual(reloaded.events, plain.events);
});
