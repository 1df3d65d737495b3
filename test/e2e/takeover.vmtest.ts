// Connections across a takeover, the kernel's side (test/e2e/guest/takeover.ts): one VM boot, every variant of the
// directors' settings through the same takeovers; each move is a subtest with its counts. The numbers are in
// docs/benchmarks.md ("Connections across a takeover"). A measurement, not part of `npm test` (the director e2e
// scenario asserts the same takeover with the daemons): it runs when TAKEOVER_ROUNDS is set, e.g.
// `TAKEOVER_ROUNDS=2 node --test test/e2e/takeover.vmtest.ts`. Skips where the VM cannot boot.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { canBootVm, PROJECT_DIR, runInVm } from '../kernel/vm.ts';
import type { MoveResult } from './guest/takeover.ts';

const can = canBootVm();

test('connections across a takeover in the IPVS VM', { skip: !process.env.TAKEOVER_ROUNDS ? 'a measurement: set TAKEOVER_ROUNDS=N to run it' : can.ok ? false : can.reason, timeout: 1_260_000 }, async (t) => {
  const dir = join(PROJECT_DIR, '.cache', 'e2e');
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const results = join(dir, `takeover-${process.pid}.json`);
  t.after(() => rmSync(results, { force: true }));
  const r = await runInVm({ command: `TAKEOVER_ROUNDS=${Number(process.env.TAKEOVER_ROUNDS ?? 2)} TMPDIR=$PWD/.cache/e2e/tmp node test/e2e/guest/takeover.ts ${results}`, timeoutMs: 1_200_000, memoryMb: 1536 });
  let moves: MoveResult[] = [];
  try {
    moves = (JSON.parse(readFileSync(results, 'utf8')) as { results: MoveResult[] }).results;
  } catch {
    assert.fail(`the measurement wrote no results (exit ${r.code}${r.timedOut ? ', timed out' : ''})\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-3000)}`);
  }
  t.diagnostic(`VM run ${(r.elapsedMs / 1000).toFixed(1)} s`);
  t.diagnostic(r.stdout);
  assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout.slice(-6000)}\n${r.stderr.slice(-2000)}`);
  // With mh + mh-port and sloppy_tcp, no long-lived connection is lost at any move.
  const tuned = moves.filter((m) => m.variant.startsWith('mh'));
  assert.ok(tuned.length > 0 && tuned.every((m) => m.held > 0));
  assert.deepEqual(tuned.filter((m) => m.heldFailed > 0).map((m) => `${m.move}: ${m.why.join(', ')}`), []);
});
