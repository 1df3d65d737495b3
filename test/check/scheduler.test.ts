import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckScheduler, type SchedulerOptions } from '../../src/check/scheduler.ts';
import type { CheckEvent, DueCheck } from '../../src/check/types.ts';
import type { VirtualServer } from '../../src/config/model.ts';
import { fileCheck, miscCheck, realServer, tcpCheck, virtualServer } from './model.ts';

type Outcome = boolean | { ok: boolean; weight?: number; weightOffset?: number };

/**
 * Drives the scheduler on a fake clock: each due check completes `latency` ms after it starts with the outcome
 * `decide` gives; returns every event as a compact line and every check start time.
 */
function simulate(
  vss: VirtualServer[],
  decide: (due: DueCheck, at: number) => Outcome,
  until: number,
  options: Partial<SchedulerOptions> = {},
  latency = 0,
): { log: string[]; starts: number[]; sched: CheckScheduler } {
  const sched = new CheckScheduler(vss, { random: () => 0, ...options });
  const log: string[] = [];
  const starts: number[] = [];
  const record = (events: CheckEvent[]) => {
    for (const e of events) log.push(describe(e));
  };
  record(sched.start(0));
  const running: { due: DueCheck; endAt: number; outcome: Outcome }[] = [];
  for (;;) {
    const nextStart = sched.nextDueAt() ?? Infinity;
    const nextEnd = Math.min(Infinity, ...running.map((r) => r.endAt));
    const now = Math.min(nextStart, nextEnd);
    if (now > until) break;
    if (nextEnd <= nextStart) {
      const i = running.findIndex((r) => r.endAt === now);
      const [r] = running.splice(i, 1);
      const o = typeof r!.outcome === 'boolean' ? { ok: r!.outcome } : r!.outcome;
      record(sched.complete(r!.due.id, { ...o, reason: o.ok ? 'ok' : 'refused', latencyMs: latency }, now));
    } else {
      for (const due of sched.takeDue(now)) {
        starts.push(now);
        running.push({ due, endAt: now + latency, outcome: decide(due, now) });
      }
    }
  }
  return { log, starts, sched };
}

function describe(e: CheckEvent): string {
  switch (e.kind) {
    case 'realServer':
      return `${e.at} rs ${e.realServer.address} ${e.up ? 'up' : 'down'}${e.present ? '' : ' absent'} w${e.weight}`;
    case 'quorum':
      return `${e.at} quorum ${e.up ? 'up' : 'down'} live=${e.liveWeight}`;
    case 'sorryServer':
      return `${e.at} sorry ${e.present ? 'present' : 'absent'} w${e.weight}`;
    case 'script':
      return `${e.at} script ${e.reason} ${e.command}`;
  }
}

const oneServer = (over: Parameters<typeof tcpCheck>[0] = {}) =>
  [virtualServer({ realServers: [realServer({ checkers: [tcpCheck({ delayLoopMs: 10_000, retry: 2, delayBeforeRetryMs: 1_000, ...over })] })] })];

test('a healthy server is published after its first check and re-checked every delay_loop', () => {
  const { log, starts } = simulate(oneServer(), () => true, 30_000);
  assert.deepEqual(starts, [0, 10_000, 20_000, 30_000]);
  assert.deepEqual(log, ['0 rs 127.0.0.1 up w1', '0 quorum up live=1']);
});

test('down after retry+1 consecutive failures, retries delay_before_retry apart, then checked every delay_loop', () => {
  // Attempts at 0 (ok), 10 s (fail), 11 s, 12 s (fail: retry 2 exhausted → down), then 22 s, 32 s (ok → up).
  const { log, starts } = simulate(oneServer(), (_d, at) => at < 10_000 || at >= 32_000, 42_000);
  assert.deepEqual(starts, [0, 10_000, 11_000, 12_000, 22_000, 32_000, 42_000]);
  assert.deepEqual(log, [
    '0 rs 127.0.0.1 up w1',
    '0 quorum up live=1',
    '12000 rs 127.0.0.1 down absent w0',
    '12000 quorum down live=0',
    '32000 rs 127.0.0.1 up w1',
    '32000 quorum up live=1',
  ]);
});

