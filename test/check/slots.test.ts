import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Slots } from '../../src/check/slots.ts';

/** A task that runs until its `finish` is called. */
function gate(log: string[], name: string): { task: () => Promise<void>; finish: () => void } {
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  return { task: () => (log.push(name), done), finish };
}

const settle = () => new Promise((r) => setImmediate(r));

test('tasks start at once up to the limit, the rest in order as slots free', async () => {
  const log: string[] = [];
  const slots = new Slots(2);
  const g = ['a', 'b', 'c', 'd'].map((n) => gate(log, n));
  for (const { task } of g) slots.run(task);
  assert.deepEqual(log, ['a', 'b'], 'started synchronously');
  assert.deepEqual([slots.active, slots.queued], [2, 2]);
  g[1]!.finish();
  await settle();
  assert.deepEqual(log, ['a', 'b', 'c']);
  g[0]!.finish();
  g[2]!.finish();
  await settle();
  assert.deepEqual(log, ['a', 'b', 'c', 'd']);
  g[3]!.finish();
  await settle();
  assert.deepEqual([slots.active, slots.queued], [0, 0]);
});

test('a higher limit starts waiting tasks at once; a lower one lets running tasks finish', async () => {
  const log: string[] = [];
  const slots = new Slots(1);
  const g = ['a', 'b', 'c', 'd'].map((n) => gate(log, n));
  for (const { task } of g) slots.run(task);
  slots.concurrency = 3;
  assert.deepEqual(log, ['a', 'b', 'c']);
  slots.concurrency = 1;
  g[0]!.finish();
  g[1]!.finish();
  await settle();
  assert.deepEqual(log, ['a', 'b', 'c'], 'still one running: no slot free');
  g[2]!.finish();
  await settle();
  assert.deepEqual(log, ['a', 'b', 'c', 'd']);
  assert.equal(slots.concurrency, 1);
});

test('a long queue is served in order across the compaction of its array', async () => {
  const order: number[] = [];
  const slots = new Slots(1);
  for (let i = 0; i < 5_000; i++) slots.run(async () => void order.push(i));
  while (slots.active + slots.queued > 0) await settle();
  assert.equal(order.length, 5_000);
  assert.ok(order.every((v, i) => v === i));
});
