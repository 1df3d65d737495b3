// Runs INSIDE the test VM; started by test/kernel/harness.vmtest.ts. The harness's promise to every other VM test:
// Node in the guest runs from tmpfs and does not crash. Under multi-threaded TCG a plain `ipvs-ts ipvs list` died
// in V8 (SIGSEGV/SIGTRAP) in about one run of six, which looked like flaky tests everywhere else.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { sh } from './ipvs-kit.ts';

const RUNS = 30;

test('node runs from the guest tmpfs, not over 9p', () => {
  const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' '));
  const fs = mounts.filter(([, at]) => at && (process.execPath === at || process.execPath.startsWith(`${at === '/' ? '' : at}/`)))
    .sort((a, b) => (b[1]?.length ?? 0) - (a[1]?.length ?? 0))[0]?.[2];
  assert.equal(fs, 'tmpfs', `${process.execPath} is on ${fs}`);
});

test(`${RUNS} consecutive ipvs-ts CLI runs in one guest: none crashes, each lists the table as ipvsadm does`, (t) => {
  sh('modprobe -a ip_vs ip_vs_rr && ipvsadm -C && ipvsadm -A -t 10.30.0.1:80 -s rr');
  for (let i = 1; i <= 10; i++) sh(`ipvsadm -a -t 10.30.0.1:80 -r 10.31.0.${i}:8080 -m -w ${i}`);
  try {
    const want = sh('ipvsadm -Ln');
    const seconds: number[] = [];
    const failures: string[] = [];
    for (let i = 1; i <= RUNS; i++) {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, ['bin/ipvs-ts.js', 'ipvs', 'list'], { encoding: 'utf8', timeout: 120_000 });
      seconds.push((performance.now() - t0) / 1000);
      if (r.status !== 0 || r.signal) failures.push(`run ${i}: ${r.signal ?? `exit ${r.status}`} ${r.stderr.slice(-400)}`);
      else if (r.stdout !== want) failures.push(`run ${i}: printed\n${r.stdout}\ninstead of\n${want}`);
    }
    seconds.sort((a, b) => a - b);
    const at = (q: number): string => (seconds[Math.min(seconds.length - 1, Math.floor(q * seconds.length))] as number).toFixed(2);
    t.diagnostic(`${RUNS} runs of \`ipvs-ts ipvs list\` (node start included): min ${at(0)} s, median ${at(0.5)} s, max ${at(1)} s; ${failures.length} failed`);
    assert.deepEqual(failures, []);
  } finally {
    sh('ipvsadm -C');
  }
});
