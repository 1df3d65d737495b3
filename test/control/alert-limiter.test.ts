import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AlertLimiter, type Decision } from '../../src/control/alert-limiter.ts';

interface A {
  readonly key: string;
  readonly state: string;
  readonly n: number;
}

function limiter(coalesceMs = 60_000, perMinute = 30) {
  const clock = { t: 1_000 };
  const l = new AlertLimiter<A>({ coalesceMs, perMinute }, () => clock.t);
  let n = 0;
  const a = (key: string, state: string): A => ({ key, state, n: n++ });
  return { l, clock, a };
}

const sent = (d: Decision<A>) => d.send.map((x) => `${x.key} ${x.state}`);
const dropped = (d: Decision<A>) => d.dropped.map((x) => `${x.alert.key} ${x.alert.state}: ${x.reason}`);

test('a key mails at once, then at most once per window: a flapping storm becomes its latest state when the window ends', () => {
  const { l, clock, a } = limiter();
  assert.deepEqual(sent(l.offer(a('rs1', 'DOWN'))), ['rs1 DOWN']);
  clock.t += 1_000;
  const up = l.offer(a('rs1', 'UP'));
  assert.deepEqual([sent(up), dropped(up)], [[], []]);
  assert.equal(l.nextReleaseAt(), 61_000);
  clock.t += 1_000;
  assert.deepEqual(dropped(l.offer(a('rs1', 'DOWN'))), ['rs1 UP: coalesced']);
  clock.t += 1_000;
  assert.deepEqual(dropped(l.offer(a('rs1', 'UP'))), ['rs1 DOWN: coalesced']);
  assert.deepEqual(sent(l.release()), [], 'the window has not ended');
  clock.t = 61_000;
  assert.deepEqual(sent(l.release()), ['rs1 UP']);
  // A new window started with that mail.
  clock.t += 10_000;
  assert.deepEqual(sent(l.offer(a('rs1', 'DOWN'))), []);
  assert.equal(l.nextReleaseAt(), 121_000);
});

test('a held alert that only repeats the last one sent is dropped when the window ends; a quiet key is forgotten', () => {
  const { l, clock, a } = limiter();
  l.offer(a('vi', 'MASTER'));
  clock.t += 5_000;
  l.offer(a('vi', 'BACKUP'));
  l.offer(a('vi', 'MASTER'));
  clock.t += 60_000;
  const d = l.release();
  assert.deepEqual([sent(d), dropped(d)], [[], ['vi MASTER: unchanged']]);
  assert.equal(l.nextReleaseAt(), undefined);
  assert.deepEqual(sent(l.offer(a('vi', 'BACKUP'))), ['vi BACKUP'], 'a new window: sent at once');
  clock.t += 61_000;
  assert.deepEqual(l.release(), { send: [], dropped: [] });
  assert.deepEqual(sent(l.offer(a('vi', 'MASTER'))), ['vi MASTER']);
});

test('keys are independent; all of them together send at most perMinute mails in any 60 s', () => {
  const { l, clock, a } = limiter(60_000, 3);
  assert.deepEqual(sent(l.offer(a('a', 'DOWN'))), ['a DOWN']);
  assert.deepEqual(sent(l.offer(a('b', 'DOWN'))), ['b DOWN']);
  clock.t += 30_000;
  assert.deepEqual(sent(l.offer(a('c', 'DOWN'))), ['c DOWN']);
  assert.deepEqual(dropped(l.offer(a('d', 'DOWN'))), ['d DOWN: rate-limited']);
  clock.t += 30_001;
  // a and b left the last minute; c still counts.
  assert.deepEqual(sent(l.offer(a('e', 'DOWN'))), ['e DOWN']);
  assert.deepEqual(sent(l.offer(a('f', 'DOWN'))), ['f DOWN']);
  assert.deepEqual(dropped(l.offer(a('g', 'DOWN'))), ['g DOWN: rate-limited']);
});

test('a held alert released into a full minute is dropped as rate-limited', () => {
  const { l, clock, a } = limiter(10_000, 2);
  l.offer(a('a', 'DOWN'));
  clock.t += 5_000;
  l.offer(a('a', 'UP'));
  l.offer(a('b', 'DOWN'));
  clock.t += 5_000;
  assert.deepEqual(dropped(l.release()), ['a UP: rate-limited']);
});

test('flush sends every held alert at once, windows or not (the daemon is stopping)', () => {
  const { l, clock, a } = limiter();
  l.offer(a('vi1', 'MASTER'));
  l.offer(a('vi2', 'MASTER'));
  clock.t += 100;
  l.offer(a('vi1', 'STOP'));
  l.offer(a('vi2', 'STOP'));
  assert.deepEqual(sent(l.flush()).sort(), ['vi1 STOP', 'vi2 STOP']);
  assert.equal(l.nextReleaseAt(), undefined);
});
