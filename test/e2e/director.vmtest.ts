// The director end to end in the IPVS VM: one boot, the lab of test/e2e/guest/scenario.ts (client, two directors
// running `ipvs-ts daemon`, four HTTP real servers). Each step of the scenario is replayed here as a subtest with
// its measured time and failed requests. Skips where the VM cannot boot. E2E_BASELINE=1 runs the directors without
// the takeover settings (scenario.ts --baseline), for the before/after comparison in docs/benchmarks.md.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { canBootVm, PROJECT_DIR, runInVm } from '../kernel/vm.ts';
import { guestCommand } from './guest/command.ts';
import type { StepResult as Step } from './guest/scenario.ts';

const can = canBootVm();

test('director end to end in the IPVS VM', { skip: can.ok ? false : can.reason, timeout: 1_560_000 }, async (t) => {
  const dir = join(PROJECT_DIR, '.cache', 'e2e');
  mkdirSync(dir, { recursive: true });
  const results = join(dir, `results-${process.pid}.json`);
  t.after(() => rmSync(results, { force: true }));
  const r = await runInVm({ command: guestCommand(`${results}${process.env.E2E_BASELINE === '1' ? ' --baseline' : ''}`), timeoutMs: 1_500_000, memoryMb: 1536 });
  let steps: Step[] = [];
  try {
    steps = (JSON.parse(readFileSync(results, 'utf8')) as { steps: Step[] }).steps;
  } catch {
    assert.fail(`the scenario wrote no results (exit ${r.code}${r.timedOut ? ', timed out' : ''})\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-3000)}\n--- console\n${r.console.slice(-1500)}`);
  }
  t.diagnostic(`VM run ${(r.elapsedMs / 1000).toFixed(1)} s`);
  for (const s of steps) {
    await t.test(s.step, () => {
      t.diagnostic(`${s.step}: ${s.ms.toFixed(0)} ms${s.boundMs ? ` (bound ${s.boundMs.toFixed(0)})` : ''}, ${s.failedRequests}/${s.requests} failed; ${s.detail}`);
      assert.ok(s.ok, `${s.detail}\n${r.stdout.slice(-3000)}`);
    });
  }
  assert.equal(r.code, 0, `scenario exit ${r.code}\n${r.stdout.slice(-6000)}\n${r.stderr.slice(-2000)}`);
});
