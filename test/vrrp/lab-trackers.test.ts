// Namespace lab: ipvs-ts's trackers against Debian's keepalived 2.2.7 as the peer. A track_file's value moves the
// ipvs-ts master's priority below keepalived's, which takes the VIP, and back (VRRPv3, advert 0.1 s).
import { test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { haveCommand, instanceConf, Lab, labUnavailable, START_MS, sleep, waitFor } from './lab.ts';
import { masterDownMs } from '../../src/vrrp/machine.ts';

const skip = labUnavailable() ?? (haveCommand('keepalived') ? undefined : 'needs keepalived (Debian package)');
const ADV = 100;
const VIP = '10.77.0.100';

test('track_file: writing 60 into the file (weight -1) drops the ipvs-ts master below keepalived, which takes the VIP; 0 brings it back', { skip }, async (t) => {
  const lab = new Lab('tfile');
  t.after(() => lab.cleanup());
  lab.setup({ i: ['10.77.0.1/24'], k: ['10.77.0.2/24'] });
  const has = (node: string) => lab.addresses(node).includes(VIP);
  const file = `${lab.dir}/prio`;
  const block = `track_file prio {\n  file ${file}\n  weight -1\n  init_file 0 overwrite\n}\n`;
  const conf = (priority: number, extra?: string) => instanceConf({ vrid: 31, priority, advert: ADV / 1000, vips: [`${VIP}/24`], ...(extra ? { extra } : {}) });
  const ipvs = lab.ipvsTs('i', block + conf(150, '  track_file {\n    prio\n  }'));
  await waitFor('ipvs-ts master', () => lab.entered(ipvs, 'MASTER') > 0, START_MS);
  const ka = lab.keepalived('k', conf(100));
  await waitFor('keepalived backup', () => lab.entered(ka, 'BACKUP') > 0, START_MS);
  await sleep(masterDownMs(100, ADV) * 2);
  await waitFor('only ipvs-ts holds the VIP', () => has('i') && !has('k'), START_MS).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails()}`);
  });

  writeFileSync(file, '60\n');
  const t0 = performance.now();
  await waitFor('keepalived takes over', () => has('k'), 5000, 5).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails()}`);
  });
  t.diagnostic(`file written to VIP on keepalived: ${(performance.now() - t0).toFixed(0)} ms`);
  await waitFor('ipvs-ts releases', () => !has('i'), 2000);

  writeFileSync(file, '0\n');
  await waitFor('ipvs-ts preempts back', () => has('i'), 5000, 5);
  await waitFor('keepalived releases', () => !has('k'), 2000);
});

test('track_process: killing the tracked process (weight -60) moves the VIP to keepalived; restarting it brings the VIP back', { skip }, async (t) => {
  const lab = new Lab('tproc');
  t.after(() => lab.cleanup());
  lab.setup({ i: ['10.77.0.1/24'], k: ['10.77.0.2/24'] });
  const has = (node: string) => lab.addresses(node).includes(VIP);
  // A duration no other process runs with, so the command line names this one process alone.
  const tag = `900.${process.pid}`;
  const block = `vrrp_track_process svc {\n  process sleep ${tag}\n  weight -60\n}\n`;
  const conf = (priority: number, extra?: string) => instanceConf({ vrid: 32, priority, advert: ADV / 1000, vips: [`${VIP}/24`], ...(extra ? { extra } : {}) });
  const svc = () => lab.start('i', ['sleep', tag], 'svc');
  let running = svc();
  const ipvs = lab.ipvsTs('i', block + conf(150, '  track_process {\n    svc\n  }'));
  await waitFor('ipvs-ts master', () => lab.entered(ipvs, 'MASTER') > 0, START_MS);
  const ka = lab.keepalived('k', conf(100));
  await waitFor('keepalived backup', () => lab.entered(ka, 'BACKUP') > 0, START_MS);
  await sleep(masterDownMs(100, ADV) * 2);
  await waitFor('only ipvs-ts holds the VIP', () => has('i') && !has('k'), START_MS).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails()}`);
  });

  running.child.kill('SIGKILL');
  const t0 = performance.now();
  await waitFor('keepalived takes over', () => has('k'), 5000, 5).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails()}`);
  });
  t.diagnostic(`process killed to VIP on keepalived: ${(performance.now() - t0).toFixed(0)} ms`);
  await waitFor('ipvs-ts releases', () => !has('i'), 2000);

  running = svc();
  await waitFor('ipvs-ts preempts back', () => has('i'), 5000, 5);
  await waitFor('keepalived releases', () => !has('k'), 2000);
  await lab.stop(running, 'SIGKILL');
});