test('a success in the middle of a retry cycle resets the failure count', () => {
  const pattern = new Map([[10_000, false], [11_000, true], [21_000, false], [22_000, false]]);
  const { log, starts } = simulate(oneServer(), (_d, at) => pattern.get(at) ?? true, 32_000);
  assert.deepEqual(starts, [0, 10_000, 11_000, 21_000, 22_000, 23_000, 33_000].filter((t) => t <= 32_000));
  assert.deepEqual(log, ['0 rs 127.0.0.1 up w1', '0 quorum up live=1']);
});

test('the next attempt is counted from the completion of the previous one (no overlap)', () => {
  const { starts } = simulate(oneServer(), () => true, 30_000, {}, 700);
  assert.deepEqual(starts, [0, 10_700, 21_400]);
});

test('first checks start at a random point within warmup', () => {
  const vss = [virtualServer({ realServers: [realServer({ checkers: [tcpCheck({ warmupMs: 4_000 }), tcpCheck({ warmupMs: 4_000 })] })] })];
  const randoms = [0.5, 0.25];
  const { starts } = simulate(vss, () => true, 5_000, { random: () => randoms.shift()! });
  assert.deepEqual(starts, [1_000, 2_000]);
});

test('default: the first failure after start gets the full retry budget; keepalived mode downs at once', () => {
  const failAll = () => false;
  const ours = simulate(oneServer(), failAll, 5_000);
  assert.deepEqual(ours.starts, [0, 1_000, 2_000]);
  assert.deepEqual(ours.log, ['2000 rs 127.0.0.1 down absent w0', '2000 quorum down live=0']);
  const keepalived = simulate(oneServer(), failAll, 5_000, { firstCheckRetries: false, upBeforeFirstCheck: true });
  assert.deepEqual(keepalived.log, [
    '0 rs 127.0.0.1 up w1',
    '0 quorum up live=1',
    '0 rs 127.0.0.1 down absent w0',
    '0 quorum down live=0',
  ]);
});

test('upBeforeFirstCheck publishes non-alpha servers up at start, like keepalived', () => {
  const { log } = simulate(oneServer({ warmupMs: 5_000 }), () => true, 100, { upBeforeFirstCheck: true, random: () => 0.5 });
  assert.deepEqual(log, ['0 rs 127.0.0.1 up w1', '0 quorum up live=1']);
});

test('alpha: published down at start, one success brings it up, failures while down are not retried', () => {
  const vss = oneServer({ alpha: true });
  const { log, starts } = simulate(vss, (_d, at) => at >= 10_000, 10_000);
  assert.deepEqual(starts, [0, 10_000]);
  assert.deepEqual(log, [
    '0 rs 127.0.0.1 down absent w0',
    '0 quorum down live=0',
    '10000 rs 127.0.0.1 up w1',
    '10000 quorum up live=1',
  ]);
});

test('inhibit_on_failure keeps a failed server present at weight 0', () => {
  const vss = [virtualServer({ realServers: [realServer({ inhibitOnFailure: true, checkers: [tcpCheck({ retry: 0 })] })] })];
  const { log } = simulate(vss, (_d, at) => at === 0, 10_000);
  assert.deepEqual(log, ['0 rs 127.0.0.1 up w1', '0 quorum up live=1', '10000 rs 127.0.0.1 down w0', '10000 quorum down live=0']);
});

test('all checkers of a real server must pass', () => {
  const vss = [virtualServer({ realServers: [realServer({ checkers: [tcpCheck({ retry: 0 }), tcpCheck({ retry: 0, connectPort: 81 })] })] })];
  const { log } = simulate(vss, (d, at) => !(d.checker.connectPort === 81 && at === 10_000), 20_000);
  assert.deepEqual(log, [
    '0 rs 127.0.0.1 up w1',
    '0 quorum up live=1',
    '10000 rs 127.0.0.1 down absent w0',
    '10000 quorum down live=0',
    '20000 rs 127.0.0.1 up w1',
    '20000 quorum up live=1',
  ]);
});

