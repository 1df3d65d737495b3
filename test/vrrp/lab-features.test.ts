// Namespace lab: three directors, nopreempt, preempt_delay, track_script, unicast, IPv6 VIPs, sync groups and
// notify scripts, all with ipvs-ts on every director (VRRPv3, advert 0.1 s to keep the suite short).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { handovers, haveCommand, instanceConf, Lab, labUnavailable, START_MS, sleep, waitFor } from './lab.ts';
import { masterDownMs } from '../../src/vrrp/machine.ts';

const skip = labUnavailable() ?? (haveCommand('tcpdump') ? undefined : 'needs tcpdump');
/** Handover measured on the wire may exceed the bound by this much (see lab-failover.test.ts). */
const WIRE_MARGIN_MS = 20;
/** Wall clock from SIGKILL to the VIP visible through `ip`, where no capture can see the adverts (unicast). */
const WALL_MARGIN_MS = 400;
const ADV = 100;
const VIP = '10.79.0.100';
const has = (lab: Lab, node: string, addr = VIP) => lab.addresses(node).includes(addr);

/**
 * Waits for the steady state before a failure is injected. A backup that starts while the machine is loaded may
 * miss the master's adverts for one Master_Down_Interval and flap once; that is VRRP, not what these tests measure.
 */
