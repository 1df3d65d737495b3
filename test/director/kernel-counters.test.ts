// KernelCounters: a status or scrape waits for the first read, and for a refresh only while reads are quick; with
// slow reads (a large table) it gets the snapshot it has (with its age) and a stale one starts a read in the
// background, no sooner than the duty cycle allows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KernelCounters } from '../../src/director/kernel-counters.ts';
import type { KernelService } from '../../src/ipvs/view.ts';
import { ZERO_STATS } from './fakes.ts';

/** A read the test completes by hand; each read reports conns = its number. */
function reader() {
  const pending: (() => void)[] = [];
  let reads = 0;
  const read = () => {
    const n = ++reads;
    return new Promise<{ services: KernelService[] }>((resolve) => {
      pending.push(() => resolve({
        services: [{
          service: { id: { kind: 'addr', family: 4, protocol: 'TCP', address: '10.0.0.1', port: 80 }, scheduler: 'rr', flags: 0, timeoutS: 0, netmask: 0xffffffff, stats: { ...ZERO_STATS, conns: BigInt(n) } },
          destinations: [],
        } as unknown as KernelService],
      }));
    });
  };
  return { read, pending, reads: () => reads };
}

const conns = (s: Awaited<ReturnType<KernelCounters['get']>>) => s?.services.get('TCP 10.0.0.1:80')?.stats.conns;

test('kernel counters: the first read is waited for (up to waitMs); after a slow read, a refresh never is', async () => {
  const r = reader();
  const kc = new KernelCounters({ read: r.read, maxAgeMs: 50, waitMs: 2_000, duty: 1, onError: () => assert.fail('no error') });
  const first = kc.get();
  await sleep(150); // slower than a read worth waiting for
  r.pending.shift()!();
  assert.equal(conns(await first), 1, 'the first call got the first read');
  assert.equal(r.reads(), 1);
  await sleep(80);
  // Stale: the caller gets the old snapshot at once and a read starts behind it.
  const t0 = performance.now();
  const stale = await kc.get();
  assert.ok(performance.now() - t0 < 50, 'did not wait for the read');
  assert.equal(conns(stale), 1);
  assert.ok(performance.now() - stale!.at >= 80, 'its age shows');
  assert.equal(r.reads(), 2, 'a background read started');
  await kc.get();
  assert.equal(r.reads(), 2, 'one read at a time');
  r.pending.shift()!();
  await sleep(0);
  assert.equal(conns(await kc.get()), 2, 'the next caller gets the new snapshot');
});

test('kernel counters: while reads are quick, a stale snapshot waits for the refresh', async () => {
  let n = 0;
  const kc = new KernelCounters({
    read: async () => ({ services: [{ service: { id: { kind: 'addr', family: 4, protocol: 'TCP', address: '10.0.0.1', port: 80 }, stats: { ...ZERO_STATS, conns: BigInt(++n) } }, destinations: [] } as unknown as KernelService] }),
    maxAgeMs: 20, waitMs: 5_000, duty: 1, onError: () => assert.fail('no error'),
  });
  assert.equal(conns(await kc.get()), 1);
  await sleep(40);
  assert.equal(conns(await kc.get()), 2, 'the caller got the refreshed counters');
});

test('kernel counters: the first read times out after waitMs (undefined), a slow read bounds the next by the duty cycle', async () => {
  const r = reader();
  const kc = new KernelCounters({ read: r.read, maxAgeMs: 10, waitMs: 30, duty: 0.05, onError: () => assert.fail('no error') });
  assert.equal(await kc.get(), undefined, 'no snapshot within waitMs');
  await sleep(170);
  r.pending.shift()!(); // a read of ~200 ms: with duty 0.05 the next starts no sooner than ~4 s after it began
  await sleep(0);
  assert.equal(conns(await kc.get()), 1);
  await sleep(100);
  await kc.get();
  assert.equal(r.reads(), 1, 'stale, but inside the duty cycle: no read');
  const deadline = performance.now() + 20_000;
  while (r.reads() < 2 && performance.now() < deadline) {
    await sleep(50);
    await kc.get();
  }
  assert.equal(r.reads(), 2, 'a read once the duty cycle allows');
});

test('kernel counters: a failed read is reported and keeps the previous snapshot', async () => {
  let fail = false;
  let n = 0;
  const errors: unknown[] = [];
  const kc = new KernelCounters({
    read: async () => {
      n++;
      if (fail) throw new Error('ENOBUFS');
      return { services: [] };
    },
    maxAgeMs: 0, waitMs: 1_000, duty: 1, onError: (e) => errors.push(e),
  });
  const s = await kc.get();
  assert.ok(s);
  fail = true;
  assert.equal(await kc.get(), s, 'the old snapshot while the read runs');
  const deadline = performance.now() + 5_000;
  while (!kc.failed && performance.now() < deadline) await sleep(10);
  assert.equal(kc.failed, true);
  assert.equal(errors.length, 1);
  assert.equal(await kc.get(), s);
  assert.ok(n >= 2);
});
