// VrrpService when its worker thread dies after start-up: the request waiting for the dead thread fails at once
// with VRRP_WORKER, later ones fail immediately, and the owner is told once. Stand-in workers die in each way a
// thread can (uncaught throw, process.exit, the real worker's own failure report) or never answer; then the real
// worker, in a namespace lab, is terminated while a request waits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { parseConfigText } from '../../src/config/index.ts';
import type { Config } from '../../src/config/model.ts';
import type { VrrpError } from '../../src/vrrp/errors.ts';
import { VrrpService } from '../../src/vrrp/service.ts';
import { instanceConf, Lab, labUnavailable, NODE, START_MS } from './lab.ts';

const CONFIG: Config = (() => {
  const { config, problems } = parseConfigText(instanceConf({ vrid: 1, priority: 100, vips: ['10.9.0.100/24'] }), 'test.conf', { skipHostChecks: true });
  if (!config) throw new Error(problems.map((p) => p.message).join('; '));
  return config;
})();

type Death = 'throw' | 'exit' | 'report' | 'mute';

async function startFake(death: Death): Promise<{ svc: VrrpService; failed: VrrpError[] }> {
  const failed: VrrpError[] = [];
  const svc = await VrrpService.start(CONFIG, { failed: (e) => failed.push(e) }, () => new Worker(new URL('./fake-worker.ts', import.meta.url), { workerData: { death } }));
  return { svc, failed };
}

async function settle(p: Promise<unknown>): Promise<{ code: string | undefined; ms: number }> {
  const t0 = performance.now();
  try {
    await p;
    return { code: undefined, ms: performance.now() - t0 };
  } catch (err) {
    return { code: (err as { code?: string }).code, ms: performance.now() - t0 };
  }
}

for (const death of ['throw', 'exit', 'report'] as const) {
  test(`a worker that dies (${death}) fails the waiting request at once, later ones immediately, and tells the owner once`, async () => {
    const { svc, failed } = await startFake(death);
    const pending = await settle(svc.status());
    assert.equal(pending.code, 'VRRP_WORKER');
    assert.ok(pending.ms < 1000, `the waiting request failed after ${pending.ms} ms, not at the worker's death`);
    const later = await settle(svc.status());
    assert.equal(later.code, 'VRRP_WORKER');
    assert.ok(later.ms < 50, `a later request took ${later.ms} ms`);
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.code, 'VRRP_WORKER');
    await svc.stop();
  });
}

test('a worker that does not answer: the request fails with VRRP_TIMEOUT within the bound, the worker is not declared dead', async () => {
  const { svc, failed } = await startFake('mute');
  const r = await settle(svc.status());
  assert.equal(r.code, 'VRRP_TIMEOUT');
  assert.ok(r.ms >= 1900 && r.ms < 3000, `${r.ms} ms`);
  assert.equal(failed.length, 0);
  await svc.stop();
});

test('after stop(): requests fail with VRRP_STOPPED and the owner is not told of a failure', async () => {
  const { svc, failed } = await startFake('mute');
  await svc.stop();
  assert.equal((await settle(svc.status())).code, 'VRRP_STOPPED');
  assert.equal(failed.length, 0);
});

const skip = labUnavailable();

test('the real worker terminated while a status request waits: the request fails with VRRP_WORKER promptly', { skip, timeout: 60_000 }, async () => {
  const lab = new Lab('svc');
  try {
    lab.setup({ a: ['10.9.0.1/24'] });
    const conf = lab.writeFile('a.conf', instanceConf({ vrid: 1, priority: 100, vips: ['10.9.0.100/24'] }));
    const child = lab.start('a', [NODE, new URL('./service-child.ts', import.meta.url).pathname, conf], 'child');
    const code = await Promise.race([child.exited, new Promise<string>((r) => setTimeout(() => r('timeout'), START_MS).unref())]);
    const log = lab.readLog(child);
    assert.equal(code, 0, log);
    const r = JSON.parse(log.trim().split('\n').at(-1)!) as {
      before: string[]; threads: string[]; pending: string; pendingMs: number; later: string; laterMs: number; failed: { code: string; ms: number }[];
    };
    assert.deepEqual(r.before, ['BACKUP'], 'the worker ran before it was killed');
    assert.ok(r.threads.includes('ipvs-ts-vrrp'), `the worker thread is named: ${r.threads.join(', ')}`);
    assert.equal(r.pending, 'VRRP_WORKER');
    assert.ok(r.pendingMs < 1000, `the waiting request failed after ${r.pendingMs} ms`);
    assert.equal(r.later, 'VRRP_WORKER');
    assert.ok(r.laterMs < 50, `a later request took ${r.laterMs} ms`);
    assert.equal(r.failed.length, 1);
    assert.equal(r.failed[0]!.code, 'VRRP_WORKER');
  } finally {
    await lab.cleanup();
  }
});
