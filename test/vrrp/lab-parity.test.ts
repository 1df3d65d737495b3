// Namespace lab: two of keepalived 2.2.7's rules checked on the wire, ipvs-ts and keepalived side by side with the
// same configuration: `track_interface … weight N reverse` (the weight negated where it counts) and
// vrrp_startup_delay (no takeover before the delay is over).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { haveCommand, instanceConf, Lab, labUnavailable, START_MS, sleep, waitFor, type AdvertFields } from './lab.ts';
import { masterDownMs } from '../../src/vrrp/machine.ts';

const skip = labUnavailable() ?? (haveCommand('tcpdump') && haveCommand('keepalived') ? undefined : 'needs tcpdump and keepalived');
const ADV = 100;

/** The priority each VRID advertised last in a short capture. */
async function priorities(lab: Lab, name: string): Promise<Map<number, number>> {
  const cap = await lab.capture(name);
  await sleep(5 * ADV);
  const ads: AdvertFields[] = await cap.stop();
  return new Map(ads.map((a) => [a.vrid, a.priority]));
}

test('track_interface weight N reverse: ipvs-ts advertises the priorities keepalived does, link up and down', { skip, timeout: 90_000 }, async (t) => {
  const lab = new Lab('rev');
  t.after(() => lab.cleanup());
  lab.setup({ i: ['10.83.0.1/24'], k: ['10.83.0.2/24'] });
  // Two links of their own on each node: auxa up (its weight 10 reverse counts: −10), auxb down (its weight −20
  // reverse counts: +20); then the other way round (nothing counts).
  for (const node of ['i', 'k']) lab.sh(lab.ns(node), 'ip link add auxa type veth peer name auxa1 && ip link add auxb type veth peer name auxb1 && ip link set auxa up && ip link set auxa1 up && ip link set auxb1 up');
  const conf = (vrid: number) => instanceConf({
    vrid, priority: 100, advert: ADV / 1000, vips: [`10.83.0.${100 + vrid}/24`], extra: '  track_interface {\n    auxa weight 10 reverse\n    auxb weight -20 reverse\n  }',
  });
  const i = lab.ipvsTs('i', conf(1));
  const k = lab.keepalived('k', conf(2));
  await waitFor('both master', () => lab.entered(i, 'MASTER') > 0 && lab.entered(k, 'MASTER') > 0, 2 * START_MS).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails()}`);
  });
  const before = await priorities(lab, 'before');
  t.diagnostic(`auxa up, auxb down: ipvs-ts ${before.get(1)}, keepalived ${before.get(2)}`);
  assert.deepEqual([before.get(1), before.get(2)], [110, 110]);
  for (const node of ['i', 'k']) lab.sh(lab.ns(node), 'ip link set auxa down && ip link set auxb up');
  let after = new Map<number, number>();
  const deadline = performance.now() + START_MS;
  while (performance.now() < deadline) {
    after = await priorities(lab, `after${Math.round(performance.now())}`);
    if (after.get(1) === 100 && after.get(2) === 100) break;
  }
  t.diagnostic(`auxa down, auxb up: ipvs-ts ${after.get(1)}, keepalived ${after.get(2)}`);
  assert.deepEqual([after.get(1), after.get(2)], [100, 100]);
});

test('vrrp_startup_delay: alone on the LAN, neither ipvs-ts nor keepalived takes over before the delay is over', { skip, timeout: 60_000 }, async (t) => {
  const lab = new Lab('sdl');
  t.after(() => lab.cleanup());
  lab.setup({ i: ['10.84.0.1/24'], k: ['10.84.0.2/24'] });
  const DELAY_MS = 1500;
  const conf = (vrid: number) => `global_defs {\n  vrrp_startup_delay ${DELAY_MS / 1000}\n}\n` + instanceConf({ vrid, priority: 100, advert: ADV / 1000, vips: [`10.84.0.${100 + vrid}/24`] });
  const has = (node: string, vrid: number) => lab.addresses(node).includes(`10.84.0.${100 + vrid}`);
  const t0 = performance.now();
  lab.ipvsTs('i', conf(1));
  lab.keepalived('k', conf(2));
  const at = { i: 0, k: 0 };
  await waitFor('both hold their VIP', () => {
    if (at.i === 0 && has('i', 1)) at.i = performance.now() - t0;
    if (at.k === 0 && has('k', 2)) at.k = performance.now() - t0;
    return at.i > 0 && at.k > 0;
  }, START_MS + 10_000, 20);
  t.diagnostic(`VIP after ${at.i.toFixed(0)} ms (ipvs-ts), ${at.k.toFixed(0)} ms (keepalived); delay ${DELAY_MS} ms + Master_Down_Interval ${masterDownMs(100, ADV).toFixed(0)} ms`);
  // From the process start, which comes after t0: a lower bound holds however loaded the host is.
  assert.ok(at.i >= DELAY_MS + masterDownMs(100, ADV), 'ipvs-ts waited the delay and then Master_Down_Interval');
  assert.ok(at.k >= DELAY_MS, 'keepalived waited the delay');
});