test('a real server without checkers is always up', () => {
  const { log } = simulate([virtualServer({ realServers: [realServer({ checkers: [] })] })], () => true, 1_000);
  assert.deepEqual(log, ['0 rs 127.0.0.1 up w1', '0 quorum up live=1']);
});

test('quietAlwaysUp: a real server without checkers gets no verdict until it is other than up at its weight', () => {
  // One checked and one unchecked server, quorum 2: the pool falls when the checked one does, and the sorry server
  // then stands in for both, so the unchecked one is published withdrawn, then back.
  const vss = [virtualServer({
    quorum: 2, sorryServer: { address: '127.0.0.9', family: 4, port: 80 },
    realServers: [realServer({ address: '127.0.0.1', checkers: [tcpCheck({ retry: 0 })] }), realServer({ address: '127.0.0.2', checkers: [] })],
  })];
  const { log, sched } = simulate(vss, (_d, at) => at < 10_000 || at >= 20_000, 20_000, { quietAlwaysUp: true });
  assert.deepEqual(log, [
    '0 rs 127.0.0.1 up w1', '0 quorum up live=2', '0 sorry absent w0',
    '10000 rs 127.0.0.1 down absent w0', '10000 rs 127.0.0.2 up absent w0', '10000 quorum down live=1', '10000 sorry present w1',
    '20000 rs 127.0.0.1 up w1', '20000 rs 127.0.0.2 up w1', '20000 quorum up live=2', '20000 sorry absent w0',
  ]);
  // A reload that changes its weight publishes it; one that adds another unchecked server says nothing of it.
  const [before] = vss;
  const reweighted = virtualServer({ ...before!, realServers: [before!.realServers[0]!, realServer({ address: '127.0.0.2', weight: 5, checkers: [] }), realServer({ address: '127.0.0.3', checkers: [] })] });
  assert.deepEqual(sched.reconfigure([reweighted], 30_000).map(describe), ['30000 rs 127.0.0.2 up w5']);
});

test('misc_dynamic weights change the published weight and the quorum sum', () => {
  const weights = new Map<number, Outcome>([[0, { ok: true, weight: 5 }], [10_000, { ok: true, weight: 0 }], [20_000, { ok: true }]]);
  const vss = [virtualServer({ realServers: [realServer({ weight: 3, checkers: [miscCheck({ dynamic: true })] })] })];
  const { log } = simulate(vss, (_d, at) => weights.get(at) ?? true, 20_000);
  assert.deepEqual(log, [
    '0 rs 127.0.0.1 up w5',
    '0 quorum up live=5',
    '10000 rs 127.0.0.1 up w0',
    '10000 quorum down live=0',
    '20000 rs 127.0.0.1 up w3',
    '20000 quorum up live=3',
  ]);
});

test('FILE_CHECK offsets add to the configured or misc_dynamic weight, never below 0, and count in the quorum', () => {
  const file = fileCheck({ path: '/run/w' });
  const outcomes = new Map<number, Outcome>([[0, { ok: true, weightOffset: 5 }], [10_000, { ok: true, weightOffset: -10 }], [20_000, { ok: true, weightOffset: 0 }]]);
  const vss = [virtualServer({ realServers: [realServer({ weight: 3, checkers: [file] })] })];
  const { log } = simulate(vss, (_d, at) => outcomes.get(at) ?? true, 20_000);
  assert.deepEqual(log, [
    '0 rs 127.0.0.1 up w8',
    '0 quorum up live=8',
    '10000 rs 127.0.0.1 up w0',
    '10000 quorum down live=0',
    '20000 rs 127.0.0.1 up w3',
    '20000 quorum up live=3',
  ]);
  const misc = miscCheck({ dynamic: true });
  const both = simulate([virtualServer({ realServers: [realServer({ weight: 3, checkers: [misc, file] })] })], (d) => (d.checker === misc ? { ok: true, weight: 7 } : { ok: true, weightOffset: 2 }), 0);
  assert.deepEqual(both.log, ['0 rs 127.0.0.1 up w9', '0 quorum up live=9']);
});

