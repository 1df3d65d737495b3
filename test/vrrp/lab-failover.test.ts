// Namespace lab: ipvs-ts directors electing one master, failing over on SIGKILL and graceful stop, preempting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instanceConf, Lab, labUnavailable, START_MS, sleep, waitFor } from './lab.ts';
import { masterDownMs, skewMs } from '../../src/vrrp/machine.ts';

const skip = labUnavailable();
/** Scheduling margin on top of the protocol bound: timer granularity, a poll period, netlink; measured ~20-40 ms here. */
const MARGIN_MS = 150;

test('two directors elect one master; the VIP answers ping; SIGKILL -> backup takes over within 3 x advert + skew; preemption back', { skip }, async (t) => {
  const lab = new Lab('fo');
  t.after(() => lab.cleanup());
  lab.setup({ d1: ['10.77.0.1/24'], d2: ['10.77.0.2/24'], client: ['10.77.0.9/24'] });
  const advert = 0.2;
  const conf = (prio: number) => instanceConf({ vrid: 7, priority: prio, version: 3, advert, vips: ['10.77.0.100/24'] });
  const d1 = lab.ipvsTs('d1', conf(150));
  lab.ipvsTs('d2', conf(100));
  await waitFor('d1 master', () => lab.addresses('d1').includes('10.77.0.100'), START_MS);
  await sleep(3 * advert * 1000);
  assert.ok(!lab.addresses('d2').includes('10.77.0.100'), 'exactly one director owns the VIP');
  lab.sh(lab.ns('client'), 'ping -c 1 -W 1 10.77.0.100 >/dev/null');

  const killedAt = performance.now();
  d1.child.kill('SIGKILL');
  await waitFor('d2 takes over', () => lab.addresses('d2').includes('10.77.0.100'), 5000, 5);
  const took = performance.now() - killedAt;
  const bound = masterDownMs(100, advert * 1000);
  t.diagnostic(`takeover after SIGKILL: ${took.toFixed(0)} ms (bound ${bound.toFixed(0)} ms + margin ${MARGIN_MS})`);
  assert.ok(took <= bound + MARGIN_MS, `took ${took} ms`);
  // No neighbour flush: the client still has d1's MAC cached, so this ping only works once d2's gratuitous ARP updated it.
  lab.sh(lab.ns('client'), 'ping -c 1 -W 1 10.77.0.100 >/dev/null');

  // d1 comes back with the higher priority: it preempts after its Master_Down_Interval and d2 releases the VIP.
  const d1b = lab.ipvsTs('d1', conf(150), 'ipvs-ts-d1-again');
  await waitFor('d1 master again', () => lab.entered(d1b, 'MASTER') > 0, START_MS);
  await waitFor('d2 releases', () => !lab.addresses('d2').includes('10.77.0.100'), 2000);
  assert.ok(lab.addresses('d1').includes('10.77.0.100'));

  // Graceful stop: priority 0 advert; the backup takes over after about Skew_Time.
  const stopAt = performance.now();
  await lab.stop(d1b);
  await waitFor('d2 takes over after priority 0', () => lab.addresses('d2').includes('10.77.0.100'), 3000, 5);
  const grace = performance.now() - stopAt;
  t.diagnostic(`takeover after graceful stop: ${grace.toFixed(0)} ms (skew ${skewMs(100, advert * 1000).toFixed(0)} ms)`);
  assert.ok(grace < 3 * advert * 1000, `graceful handover took ${grace} ms`);
  assert.ok(!lab.addresses('d1').includes('10.77.0.100'), 'a stopped director leaves no VIP behind');
});
