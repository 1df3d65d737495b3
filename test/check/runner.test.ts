// End-to-end on the wall clock, kept short: real listeners on loopback, real timers, loose timing bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckRunner, type AttemptMessage } from '../../src/check/runner.ts';
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
