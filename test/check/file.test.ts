// FILE_CHECK with real files: the value as keepalived reads it, the weight/fault rules of check_file.c and
// track_file.c, init_file, and the runner reacting to a change at once (not after delay_loop).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkFile } from '../../src/check/file.ts';
import { CheckRunner } from '../../src/check/runner.ts';
import { parseCLong } from '../../src/check/track-file.ts';
import type { RealServerVerdict } from '../../src/check/types.ts';
import { fileCheck, realServer, virtualServer } from './model.ts';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ipvs-ts-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("track file numbers are read as keepalived's strtol(…, 0) reads them", () => {
  const cases: [string, number][] = [['5\n', 5], ['  -7 trailing', -7], ['0x1F', 31], ['010', 8], ['08', 0], ['+3', 3], ['abc', 0], ['', 0], ['0x', 0]];
  for (const [text, value] of cases) assert.equal(parseCLong(text), value, JSON.stringify(text));
});

test('FILE_CHECK: value × weight is the weight offset; a missing file is 0; reverse negates', async (t) => {
  const file = path.join(tempDir(t), 'w');
  const run = async (content: string | undefined, weight: number, weightReverse = false) => {
    if (content === undefined) rmSync(file, { force: true });
    else writeFileSync(file, content);
    return checkFile(fileCheck({ path: file }, { weight, weightReverse }));
  };
  assert.deepEqual(pick(await run(undefined, 3)), [true, 0, 'track_file tf: value 0: weight +0']);
  assert.deepEqual(pick(await run('4\n', 3)), [true, 12, 'track_file tf: value 4: weight +12']);
  assert.deepEqual(pick(await run('4\n', 3, true)), [true, -12, 'track_file tf: value 4: weight -12']);
  const fault = await run('-2147483648\n', 1);
  assert.deepEqual([fault.code, fault.reason], ['FILE_FAULT', 'track_file tf: value -2147483648 × weight 1 = -2147483648: fault']);
  assert.equal((await run('-1073741824', 2)).code, 'FILE_FAULT', 'a product at or below -2^31 is a fault');
  assert.equal((await run('-1073741823', 2)).ok, true);
});

test('FILE_CHECK weight 0: a non-zero value is a fault, or with reverse a zero one', async (t) => {
  const file = path.join(tempDir(t), 'status');
  const run = async (content: string, weightReverse: boolean) => {
    writeFileSync(file, content);
    return checkFile(fileCheck({ path: file }, { weight: 0, weightReverse }));
  };
  assert.equal((await run('0', false)).ok, true);
  assert.equal((await run('1', false)).code, 'FILE_FAULT');
  assert.equal((await run('0', true)).code, 'FILE_FAULT');
  assert.equal((await run('7', true)).ok, true);
});

test('FILE_CHECK: an out-of-range number is ignored and the last valid value stands, as keepalived does', async (t) => {
  const file = path.join(tempDir(t), 'w');
  writeFileSync(file, '6');
  assert.equal((await checkFile(fileCheck({ path: file }))).weightOffset, 6);
  writeFileSync(file, '99999999999');
  const r = await checkFile(fileCheck({ path: file }));
  assert.deepEqual([r.ok, r.weightOffset, r.reason], [true, 6, "track_file tf: '99999999999' is out of range, kept value 6: weight +6"]);
});

function pick(r: { ok: boolean; weightOffset?: number; reason: string }): [boolean, number | undefined, string] {
  return [r.ok, r.weightOffset, r.reason];
}

/** Collects the runner's verdicts and resolves `next()` with the first one after now that satisfies `want`. */
function verdicts(runner: CheckRunner) {
  const seen: RealServerVerdict[] = [];
  const waiters: { want: (v: RealServerVerdict) => boolean; resolve: (v: RealServerVerdict) => void }[] = [];
  runner.subscribe((e) => {
    if (e.kind !== 'realServer') return;
    seen.push(e);
    for (const w of waiters.splice(0)) (w.want(e) ? w.resolve(e) : waiters.push(w));
  });
  return {
    seen,
    next: (want: (v: RealServerVerdict) => boolean, timeoutMs = 3000) =>
      new Promise<RealServerVerdict>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no such verdict within ${timeoutMs} ms; seen ${JSON.stringify(seen.map((v) => [v.up, v.weight]))}`)), timeoutMs);
        waiters.push({ want, resolve: (v) => (clearTimeout(timer), resolve(v)) });
      }),
  };
}

test('the runner acts on a track file change at once (delay_loop is a minute): weight, fault, recovery, rename, deletion', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'weight');
  writeFileSync(file, '2\n');
  const check = fileCheck({ path: file }, { weight: 10, delayLoopMs: 60_000 });
  const runner = new CheckRunner([virtualServer({ realServers: [realServer({ weight: 5, checkers: [check] })] })]);
  const v = verdicts(runner);
  t.after(() => runner.stop());
  runner.start();
  assert.equal((await v.next(() => true)).weight, 25, 'read at start: 5 + 2 × 10');

  const started = performance.now();
  writeFileSync(file, '-1\n');
  const lowered = await v.next((x) => x.weight !== 25);
  assert.deepEqual([lowered.up, lowered.weight], [true, 0], '5 - 10 is kept at 0, still up');
  assert.ok(performance.now() - started < 2000, 'seen long before delay_loop');

  writeFileSync(file, '-214748365\n');
  const fault = await v.next((x) => !x.up);
  assert.match(fault.reason, /fault/);

  // Replaced by a rename, as careful writers do.
  writeFileSync(path.join(dir, 'tmp'), '3\n');
  renameSync(path.join(dir, 'tmp'), file);
  assert.deepEqual(pickVerdict(await v.next((x) => x.up)), [true, 35]);

  unlinkSync(file);
  assert.deepEqual(pickVerdict(await v.next((x) => x.weight === 5)), [true, 5], 'a deleted file reads as 0');
});

function pickVerdict(v: RealServerVerdict): [boolean, number] {
  return [v.up, v.weight];
}

test('the runner writes init_file at start: a missing file gets VALUE; an existing one only with overwrite', async (t) => {
  const dir = tempDir(t);
  const fresh = path.join(dir, 'fresh');
  const kept = path.join(dir, 'kept');
  const forced = path.join(dir, 'forced');
  writeFileSync(kept, '1\n');
  writeFileSync(forced, '1\n');
  const checks = [
    fileCheck({ name: 'a', path: fresh, init: { value: 4, overwrite: false } }),
    fileCheck({ name: 'b', path: kept, init: { value: 4, overwrite: false } }),
    fileCheck({ name: 'c', path: forced, init: { value: -3, overwrite: true } }),
  ];
  const runner = new CheckRunner([virtualServer({ realServers: checks.map((c, i) => realServer({ port: 80 + i, checkers: [c] })) })]);
  const v = verdicts(runner);
  t.after(() => runner.stop());
  runner.start();
  await v.next(() => v.seen.length === 3);
  assert.deepEqual([readFileSync(fresh, 'utf8'), readFileSync(kept, 'utf8'), readFileSync(forced, 'utf8')], ['4\n', '1\n', '-3\n']);
  assert.deepEqual(v.seen.map((x) => [x.realServer.port, x.weight]).sort(), [[80, 5], [81, 2], [82, 0]]);
});