async function settled(lab: Lab, what: string, cond: () => boolean): Promise<void> {
  await waitFor(what, cond, START_MS).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails()}`);
  });
}

function lan(lab: Lab, n: number): void {
  lab.setup(Object.fromEntries([...Array.from({ length: n }, (_, i) => [`d${i + 1}`, [`10.79.0.${i + 1}/24`, `fd79::${i + 1}/64`]]), ['client', ['10.79.0.9/24', 'fd79::9/64']]]));
}

test('three directors: one master; on SIGKILL the next-highest priority takes over, the lowest stays backup', { skip }, async (t) => {
  const lab = new Lab('three');
  t.after(() => lab.cleanup());
  lan(lab, 3);
  const conf = (priority: number) => instanceConf({ vrid: 3, priority, advert: ADV / 1000, vips: [`${VIP}/24`] });
  // Priorities far apart: the backups' Master_Down_Intervals then differ by 58 ms, not a few milliseconds.
  const d1 = lab.ipvsTs('d1', conf(250));
  await waitFor('d1 master', () => lab.entered(d1, 'MASTER') > 0, START_MS);
  const d2 = lab.ipvsTs('d2', conf(200));
  const d3 = lab.ipvsTs('d3', conf(50));
  await waitFor('backups up', () => lab.entered(d2, 'BACKUP') > 0 && lab.entered(d3, 'BACKUP') > 0, START_MS);
  await sleep(masterDownMs(100, ADV) * 2);
  await settled(lab, 'only d1 owns the VIP', () => has(lab, 'd1') && !has(lab, 'd2') && !has(lab, 'd3'));
  const cap = await lab.capture();
  await sleep(2 * ADV);
  d1.child.kill('SIGKILL');
  await waitFor('d2 takes over', () => has(lab, 'd2'), START_MS, 5);
  await sleep(masterDownMs(50, ADV) * 2);
  const h = handovers(await cap.stop(), 3);
  t.diagnostic(`handover on the wire ${h.map((x) => x.gapMs.toFixed(1)).join(', ')} ms, bound ${masterDownMs(200, ADV).toFixed(1)} ms`);
  assert.deepEqual(h.map((x) => [x.from, x.to]), [['10.79.0.1', '10.79.0.2']]);
  assert.ok(h[0]!.gapMs <= masterDownMs(200, ADV) + WIRE_MARGIN_MS);
  assert.equal(lab.entered(d3, 'MASTER'), 0, 'the lowest priority never became master');
  assert.ok(!has(lab, 'd3'));
  lab.sh(lab.ns('client'), `ping -c 1 -W 1 ${VIP} >/dev/null`);
});

test('nopreempt (with state BACKUP): a higher-priority director that starts later does not take over', { skip }, async (t) => {
  const lab = new Lab('nopre');
  t.after(() => lab.cleanup());
  lan(lab, 2);
  const d2 = lab.ipvsTs('d2', instanceConf({ vrid: 4, priority: 100, advert: ADV / 1000, vips: [`${VIP}/24`], extra: '  nopreempt' }));
  await waitFor('d2 master', () => lab.entered(d2, 'MASTER') > 0, START_MS);
  const d1 = lab.ipvsTs('d1', instanceConf({ vrid: 4, priority: 150, advert: ADV / 1000, vips: [`${VIP}/24`], extra: '  nopreempt' }));
  await waitFor('d1 backup', () => lab.entered(d1, 'BACKUP') > 0, START_MS);
  await sleep(masterDownMs(150, ADV) * 4);
  assert.equal(lab.entered(d1, 'MASTER'), 0);
  assert.ok(has(lab, 'd2') && !has(lab, 'd1'));
});

test('preempt_delay: the higher-priority director waits the delay before preempting', { skip }, async (t) => {
  const lab = new Lab('pdelay');
  t.after(() => lab.cleanup());
  lan(lab, 2);
  const d2 = lab.ipvsTs('d2', instanceConf({ vrid: 5, priority: 100, advert: ADV / 1000, vips: [`${VIP}/24`] }));
  await waitFor('d2 master', () => lab.entered(d2, 'MASTER') > 0, START_MS);
  const d1 = lab.ipvsTs('d1', instanceConf({ vrid: 5, priority: 150, advert: ADV / 1000, vips: [`${VIP}/24`], extra: '  preempt_delay 1' }));
  await waitFor('d1 backup', () => lab.entered(d1, 'BACKUP') > 0, START_MS);
  const t0 = performance.now();
  await sleep(800);
  assert.equal(lab.entered(d1, 'MASTER'), 0, 'no preemption inside the delay');
  await waitFor('d1 preempts', () => has(lab, 'd1'), START_MS, 5);
  const took = performance.now() - t0;
  t.diagnostic(`preempted ${took.toFixed(0)} ms after entering BACKUP (delay 1000 + master down ${masterDownMs(150, ADV).toFixed(0)})`);
  assert.ok(took >= 1000 && took <= 1000 + masterDownMs(150, ADV) + WALL_MARGIN_MS);
  await waitFor('d2 releases', () => !has(lab, 'd2'), 2000);
});

test('track_script: a failing script lowers the master priority below the backup, which takes over; recovery preempts back', { skip }, async (t) => {
  const lab = new Lab('track');
  t.after(() => lab.cleanup());
  lan(lab, 2);
  const flag = `${lab.dir}/healthy`;
  writeFileSync(flag, '');
  // A generous timeout: on a loaded machine a fork+exec can take longer than the interval.
  const script = `vrrp_script chk {\n  script "/bin/test -e ${flag}"\n  interval 0.1\n  timeout 5\n  weight -60\n  rise 1\n  fall 1\n}\n`;
  const d1 = lab.ipvsTs('d1', script + instanceConf({ vrid: 6, priority: 150, advert: ADV / 1000, vips: [`${VIP}/24`], extra: '  track_script {\n    chk\n  }' }));
  await waitFor('d1 master', () => lab.entered(d1, 'MASTER') > 0, START_MS);
  const d2 = lab.ipvsTs('d2', instanceConf({ vrid: 6, priority: 100, advert: ADV / 1000, vips: [`${VIP}/24`] }));
  await waitFor('d2 backup', () => lab.entered(d2, 'BACKUP') > 0, START_MS);
  await sleep(500);
  await settled(lab, 'only d1 owns the VIP', () => has(lab, 'd1') && !has(lab, 'd2'));
  rmSync(flag);
  const t0 = performance.now();
  await waitFor('d2 takes over', () => has(lab, 'd2'), START_MS, 5);
  t.diagnostic(`script failure to takeover: ${(performance.now() - t0).toFixed(0)} ms`);
  await waitFor('d1 releases', () => !has(lab, 'd1'), 2000);
  writeFileSync(flag, '');
  await waitFor('d1 back', () => has(lab, 'd1'), 3000);
  await waitFor('d2 releases', () => !has(lab, 'd2'), 2000);
});

test('unicast: adverts only to unicast_peer from unicast_src_ip; failover works', { skip }, async (t) => {
  const lab = new Lab('uni');
  t.after(() => lab.cleanup());
  lan(lab, 2);
  const conf = (priority: number, self: string, peer: string) =>
    instanceConf({ vrid: 12, priority, advert: ADV / 1000, vips: [`${VIP}/24`], unicastSrc: self, peers: [peer] });
  const d1 = lab.ipvsTs('d1', conf(150, '10.79.0.1', '10.79.0.2'));
  await waitFor('d1 master', () => lab.entered(d1, 'MASTER') > 0, START_MS);
  const d2 = lab.ipvsTs('d2', conf(100, '10.79.0.2', '10.79.0.1'));
  await waitFor('d2 backup', () => lab.entered(d2, 'BACKUP') > 0, START_MS);
  await sleep(masterDownMs(100, ADV) * 2);
  await settled(lab, 'only d1 owns the VIP', () => has(lab, 'd1') && !has(lab, 'd2'));
  const st = await lab.stats(d2, 'ipvs-ts-d2');
  assert.ok((st.instances[0]?.stats.advert_rcvd ?? 0) > 3);
  const t0 = performance.now();
  d1.child.kill('SIGKILL');
  await waitFor('d2 takes over', () => has(lab, 'd2'), START_MS, 5);
  assert.ok(performance.now() - t0 <= masterDownMs(100, ADV) + WALL_MARGIN_MS);
});

test('IPv6: VRRPv3 over ff02::12 with an IPv6 VIP; the client reaches it after failover thanks to the unsolicited NA', { skip }, async (t) => {
  const lab = new Lab('six');
  t.after(() => lab.cleanup());
  lan(lab, 2);
  const V6 = 'fd79::100';
  const conf = (priority: number) => instanceConf({ vrid: 13, priority, advert: ADV / 1000, vips: [`${V6}/64`] });
  const d1 = lab.ipvsTs('d1', conf(150));
  await waitFor('d1 master', () => lab.entered(d1, 'MASTER') > 0, START_MS);
  const d2 = lab.ipvsTs('d2', conf(100));
  await waitFor('d2 backup', () => lab.entered(d2, 'BACKUP') > 0, START_MS);
  await sleep(masterDownMs(100, ADV) * 2);
  await settled(lab, 'only d1 owns the VIP', () => has(lab, 'd1', V6) && !has(lab, 'd2', V6));
  lab.sh(lab.ns('client'), `ping -6 -c 1 -W 1 ${V6} >/dev/null`);
  const cap = await lab.capture();
  await sleep(2 * ADV);
  d1.child.kill('SIGKILL');
  await waitFor('d2 takes over', () => has(lab, 'd2', V6), START_MS, 5);
  await sleep(2 * ADV);
  const h = handovers(await cap.stop(), 13);
  t.diagnostic(`IPv6 handover on the wire ${h.map((x) => x.gapMs.toFixed(1)).join(', ')} ms, bound ${masterDownMs(100, ADV).toFixed(1)} ms`);
  assert.deepEqual(h.map((x) => [x.from, x.to]), [[lab.linkLocal('d1'), lab.linkLocal('d2')]]);
  assert.ok(h[0]!.gapMs <= masterDownMs(100, ADV) + WIRE_MARGIN_MS);
  lab.sh(lab.ns('client'), `ping -6 -c 1 -W 1 ${V6} >/dev/null`);
});

test('sync group: a FAULT in one member faults the other, both VIPs move together; notify gets the four arguments', { skip }, async (t) => {
  const lab = new Lab('sync');
  t.after(() => lab.cleanup());
  lan(lab, 2);
  const flag = `${lab.dir}/healthy`;
  const notes = `${lab.dir}/notify.txt`;
  writeFileSync(flag, '');
  const conf = (priority: number, withScript: boolean) => [
    ...(withScript ? [`vrrp_script chk {\n  script "/bin/test -e ${flag}"\n  interval 0.1\n  timeout 5\n  weight 0\n  rise 1\n  fall 1\n}`] : []),
    `vrrp_sync_group G {\n  group {\n    A\n    B\n  }\n${withScript ? `  notify "/bin/sh -c 'echo $* >> ${notes}' notify"\n` : ''}}`,
    instanceConf({ name: 'A', vrid: 20, priority, advert: ADV / 1000, vips: ['10.79.0.100/24'] }),
    instanceConf({ name: 'B', vrid: 21, priority, advert: ADV / 1000, vips: ['10.79.0.101/24'], ...(withScript ? { extra: '  track_script {\n    chk\n  }' } : {}) }),
  ].join('\n');
  const d1 = lab.ipvsTs('d1', conf(150, true));
  await waitFor('d1 master of both', () => lab.entered(d1, 'MASTER') >= 2, START_MS);
  const d2 = lab.ipvsTs('d2', conf(100, false));
  await waitFor('d2 backup of both', () => lab.entered(d2, 'BACKUP') >= 2, START_MS);
  await sleep(masterDownMs(100, ADV) * 3);
  await settled(lab, 'd1 owns both VIPs', () => has(lab, 'd1', '10.79.0.100') && has(lab, 'd1', '10.79.0.101'));
  rmSync(flag);
  await waitFor('both VIPs on d2', () => has(lab, 'd2', '10.79.0.100') && has(lab, 'd2', '10.79.0.101'), 3000);
  await waitFor('both VIPs gone from d1', () => !has(lab, 'd1', '10.79.0.100') && !has(lab, 'd1', '10.79.0.101'), 2000);
  const st = await lab.stats(d1, 'ipvs-ts-d1');
  assert.deepEqual(st.instances.map((i) => i.state), ['FAULT', 'FAULT'], 'both members of the group are in FAULT');
  await waitFor('notify ran', () => existsSync(notes) && readFileSync(notes, 'utf8').includes('GROUP G FAULT 0'), 2000);
  assert.match(readFileSync(notes, 'utf8'), /GROUP G MASTER 0/);
});

test('track_interface: the master whose interface goes down enters FAULT and releases the VIP; the backup takes over', { skip }, async (t) => {
  const lab = new Lab('tif');
  t.after(() => lab.cleanup());
  lan(lab, 2);
  const d1 = lab.ipvsTs('d1', instanceConf({ vrid: 14, priority: 150, advert: ADV / 1000, vips: [`${VIP}/24`], extra: '  track_interface {\n    eth0\n  }' }));
  await waitFor('d1 master', () => lab.entered(d1, 'MASTER') > 0, START_MS);
  const d2 = lab.ipvsTs('d2', instanceConf({ vrid: 14, priority: 100, advert: ADV / 1000, vips: [`${VIP}/24`] }));
  await waitFor('d2 backup', () => lab.entered(d2, 'BACKUP') > 0, START_MS);
  await sleep(masterDownMs(100, ADV) * 2);
  lab.sh(lab.ns('d1'), 'ip link set eth0 down');
  await waitFor('d1 FAULT', () => lab.entered(d1, 'FAULT') > 0, 3000);
  await waitFor('d1 releases', () => !has(lab, 'd1'), 2000);
  await waitFor('d2 takes over', () => has(lab, 'd2'), 3000);
  lab.sh(lab.ns('d1'), 'ip link set eth0 up');
  await waitFor('d1 back to BACKUP then MASTER', () => lab.entered(d1, 'MASTER') > 1, 5000);
  await waitFor('d2 releases', () => !has(lab, 'd2'), 2000);
});
