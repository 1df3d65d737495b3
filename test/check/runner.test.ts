// End-to-end on the wall clock, kept short: real listeners on loopback, real timers, loose timing bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckRunner, sharedRunners, type AttemptMessage, type RunChecker } from '../../src/check/runner.ts';
import type { CheckEvent } from '../../src/check/types.ts';
import { realServer, tcpCheck, virtualServer } from './model.ts';
import { close, listen } from './servers.ts';

async function waitFor<T>(get: () => T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a real server goes up, then down after retry+1 failures once its listener closes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ipvs-ts-runner-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const server = net.createServer((s) => s.end());
  const port = await listen(server);
  const checker = tcpCheck({ connectPort: port, delayLoopMs: 100, retry: 2, delayBeforeRetryMs: 50, connectTimeoutMs: 500, warmupMs: 0 });
  const rs = realServer({ port, checkers: [checker], notifyDown: `/usr/bin/touch ${join(dir, 'down')}` });
  const runner = new CheckRunner([virtualServer({ realServers: [rs] })]);
  const events: { at: number; e: CheckEvent }[] = [];
  runner.subscribe((e) => events.push({ at: performance.now(), e }));
  const attempts: AttemptMessage[] = [];
  const onAttempt = (m: unknown) => attempts.push(m as AttemptMessage);
  diagnostics.subscribe('ipvs-ts:check:attempt', onAttempt);
  t.after(async () => {
    diagnostics.unsubscribe('ipvs-ts:check:attempt', onAttempt);
    await runner.stop();
    if (server.listening) await close(server);
  });
  runner.start();
  await waitFor(() => events.find(({ e }) => e.kind === 'realServer' && e.up), 2_000);
  await close(server);
  const closedAt = performance.now();
  const down = await waitFor(() => events.find(({ e }) => e.kind === 'realServer' && !e.up), 2_000);
  // The next planned check (≤ 100 ms) fails, then two retries 50 ms apart: down within ~100 + 2×50 ms.
  const took = down.at - closedAt;
  assert.ok(took >= 90 && took < 3_000, `down after ${took} ms`);
  assert.equal(down.e.kind === 'realServer' && down.e.reason, 'connection refused');
  await waitFor(() => (existsSync(join(dir, 'down')) ? true : undefined), 2_000);
  assert.ok(attempts.length >= 4);
  for (const a of attempts) assert.ok(a.latenessMs >= 0 && a.latenessMs < 2_000, `lateness ${a.latenessMs}`);
});

test('stop() cancels running checks and runs the omega scripts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ipvs-ts-runner-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rs = realServer({ checkers: [], notifyDown: `/bin/sh -c "echo omega > ${join(dir, 'omega')}"` });
  const slow = realServer({ address: '127.0.0.2', checkers: [tcpCheck({ connectIp: '127.0.0.2', warmupMs: 0 })] });
  let cancelled = false;
  const runner = new CheckRunner([virtualServer({ omega: true, realServers: [rs, slow] })], {
    runChecker: (_c, signal) =>
      new Promise((resolve) => signal.addEventListener('abort', () => {
        cancelled = true;
        resolve({ ok: false, code: 'ABORTED', reason: 'check cancelled', latencyMs: 0 });
      })),
  });
  runner.start();
  await new Promise((r) => setTimeout(r, 30));
  const started = performance.now();
  await runner.stop();
  assert.ok(performance.now() - started < 3_000);
  assert.equal(cancelled, true);
  assert.equal(readFileSync(join(dir, 'omega'), 'utf8'), 'omega\n');
});

test('stop() resolves with checks still queued behind the concurrency limit', async () => {
  const rss = Array.from({ length: 20 }, (_, i) => realServer({ port: 1000 + i, checkers: [tcpCheck({ connectPort: 1000 + i, warmupMs: 0 })] }));
  let started = 0;
  const runner = new CheckRunner([virtualServer({ realServers: rss })], {
    concurrency: 2,
    runChecker: (_c, signal) => {
      started++;
      return new Promise((resolve) => signal.addEventListener('abort', () => resolve({ ok: false, code: 'ABORTED', reason: 'cancelled', latencyMs: 0 })));
    },
  });
  runner.start();
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(runner.load, { active: 2, queued: 18 });
  await runner.stop();
  assert.equal(started, 2);
});

test('every event is also published on the ipvs-ts:check:event diagnostics channel', async (t) => {
  const seen: string[] = [];
  const onEvent = (m: unknown) => seen.push((m as CheckEvent).kind);
  diagnostics.subscribe('ipvs-ts:check:event', onEvent);
  const runner = new CheckRunner([virtualServer({ realServers: [realServer({ checkers: [] })] })]);
  t.after(async () => {
    diagnostics.unsubscribe('ipvs-ts:check:event', onEvent);
    await runner.stop();
  });
  const direct: string[] = [];
  runner.subscribe((e) => direct.push(e.kind));
  runner.start();
  assert.deepEqual(direct, ['realServer', 'quorum']);
  assert.deepEqual(seen, direct);
});

