// The pool's adaptive in-flight limit on an injected clock: the AIMD rules one by one, then a simulated saturated
// event loop where a fixed limit of 1,000 loses every check to connect_timeout and the adaptive one loses none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdaptiveLimit } from '../../src/check/adaptive-limit.ts';

test('starts at the configured concurrency and stays there while the loop is on time', () => {
  const l = new AdaptiveLimit({ max: 1_000 });
  for (let now = 0; now < 10_000; now += 50) assert.equal(l.observe(now, 5, 1, 1_000, 500), 1_000);
});

test('lag above the target shrinks the limit in proportion, at most by half, not below the floor', () => {
  const l = new AdaptiveLimit({ max: 1_000, targetLagMs: 200, min: 32 });
  assert.equal(l.observe(0, 250, 1, 1_000, 0), 800);
  assert.equal(l.observe(10, 5_000, 1, 800, 0), 400);
  assert.equal(l.observe(20, 5_000, 1, 400, 0), 200);
  for (let now = 30; now < 200; now += 10) l.observe(now, 5_000, 1, 32, 0);
  assert.equal(l.value, 32);
});

test('one decrease per window: no further cut until the checks in flight have come down to the new limit', () => {
  const l = new AdaptiveLimit({ max: 1_000, targetLagMs: 200 });
  assert.equal(l.observe(0, 1_000, 1, 1_000, 0), 500);
  // The 1,000 started under the old limit are still draining and still lagging the loop.
  assert.equal(l.observe(10, 1_000, 1, 900, 0), 500);
  assert.equal(l.observe(20, 1_000, 1, 600, 0), 500);
  assert.equal(l.observe(30, 1_000, 1, 500, 0), 250);
});

test('grows by a step per interval only while checks wait for a slot and the loop is on time', () => {
  const l = new AdaptiveLimit({ max: 1_000, targetLagMs: 200, intervalMs: 100, step: 10 });
  l.observe(0, 1_000, 1, 1_000, 0);
  assert.equal(l.value, 500);
  assert.equal(l.observe(50, 5, 1, 500, 100), 500, 'within the interval of the last change');
  assert.equal(l.observe(100, 5, 1, 500, 100), 510);
  assert.equal(l.observe(150, 5, 1, 510, 100), 510);
  assert.equal(l.observe(200, 5, 1, 510, 0), 510, 'no demand beyond the limit: no growth');
  assert.equal(l.observe(250, 5, 1, 510, 1), 520);
  for (let now = 300; now < 100_000; now += 100) l.observe(now, 5, 1, l.value, 1);
  assert.equal(l.value, 1_000);
});

test('lag while the loop thread is not busy (the OS is not running it) does not shrink the limit', () => {
  const l = new AdaptiveLimit({ max: 1_000, targetLagMs: 200, busyShare: 0.75, step: 10 });
  assert.equal(l.observe(0, 2_000, 0.3, 1_000, 50), 1_000);
  assert.equal(l.observe(100, 2_000, 0.8, 1_000, 50), 500);
  // Fewer checks in flight would only cut the rate: with checks waiting, it grows again.
  assert.equal(l.observe(200, 2_000, 0.3, 500, 50), 510);
});

/**
 * A one-CPU event loop, 1 ms per step, running HTTP checks: a connect completes `rttMs` after it starts; the loop
 * then spends half a check's CPU writing the request, the response is ready `rttMs` later, and the other half
 * reads it. Each loop iteration takes every ready event and handles them one after another, so it lasts their sum.
 * A check whose response is handled more than `timeoutMs` after its start has timed out (its CPU spent in vain, as
 * when the deadline timer wins). Every real server is checked again `delayMs` after its last check ended.
 */
function simulate(limitFor: (now: number, lag: number, active: number, queued: number) => number, servers: number) {
  const cpuMs = 4;
  const rttMs = 1;
  const timeoutMs = 3_000;
  const delayMs = 1_000;
  const durationMs = 60_000;
  let due: number[] = Array.from({ length: servers }, (_, i) => (i * delayMs) / servers);
  let inFlight: { started: number; readyAt: number; answered: boolean }[] = [];
  let now = 0;
  let passed = 0;
  let timedOut = 0;
  let limit = limitFor(0, 0, 0, 0);
  while (now < durationMs) {
    const iterationStart = now;
    const ready = inFlight.filter((c) => c.readyAt <= now);
    inFlight = inFlight.filter((c) => c.readyAt > now);
    const next: number[] = [];
    for (const c of ready) {
      now += cpuMs / 2;
      if (!c.answered) {
        inFlight.push({ started: c.started, readyAt: now + rttMs, answered: true });
        continue;
      }
      if (now - c.started > timeoutMs) timedOut++;
      else passed++;
      next.push(now + delayMs);
    }
    const lag = now - iterationStart;
    // The timers phase of the next iteration: start what is due, up to the limit.
    due = [...due, ...next].sort((a, b) => a - b);
    const dueNow = due.filter((d) => d <= now).length;
    limit = limitFor(now, lag, inFlight.length, Math.max(0, dueNow - (limit - inFlight.length)));
    while (inFlight.length < limit && due.length > 0 && due[0]! <= now) {
      due.shift();
      inFlight.push({ started: now, readyAt: now + rttMs, answered: false });
    }
    now = Math.max(now, iterationStart + 1);
  }
  return { passed, timedOut };
}

test('a saturated loop: a fixed limit of 1,000 times out most checks, the adaptive limit almost none', () => {
  // 2,000 servers at 4 ms of CPU each need 8 CPU-seconds per second: four times what the loop has.
  const fixed = simulate(() => 1_000, 2_000);
  const adaptive = new AdaptiveLimit({ max: 1_000 });
  const adapted = simulate((now, lag, active, queued) => adaptive.observe(now, lag, 1, active, queued), 2_000);
  assert.ok(fixed.timedOut > 5 * fixed.passed, `fixed: ${JSON.stringify(fixed)}`);
  // Checks are late instead: the loop still does all it can, and nearly all of it is useful.
  assert.ok(adapted.timedOut < adapted.passed / 20, `adaptive: ${JSON.stringify(adapted)}`);
  assert.ok(adapted.passed > 0.9 * (60_000 / 4), `adaptive throughput: ${JSON.stringify(adapted)}`);
});
