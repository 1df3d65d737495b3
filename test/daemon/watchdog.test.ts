import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { DirectorMetrics } from '../../src/control/metrics.ts';
import { sockaddrUn } from '../../src/daemon/sd-notify.ts';
import { stallLine, startWatchdog, watchdogIntervalMs, watchStalls } from '../../src/daemon/watchdog.ts';
import { SOCK_DGRAM } from '../../src/sys/constants.ts';
import { sys } from '../../src/sys/native.ts';
import { DatagramSocket } from '../../src/sys/socket.ts';

/** A NOTIFY_SOCKET as systemd binds it; collects what arrives and when, polled from the event loop. */
function notifySocket(t: { after: (fn: () => void) => void }): { path: string; got: { at: number; text: string }[] } {
  const dir = mkdtempSync(join(tmpdir(), 'ipvs-ts-watchdog-'));
  const path = join(dir, 'notify');
  const sock = DatagramSocket.open(1, SOCK_DGRAM, 0);
  sys().bind(sock.fd, sockaddrUn(path));
  const got: { at: number; text: string }[] = [];
  const poll = setInterval(() => {
    for (let d = sock.receive(); d; d = sock.receive()) got.push({ at: performance.now(), text: d.data.toString() });
  }, 5);
  t.after(() => {
    clearInterval(poll);
    sock.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { path, got };
}

test('the ping interval is half of WATCHDOG_USEC, and none for another process or without the watchdog', () => {
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '10000000' }, 42), 5000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '10000000', WATCHDOG_PID: '42' }, 42), 5000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '10000000', WATCHDOG_PID: '43' }, 42), undefined);
  assert.equal(watchdogIntervalMs({}, 42), undefined);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '0' }, 42), undefined);
});

test('WATCHDOG=1 reaches the notify socket at about half the interval', async (t) => {
  const { path, got } = notifySocket(t);
  const stop = startWatchdog({ NOTIFY_SOCKET: path, WATCHDOG_USEC: '400000', WATCHDOG_PID: String(process.pid) });
  const start = performance.now();
  await sleep(750);
  stop();
  await sleep(50);
  assert.ok(got.every((g) => g.text === 'WATCHDOG=1'), JSON.stringify(got));
  // One at once, then every 200 ms: 3 more in 750 ms (a loaded machine may delay one).
  assert.ok(got.length >= 3 && got.length <= 5, `${got.length} pings`);
  assert.ok(got[0]!.at - start < 100, 'first ping at start');
  const gaps = got.slice(1).map((g, i) => g.at - got[i]!.at);
  for (const gap of gaps) assert.ok(gap > 150 && gap < 350, `gap ${gap.toFixed(0)} ms`);
});

test('no WATCHDOG=1 when WATCHDOG_PID names another process', async (t) => {
  const { path, got } = notifySocket(t);
  const stop = startWatchdog({ NOTIFY_SOCKET: path, WATCHDOG_USEC: '100000', WATCHDOG_PID: String(process.pid + 1) });
  await sleep(300);
  stop();
  assert.deepEqual(got, []);
});

test('a synchronous busy-wait over 1 s on the main thread is logged and counted', async (t) => {
  const metrics = new DirectorMetrics(() => Promise.reject(new Error('no director')));
  t.after(() => metrics.close());
  const lines: string[] = [];
  const stop = watchStalls({
    onStall: (delayMs) => {
      lines.push(stallLine(false, delayMs));
      metrics.eventLoopStall(delayMs);
    },
  });
  await sleep(300);
  const until = performance.now() + 1300;
  while (performance.now() < until);
  await sleep(400);
  stop();
  assert.equal(lines.length, 1, lines.join(''));
  assert.match(lines[0]!, /WARNING event loop blocked for 1\.\d s/);
  const text = await metrics.render();
  assert.match(text, /^ipvs_ts_event_loop_stalls_total 1$/m);
  const last = Number(/^ipvs_ts_event_loop_last_stall_seconds (\S+)$/m.exec(text)?.[1]);
  assert.ok(last > 1 && last < 2, String(last));
});

test('the JSON stall line carries the delay', () => {
  const line = JSON.parse(stallLine(true, 1234, Date.UTC(2026, 11, 2)));
  assert.equal(line.type, 'event-loop-stall');
  assert.equal(line.delayMs, 1234);
  assert.equal(line.time, '2026-12-02T00:00:00.000Z');
});