test('runners on one pool share its concurrency limit; stopping one cancels only its own checks', async () => {
  const runnerFor = sharedRunners({
    concurrency: 2,
    runChecker: (c, signal) =>
      new Promise((resolve) => {
        if (c.type === 'TCP_CHECK' && c.connectPort === 2000) return resolve({ ok: true, reason: 'fast', latencyMs: 0 });
        signal.addEventListener('abort', () => resolve({ ok: false, code: 'ABORTED', reason: 'cancelled', latencyMs: 0 }));
      }),
  });
  const rss = (base: number) => Array.from({ length: 3 }, (_, i) => realServer({ port: base + i, checkers: [tcpCheck({ connectPort: base + i, warmupMs: 0 })] }));
  const a = runnerFor(virtualServer({ realServers: rss(1000) }));
  const b = runnerFor(virtualServer({ realServers: [realServer({ port: 2000, checkers: [tcpCheck({ connectPort: 2000, warmupMs: 0, delayLoopMs: 20 })] })] }));
  const bVerdicts: boolean[] = [];
  b.subscribe((e) => e.kind === 'realServer' && bVerdicts.push(e.up));
  a.start();
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(a.load, { active: 2, queued: 1 }, "a's three checks hold both slots of the pool");
  b.start();
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(bVerdicts, [], "b waits behind a's checks");
  await a.stop();
  await waitFor(() => (bVerdicts.length > 0 ? true : undefined), 2_000);
  assert.deepEqual(bVerdicts, [true], "a's queued check returned at once; b's ran");
  assert.deepEqual(b.load, { active: 0, queued: 0 });
  await b.stop();
});

/**
 * A checker that records the turn of the event loop each attempt starts in (turns counted by a chain of
 * immediates: checks started in one tick share a turn); `stop()` ends the count.
 */
function turnRecorder(): { readonly turns: number[]; readonly runChecker: RunChecker; stop(): void } {
  let turn = 0;
  let counting = true;
  const count = () => {
    turn++;
    if (counting) setImmediate(count);
  };
  count();
  const turns: number[] = [];
  return { turns, runChecker: async () => (turns.push(turn), { ok: true, reason: 'ok', latencyMs: 0 }), stop: () => (counting = false) };
}

test('a pool starts at most startsPerTick checks per timer tick; the rest start after the I/O of that turn', async () => {
  const { turns, runChecker, stop } = turnRecorder();
  // A clock that stands still: however slow the turns of a loaded machine, no check becomes late enough to jump the budget.
  const frozen = performance.timeOrigin + performance.now();
  const runnerFor = sharedRunners({ startsPerTick: 3, now: () => frozen, runChecker });
  const runners = [0, 1].map((i) =>
    runnerFor(virtualServer({ key: { kind: 'addr', address: '10.0.0.1', family: 4, port: 80 + i }, realServers: Array.from({ length: 5 }, (_, j) => realServer({ port: 1000 + j, checkers: [tcpCheck({ warmupMs: 0, delayLoopMs: 60_000 })] })) })),
  );
  for (const r of runners) r.start();
  await waitFor(() => (turns.length === 10 ? true : undefined), 2_000);
  stop();
  await Promise.all(runners.map((r) => r.stop()));
  const perTurn = new Map<number, number>();
  for (const t of turns) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
  assert.deepEqual([...perTurn.values()], [3, 3, 3, 1], `starts per turn: ${[...perTurn.values()]}`);
});

test('checks 50 ms late or more start in one tick, whatever the budget', async () => {
  const { turns, runChecker, stop } = turnRecorder();
  // The pool's clock runs 60 ms ahead of the plans made at start: its first tick finds every check 60 ms late.
  let ahead = 0;
  const origin = performance.timeOrigin;
  const runnerFor = sharedRunners({ startsPerTick: 3, now: () => origin + performance.now() + ahead, runChecker });
  const runner = runnerFor(virtualServer({ realServers: Array.from({ length: 10 }, (_, j) => realServer({ port: 1000 + j, checkers: [tcpCheck({ warmupMs: 0, delayLoopMs: 60_000 })] })) }));
  runner.start();
  ahead = 60;
  await waitFor(() => (turns.length === 10 ? true : undefined), 2_000);
  stop();
  await runner.stop();
  assert.equal(new Set(turns).size, 1, `starts per turn: ${turns}`);
});

test('a pool arms one timer however many runners it serves, and none once they have all stopped', async () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const runnerFor = sharedRunners({ runChecker: async () => ({ ok: true, reason: 'ok', latencyMs: 0 }) });
  const runners = Array.from({ length: 50 }, (_, i) =>
    runnerFor(virtualServer({ key: { kind: 'addr', address: '10.0.0.1', family: 4, port: 80 + i }, realServers: [realServer({ checkers: [tcpCheck({ warmupMs: 5_000, delayLoopMs: 5_000 })] })] })),
  );
  for (const r of runners) r.start();
  assert.equal(timers() - before, 1);
  await Promise.all(runners.map((r) => r.stop()));
  assert.equal(timers() - before, 0);
});

