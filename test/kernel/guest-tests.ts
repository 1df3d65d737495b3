// Runs guest-side node:test files inside ONE VM boot and replays each of their top-level tests as a host
// subtest, so `npm test` shows every kernel test by name. Skips (with the reason) where the VM can't boot.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { relative } from 'node:path';
import { PREFIX } from './guest/reporter.ts';
import { canBootVm, PROJECT_DIR, runInVm } from './vm.ts';

interface GuestResult {
  readonly name: string;
  readonly ok: boolean;
  readonly skip?: string;
  readonly ms?: number;
  readonly error?: string;
  readonly diagnostics?: readonly string[];
}

export function guestTests(title: string, files: readonly string[], opts: { timeoutMs: number; setup?: string; memoryMb?: number }): void {
  const can = canBootVm();
  test(title, { skip: can.ok ? false : can.reason, timeout: opts.timeoutMs + 60_000 }, async (t) => {
    const rel = files.map((f) => relative(PROJECT_DIR, f));
    const command = [
      opts.setup ?? 'true',
      `node --test --test-concurrency=1 --test-reporter=./test/kernel/guest/reporter.ts --test-reporter-destination=stdout ${rel.join(' ')}`,
    ].join(' && ');
    const r = await runInVm({ command, timeoutMs: opts.timeoutMs, ...(opts.memoryMb ? { memoryMb: opts.memoryMb } : {}) });
    const results: GuestResult[] = r.stdout
      .split('\n')
      .filter((l) => l.startsWith(PREFIX))
      .map((l) => JSON.parse(l.slice(PREFIX.length)) as GuestResult);
    t.diagnostic(`VM run ${(r.elapsedMs / 1000).toFixed(1)} s, ${results.length} guest tests`);
    if (results.length === 0) {
      assert.fail(`the guest ran no tests (exit ${r.code}${r.timedOut ? ', timed out' : ''})\n--- stdout\n${r.stdout.slice(-2000)}\n--- stderr\n${r.stderr.slice(-3000)}\n--- console\n${r.console.slice(-2000)}`);
    }
    for (const res of results) {
      await t.test(res.name, { skip: res.skip ?? false }, (st) => {
        for (const d of res.diagnostics ?? []) st.diagnostic(d);
        if (!res.ok) assert.fail(res.error ?? 'failed in the guest');
      });
    }
    if (r.timedOut) assert.fail(`the VM timed out after ${opts.timeoutMs} ms`);
  });
}
