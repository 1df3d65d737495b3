// Namespace lab: `ipvs-ts vrrp` writes keepalived's notify FIFO lines for real transitions — a sync group's start,
// mastership, a lower-priority master heard (MASTER_RX_LOWER_PRI), preemption, stop — to notify_fifo (read here by
// `cat`) and vrrp_notify_fifo (read by the configured vrrp_notify_fifo_script); Debian's keepalived in its place
// writes the same.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { haveCommand, instanceConf, Lab, labUnavailable, START_MS, waitFor } from './lab.ts';

const skip = labUnavailable();

/** notify_fifo's and the vrrp_notify_fifo_script's lines, consecutive MASTER_RX_LOWER_PRI (one per advert heard) as one. */
interface Seen {
  readonly fifo: string[];
  readonly script: string[];
  readonly lowerPri: number;
  /** The mode d1 created the FIFO with. */
  readonly mode: number;
}

/**
 * d1 (ipvs-ts or keepalived, VRRP only) is the only member of sync group G1: it starts, becomes master, hears a
 * lower-priority master, is preempted by a higher priority, and stops.
 */
async function scenario(t: TestContext, d1Is: 'ipvs-ts' | 'keepalived'): Promise<Seen> {
  const lab = new Lab(d1Is === 'keepalived' ? 'fifok' : 'fifo');
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
  const conf = `global_defs {
  notify_fifo ${all}
  vrrp_notify_fifo ${lab.dir}/vrrp.fifo
  vrrp_notify_fifo_script "${script} ${scriptOut}"
}
vrrp_sync_group G1 {
  group {
    VI_1
  }
}
${vi(100, '10.81.0.1', '10.81.0.250')}`;
  const d1 = d1Is === 'keepalived' ? lab.keepalived('d1', conf) : lab.ipvsTs('d1', conf);
  await waitFor('d1 created its FIFO', () => existsSync(all), START_MS);
  const mode = statSync(all).mode & 0o777;
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
  assert.ok(!existsSync(all) && !existsSync(join(lab.dir, 'vrrp.fifo')), 'the FIFOs d1 created are removed');
  const squeeze = (s: string) => s.split('\n').filter((l, i, a) => l !== '' && !(l.includes('MASTER_RX_LOWER_PRI') && a[i - 1] === l));
  return { fifo: squeeze(text), script: squeeze(readFileSync(scriptOut, 'utf8')), lowerPri: text.split('MASTER_RX_LOWER_PRI').length - 1, mode };
}

const EXPECTED = [
  'GROUP "G1" BACKUP 0',
  'INSTANCE "VI_1" BACKUP 100',
  'INSTANCE "VI_1" MASTER 100',
  'GROUP "G1" MASTER 0',
  'INSTANCE "VI_1" MASTER_RX_LOWER_PRI 100',
  'INSTANCE "VI_1" BACKUP 100',
  'GROUP "G1" BACKUP 0',
];

test('ipvs-ts vrrp: the FIFO lines of a sync group member through start, a lower-priority master, preemption and stop', { skip }, async (t) => {
  const seen = await scenario(t, 'ipvs-ts');
  assert.deepEqual(seen.fifo, [...EXPECTED, 'INSTANCE "VI_1" STOP 100', 'GROUP "G1" STOP 0']);
  // The script got SIGTERM before the STOP lines were written, as keepalived's does.
  assert.deepEqual(seen.script, EXPECTED);
  assert.equal(seen.mode.toString(8), '600');
  t.diagnostic(`MASTER_RX_LOWER_PRI lines while the lower-priority peer was master: ${seen.lowerPri}`);
});

test("keepalived 2.2.7 --vrrp writes the same lines in the same scenario (the reference for the test above)", { skip: skip ?? (haveCommand('keepalived') ? undefined : 'needs keepalived') }, async (t) => {
  const seen = await scenario(t, 'keepalived');
  assert.deepEqual(seen.fifo, [...EXPECTED, 'INSTANCE "VI_1" STOP 100', 'GROUP "G1" STOP 0']);
  assert.deepEqual(seen.script, EXPECTED);
  assert.equal(seen.mode.toString(8), '600');
});
