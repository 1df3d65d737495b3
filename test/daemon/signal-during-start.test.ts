// A SIGTERM that reaches the daemon while it is still starting (here: in the middle of programming IPVS, the moment
// `systemctl stop` lands during a long start) ends it cleanly, with status 0 and its stop sequence, instead of
// killing it before its handlers exist. The host has no IPVS, so the child's IPVS client talks to bench's fake
// kernel, which answers like the kernel's family; the real kernel is covered by the package test in the VM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

if (process.argv[2] === '--child') await child(process.argv[3]!);
else {
  test('SIGTERM while the daemon programs IPVS at start: it finishes the start, stops cleanly and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ipvs-ts-sigterm-'));
    try {
      const vss = Array.from({ length: 20 }, (_, i) => `virtual_server 10.31.0.${i + 1} 80 {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  real_server 10.31.1.1 80 {\n    weight 1\n  }\n}\n`);
      writeFileSync(join(dir, 'keepalived.conf'), vss.join(''));
      const c = spawn(process.execPath, [import.meta.filename, '--child', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
      let log = '';
      c.stdout.on('data', (d: Buffer) => (log += String(d)));
      c.stderr.on('data', (d: Buffer) => (log += String(d)));
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res) => c.once('exit', (code, signal) => res([code, signal])));
      assert.equal(signal, null, `killed by ${signal}\n${log}`);
      assert.equal(code, 0, log);
      assert.match(log, /SIGTERM sent during programming/);
      assert.match(log, /\bstopped\b/, log);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

async function child(dir: string): Promise<void> {
  const { runDaemonOnFakeKernel } = await import('../../bench/fake-kernel-daemon.ts');
  const { IPVS_CMD } = await import('../../src/ipvs/constants.ts');
  let sent = false;
  await runDaemonOnFakeKernel({
    dir,
    metrics: 'off',
    onRequest: (cmd) => {
      if (sent || cmd !== IPVS_CMD.NEW_DEST) return;
      sent = true;
      process.stdout.write('SIGTERM sent during programming\n');
      process.kill(process.pid, 'SIGTERM');
    },
  });
}