test('a pool keeps one timer armed while its checks complete and wake it, round after round', async () => {
  // A tick that started checks used to arm a timer for each runner that woke it and lose all but the last: every
  // lost timer fired again and armed another, so ticks multiplied with the process's age.
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  let attempts = 0;
  const runnerFor = sharedRunners({ runChecker: async () => (attempts++, { ok: true, reason: 'ok', latencyMs: 0 }) });
  const runners = Array.from({ length: 10 }, (_, i) =>
    runnerFor(virtualServer({ key: { kind: 'addr', address: '10.0.0.1', family: 4, port: 80 + i }, realServers: Array.from({ length: 10 }, (_, j) => realServer({ port: 1000 + j, checkers: [tcpCheck({ warmupMs: 20, delayLoopMs: 20 })] })) })),
  );
  for (const r of runners) r.start();
  let most = 0;
  const end = performance.now() + 400;
  while (performance.now() < end) {
    await new Promise((r) => setImmediate(r));
    most = Math.max(most, timers() - before);
  }
  await Promise.all(runners.map((r) => r.stop()));
  assert.ok(attempts >= 500, `${attempts} attempts of 100 checkers at delay_loop 20 ms in 400 ms`);
  assert.equal(most, 1, 'timers armed at once');
  assert.equal(timers() - before, 0);
});

test("first checks are spread over each checker's warmup across every runner of the pool, as keepalived spreads them", async () => {
  const planned: number[] = [];
  const onAttempt = (m: unknown) => planned.push((m as AttemptMessage).check.plannedAt);
  diagnostics.subscribe('ipvs-ts:check:attempt', onAttempt);
  const runnerFor = sharedRunners({ runChecker: async () => ({ ok: true, reason: 'ok', latencyMs: 0 }) });
  const runners = Array.from({ length: 20 }, (_, i) =>
    runnerFor(virtualServer({ key: { kind: 'addr', address: '10.0.0.1', family: 4, port: 80 + i }, realServers: Array.from({ length: 10 }, (_, j) => realServer({ port: 1000 + j, checkers: [tcpCheck({ warmupMs: 300, delayLoopMs: 10_000 })] })) })),
  );
  const startedAt = performance.timeOrigin + performance.now();
  for (const r of runners) r.start();
  // Each runner plans from its own start, a little after the first one's.
  const lastStart = performance.timeOrigin + performance.now() - startedAt;
  await waitFor(() => (planned.length === 200 ? true : undefined), 3_000);
  diagnostics.unsubscribe('ipvs-ts:check:attempt', onAttempt);
  await Promise.all(runners.map((r) => r.stop()));
  const offsets = planned.map((p) => p - startedAt);
  assert.ok(offsets.every((o) => o >= 0 && o < 300 + lastStart + 1), `within the warmup: ${Math.min(...offsets)}..${Math.max(...offsets)}`);
  // Uniform: each tenth of the warmup gets some of the 200 first checks.
  const tenths = new Set(offsets.map((o) => Math.floor(o / 30)));
  assert.ok(tenths.size >= 9, `spread over ${tenths.size} tenths of the warmup`);
});

test('the pool lowers its in-flight limit when checks keep its loop late, and keeps it fixed when told to', async () => {
  const busy = (ms: number) => {
    const end = performance.now() + ms;
    while (performance.now() < end);
  };
  // Each check holds the loop for 5 ms when it completes; 100 of them completing together for 0.5 s. (busyShare 0:
  // on a loaded host the spinning thread may be descheduled, and its CPU share is not what this test is about.)
  const runChecker = () => new Promise<{ ok: true; reason: string; latencyMs: number }>((resolve) => setTimeout(() => {
    busy(5);
    resolve({ ok: true, reason: 'ok', latencyMs: 0 });
  }, 1));
  const rss = Array.from({ length: 100 }, (_, i) => realServer({ port: 1000 + i, checkers: [tcpCheck({ connectPort: 1000 + i, warmupMs: 0, delayLoopMs: 20 })] }));
  const adaptive = new CheckRunner([virtualServer({ realServers: rss })], { concurrency: 100, adaptiveConcurrency: { targetLagMs: 50, min: 4, busyShare: 0 }, runChecker });
  adaptive.start();
  try {
    await waitFor(() => (adaptive.inFlightLimit < 100 ? true : undefined), 10_000);
  } finally {
    await adaptive.stop();
  }
  const fixed = new CheckRunner([virtualServer({ realServers: rss })], { concurrency: 100, adaptiveConcurrency: false, runChecker });
  fixed.start();
  await new Promise((r) => setTimeout(r, 300));
  await fixed.stop();
  assert.equal(fixed.inFlightLimit, 100);
});
