// Namespace lab: `ipvs-ts vrrp` writes keepalived's notify FIFO lines for real transitions — a sync group's start,
// mastership, a lower-priority master heard (MASTER_RX_LOWER_PRI), preemption, stop — to notify_fifo (read here by
// `cat`) and vrrp_notify_fifo (read by the configured vrrp_notify_fifo_script).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { instanceConf, Lab, labUnavailable, START_MS, waitFor } from './lab.ts';

const skip = labUnavailable();

test('ipvs-ts vrrp: the FIFO lines of a sync group member through start, a lower-priority master, preemption and stop', { skip }, async (t) => {
  const lab = new Lab('fifo');
  t.after(() => lab.cleanup());
  lab.setup({ d1: ['10.81.0.1/24'], d2: ['10.81.0.2/24'] });
  const all = join(lab.dir, 'all.fifo');
  const scriptOut = join(lab.dir, 'script.lines');
  const script = join(lab.dir, 'reader.sh');
  writeFileSync(script, '#!/bin/sh\nwhile IFS= read -r line; do printf "%s\\n" "$line" >> "$1"; done < "$2"\n');
  chmodSync(script, 0o755);
  // d1 sends its adverts to an address nobody has, so a peer that only sends to d1 never hears it: that peer
  // becomes master too, and d1, master, hears its lower priority.
  const vi = (priority: number, src: string, peer: string) =>
    instanceConf({ vrid: 81, priority, advert: 0.1, vips: ['10.81.0.100/24'], unicastSrc: src, peers: [peer] });
  const d1 = lab.ipvsTs('d1', `global_defs {
  notify_fifo ${all}
  vrrp_notify_fifo ${lab.dir}/vrrp.fifo
  vrrp_notify_fifo_script "${script} ${scriptOut}"
}
vrrp_sync_group G1 {
  group {
    VI_1
  }
}
${vi(100, '10.81.0.1', '10.81.0.250')}`);
  await waitFor('d1 created its FIFO', () => existsSync(all), START_MS);
  const cat = spawn('cat', [all], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.after(() => cat.kill());
  let text = '';
  cat.stdout.on('data', (d: Buffer) => (text += d.toString()));
  const catDone = new Promise<void>((resolve) => cat.once('close', () => resolve()));
  const fail = (e: Error) => {
    throw new Error(`${e.message}\nFIFO so far:\n${text}\n${lab.logTails()}`);
  };
  await waitFor('d1 master', () => text.includes('GROUP "G1" MASTER 0'), START_MS).catch(fail);

  const low = lab.ipvsTs('d2', vi(50, '10.81.0.2', '10.81.0.1'), 'low');
  await waitFor('d1 hears the lower-priority master', () => text.includes('MASTER_RX_LOWER_PRI'), START_MS).catch(fail);
  await lab.stop(low);
  const high = lab.ipvsTs('d2', vi(200, '10.81.0.2', '10.81.0.1'), 'high');
  await waitFor('d1 preempted', () => text.trimEnd().endsWith('GROUP "G1" BACKUP 0'), START_MS).catch(fail);
  await waitFor('the script read as far', () => existsSync(scriptOut) && readFileSync(scriptOut, 'utf8').trimEnd().endsWith('GROUP "G1" BACKUP 0'), START_MS).catch(fail);
  await lab.stop(d1);
  await catDone;
  await lab.stop(high);

  // Consecutive MASTER_RX_LOWER_PRI lines (one per advert heard) as one.
  const squeeze = (s: string) => s.split('\n').filter((l, i, a) => l !== '' && !(l.includes('MASTER_RX_LOWER_PRI') && a[i - 1] === l));
  const expected = [
    'GROUP "G1" BACKUP 0',
    'INSTANCE "VI_1" BACKUP 100',
    'INSTANCE "VI_1" MASTER 100',
    'GROUP "G1" MASTER 0',
    'INSTANCE "VI_1" MASTER_RX_LOWER_PRI 100',
    'INSTANCE "VI_1" BACKUP 100',
    'GROUP "G1" BACKUP 0',
  ];
  assert.deepEqual(squeeze(text), [...expected, 'INSTANCE "VI_1" STOP 100', 'GROUP "G1" STOP 0']);
  // The script got SIGTERM before the STOP lines were written, as keepalived's does.
  assert.deepEqual(squeeze(readFileSync(scriptOut, 'utf8')), expected);
  const heard = text.split('\n').filter((l) => l.includes('MASTER_RX_LOWER_PRI')).length;
  t.diagnostic(`MASTER_RX_LOWER_PRI lines while the lower-priority peer was master: ${heard}`);
  assert.ok(!existsSync(all) && !existsSync(join(lab.dir, 'vrrp.fifo')), 'the FIFOs it created are removed');
});