test('takeDue takes at most max checks, earliest plan first; the rest stay due', () => {
  const rss = [300, 100, 200].map((w, i) => realServer({ address: `127.0.0.${i + 1}`, checkers: [tcpCheck({ connectIp: `127.0.0.${i + 1}`, warmupMs: w })] }));
  let draw = 0;
  // random() picks each first check's point within its warmup: all of it here, so checks plan at 300, 100 and 200.
  const sched = new CheckScheduler([virtualServer({ realServers: rss })], { random: () => (draw++, 0.999999) });
  sched.start(0);
  assert.deepEqual(sched.takeDue(1_000, 2).map((d) => d.realServer.address), ['127.0.0.2', '127.0.0.3']);
  assert.equal(sched.nextDueAt(), 299);
  assert.deepEqual(sched.takeDue(1_000, 2).map((d) => d.realServer.address), ['127.0.0.1']);
  assert.equal(draw, 3);
});

test('expedite brings the next attempt forward (the superseded plan is skipped); a running checker goes again on completion', () => {
  const sched = new CheckScheduler([virtualServer({ realServers: [realServer({ checkers: [fileCheck({ path: '/run/w' }, { delayLoopMs: 10_000 })] })] })], { random: () => 0 });
  const ok = { ok: true, reason: 'ok', latencyMs: 0 };
  sched.start(0);
  const [first] = sched.takeDue(0);
  sched.complete(first!.id, ok, 0);
  assert.equal(sched.nextDueAt(), 10_000);
  sched.expedite(first!.id, 3_000);
  assert.equal(sched.nextDueAt(), 3_000);
  assert.deepEqual(sched.takeDue(3_000).map((d) => d.plannedAt), [3_000]);
  sched.complete(first!.id, ok, 3_000);
  assert.deepEqual(sched.takeDue(10_000), [], 'the plan for 10,000 was superseded');
  assert.equal(sched.nextDueAt(), 13_000);
  sched.takeDue(13_000);
  sched.expedite(first!.id, 13_500);
  sched.complete(first!.id, ok, 13_600);
  assert.equal(sched.nextDueAt(), 13_600, 'a change seen while running is checked again at once');
});

test('notify scripts run on health changes; pending counts as up, so a first success runs nothing', () => {
  const rs = realServer({ notifyUp: '/bin/up', notifyDown: '/bin/down', checkers: [tcpCheck({ retry: 0 })] });
  const { log } = simulate([virtualServer({ realServers: [rs] })], (_d, at) => at !== 10_000, 20_000);
  assert.deepEqual(log, [
    '0 rs 127.0.0.1 up w1',
    '0 quorum up live=1',
    '10000 script notify_down /bin/down',
    '10000 rs 127.0.0.1 down absent w0',
    '10000 quorum down live=0',
    '20000 script notify_up /bin/up',
    '20000 rs 127.0.0.1 up w1',
    '20000 quorum up live=1',
  ]);
});

test('quorum with hysteresis, sorry server and quorum scripts', () => {
  // Three servers of weight 1, quorum 2, hysteresis 1: a live pool falls below 1 live and a fallen one rises at 3.
  const rss = ['127.0.0.1', '127.0.0.2', '127.0.0.3'].map((address) => realServer({ address, checkers: [tcpCheck({ connectIp: address, retry: 0 })] }));
  const vss = [virtualServer({
    quorum: 2, hysteresis: 1, quorumUp: '/bin/qup', quorumDown: '/bin/qdown',
    sorryServer: { address: '127.0.0.9', family: 4, port: 80 }, realServers: rss,
  })];
  // Each server fails from (n × 10 s) and recovers from (70 − n × 10 s): .3 first at 40 s, .1 last at 60 s.
  const n = (addr: string) => Number(addr.split('.')[3]);
  const { log } = simulate(vss, (d, at) => at < n(d.checker.connectIp) * 10_000 || at >= 70_000 - n(d.checker.connectIp) * 10_000, 60_000);
  assert.deepEqual(log.slice(0, 3).sort(), ['0 rs 127.0.0.1 up w1', '0 rs 127.0.0.2 up w1', '0 rs 127.0.0.3 up w1']);
  assert.deepEqual(log.slice(3), [
    '0 quorum up live=3', '0 sorry absent w0',
    '10000 rs 127.0.0.1 down absent w0',
    '20000 rs 127.0.0.2 down absent w0',
    '30000 rs 127.0.0.3 down absent w0',
    '30000 quorum down live=0', '30000 script quorum_down /bin/qdown', '30000 sorry present w1',
    // Back up but withdrawn: the sorry server serves until the live weight reaches quorum + hysteresis.
    '40000 rs 127.0.0.3 up absent w0',
    '50000 rs 127.0.0.2 up absent w0',
    '60000 rs 127.0.0.1 up w1', '60000 rs 127.0.0.2 up w1', '60000 rs 127.0.0.3 up w1',
    '60000 quorum up live=3', '60000 script quorum_up /bin/qup', '60000 sorry absent w0',
  ]);
});

