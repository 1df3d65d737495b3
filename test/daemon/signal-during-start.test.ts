// A SIGTERM that reaches the daemon while it is still starting (here: in the middle of programming IPVS, the moment
// `systemctl stop` lands during a long start) ends it cleanly, with status 0 and its stop sequence, instead of
// killing it before its handlers exist. The host has no IPVS, so the child's IPVS client talks to bench's fake
// kernel, which answers like the kernel's family; the real kernel is covered by the package test in the VM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const PROJECT = resolve(import.meta.dirname, '../..');

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
  const { IpvsClient } = await import('../../src/ipvs/client.ts');
  const { NetlinkSocket } = await import('../../src/netlink/socket.ts');
  const { FakeIpvsKernel } = await import('../../bench/fake-ipvs-kernel.ts');
  const { IPVS_CMD } = await import('../../src/ipvs/constants.ts');
  const { NLMSG_HDRLEN, nlmsgAlign } = await import('../../src/netlink/message.ts');
  const family = { id: 0x20, version: 1, name: 'IPVS', hdrsize: 0, maxattr: 0, mcastGroups: new Map() };
  const kernel = new FakeIpvsKernel(family.id, { services: [] });
  const send = kernel.send.bind(kernel);
  let sent = false;
  kernel.send = (messages) => {
    for (const m of messages) {
      for (let off = 0; off + NLMSG_HDRLEN <= m.length; off += nlmsgAlign(m.readUInt32LE(off))) {
        if (!sent && m[off + NLMSG_HDRLEN] === IPVS_CMD.NEW_DEST) {
          sent = true;
          process.stdout.write('SIGTERM sent during programming\n');
          process.kill(process.pid, 'SIGTERM');
        }
      }
    }
    send(messages);
  };
  IpvsClient.open = async () => new IpvsClient(new NetlinkSocket(kernel), family);
  process.argv = [process.argv[0]!, join(PROJECT, 'bin/ipvs-ts.js'), 'daemon', '-f', join(dir, 'keepalived.conf'), '--control', join(dir, 'control.sock'),
    '--metrics', 'off', '--state', join(dir, 'state'), '--run-dir', join(dir, 'run'), '--data-file', join(dir, 'data'), '--stats-file', join(dir, 'stats')];
  await import(join(PROJECT, 'bin/ipvs-ts.js'));
}
