import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { MailQueue, type MailOutcome } from '../../src/control/mail-queue.ts';

/** A queue whose sends finish when the test says so, or never. */
function queue(capacity: number, timeoutMs: number) {
  const outcomes: string[] = [];
  const pending = new Map<string, (v: string) => void>();
  const started: string[] = [];
  const q = new MailQueue<string>({
    capacity,
    timeoutMs: () => timeoutMs,
    send: (mail, signal) =>
      new Promise<string>((resolve, reject) => {
        started.push(mail);
        pending.set(mail, resolve);
        signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      }),
    settled: (mail, o: MailOutcome) => outcomes.push(`${mail} ${o.result}: ${o.reason}`),
  });
  return { q, outcomes, pending, started };
}

/** Sends start from a timer, never inside push(). */
const turn = () => new Promise((resolve) => setTimeout(resolve, 5));

test('one send at a time, in order; a full queue drops the newcomer', async () => {
  const { q, outcomes, pending, started } = queue(2, 10_000);
  q.push('a');
  await turn();
  q.push('b');
  q.push('c');
  await turn();
  assert.deepEqual(started, ['a']);
  q.push('d');
  assert.deepEqual(outcomes, ['d dropped: 2 mails already wait to be sent']);
  pending.get('a')!('delivered');
  await turn();
  assert.deepEqual(started, ['a', 'b']);
  pending.get('b')!('delivered');
  await turn();
  pending.get('c')!('delivered');
  await q.stop(1_000);
  assert.deepEqual(outcomes, ['d dropped: 2 mails already wait to be sent', 'a sent: delivered', 'b sent: delivered', 'c sent: delivered']);
});

test('a send that outlives its bound is abandoned as failed, and the next one starts', async () => {
  const { q, outcomes, started } = queue(10, 200);
  q.push('stuck');
  q.push('next');
  while (outcomes.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  await turn();
  assert.deepEqual(outcomes, ['stuck failed: not sent within 200 ms']);
  assert.deepEqual(started, ['stuck', 'next']);
  await q.stop(0);
});

test('stop waits at most its bound, then abandons the send in progress and drops the rest; later pushes are dropped', async () => {
  const { q, outcomes } = queue(10, 10_000);
  q.push('a');
  q.push('b');
  const t0 = performance.now();
  await q.stop(100);
  assert.ok(performance.now() - t0 < 1_000);
  q.push('c');
  assert.deepEqual(outcomes.sort(), ['a failed: abandoned: the daemon is stopping', 'b dropped: the daemon is stopping', 'c dropped: the daemon is stopping']);
});