test('sorry_server_inhibit keeps the sorry server present at weight 0 while the pool is healthy', () => {
  const vss = [virtualServer({ sorryServer: { address: '127.0.0.9', family: 4, port: 80 }, sorryServerInhibit: true })];
  const { log } = simulate(vss, () => true, 0);
  assert.deepEqual(log, ['0 rs 127.0.0.1 up w1', '0 quorum up live=1', '0 sorry present w0']);
});

test('a pool dead at start runs quorum_down (quorum is presumed up, as keepalived does)', () => {
  const vss = [virtualServer({ quorumDown: '/bin/qdown', realServers: [realServer({ checkers: [tcpCheck({ retry: 0 })] })] })];
  const { log } = simulate(vss, () => false, 0);
  assert.deepEqual(log, ['0 rs 127.0.0.1 down absent w0', '0 quorum down live=0', '0 script quorum_down /bin/qdown']);
});

test('omega runs notify_down for live servers and quorum_down at shutdown', () => {
  const rss = [realServer({ notifyDown: '/bin/d1' }), realServer({ address: '127.0.0.2', notifyDown: '/bin/d2', checkers: [tcpCheck({ retry: 0, connectIp: '127.0.0.2' })] })];
  const vss = [virtualServer({ omega: true, quorumDown: '/bin/qdown', realServers: rss })];
  const { sched } = simulate(vss, (d) => d.checker.connectIp !== '127.0.0.2', 0);
  assert.deepEqual(sched.stop(5).map(describe), ['5 script notify_down /bin/d1', '5 script quorum_down /bin/qdown']);
  const noOmega = simulate([virtualServer({ realServers: [realServer({ notifyDown: '/bin/d1' })] })], () => true, 0);
  assert.deepEqual(noOmega.sched.stop(5), []);
});

test('many checkers come due in time order', () => {
  const rss = Array.from({ length: 200 }, (_, i) => realServer({ port: i, checkers: [tcpCheck({ warmupMs: 1_000, delayLoopMs: 1_000 })] }));
  let r = 0;
  const { starts } = simulate([virtualServer({ realServers: rss })], () => true, 2_999, { random: () => ((r = (r * 7 + 3) % 101) / 101) });
  assert.equal(starts.length, 600);
  assert.deepEqual(starts, [...starts].sort((a, b) => a - b));
});

test('a notify or quorum script written with USERNAME [GROUPNAME] carries that user to the runner', () => {
  const user = { user: 'lb', group: 'adm' };
  const rs = realServer({ notifyDown: '/bin/down', notifyDownUser: user, checkers: [tcpCheck({ retry: 0 })] });
  const sched = new CheckScheduler([virtualServer({ quorumDown: '/bin/qdown', realServers: [rs] })], { random: () => 0 });
  sched.start(0);
  const [due] = sched.takeDue(sched.nextDueAt() ?? 0);
  const events = sched.complete(due!.id, { ok: false, reason: 'refused', latencyMs: 0 }, 0);
  assert.deepEqual(events.filter((e) => e.kind === 'script'), [
    { kind: 'script', command: '/bin/down', user, reason: 'notify_down', at: 0 },
    { kind: 'script', command: '/bin/qdown', reason: 'quorum_down', at: 0 },
  ]);
});
