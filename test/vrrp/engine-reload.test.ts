// The engine applying a reload to running instances (namespace lab, root): one director alone on a LAN, all its
// instances MASTER, then one reload that raises a priority and adds a VIP, changes a VRID, removes an instance and
// adds one; then the same file again; then a file the engine must refuse. Judged from the engine's own report and
// from a capture on the bridge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gratuitousArps, haveCommand, instanceConf, Lab, labUnavailable, NODE, readPcap, START_MS } from './lab.ts';
import type { InstanceStatus } from '../../src/vrrp/engine.ts';
import type { VrrpReloadPlan } from '../../src/vrrp/reload-plan.ts';

const skip = labUnavailable() ?? (haveCommand('tcpdump') ? undefined : 'needs tcpdump');

interface Step {
  readonly t0: number;
  readonly t1: number;
  readonly plan?: VrrpReloadPlan;
  readonly error?: string;
  readonly before: InstanceStatus[];
  readonly after: InstanceStatus[];
  readonly transitions: string[];
  readonly addresses: string[];
}

const vi = (name: string, vrid: number, priority: number, vips: string[]) => instanceConf({ name, vrid, priority, advert: 1, vips: vips.map((v) => `10.81.0.${v}/24`) });

test('engine: a reload changes running instances in place, restarts only an identity change, and refuses what it cannot run', { skip, timeout: 60_000 }, async (t) => {
  const lab = new Lab('eng');
  t.after(() => lab.cleanup());
  lab.setup({ a: ['10.81.0.1/24'] });
  const before = vi('VI_1', 1, 150, ['100']) + vi('VI_2', 2, 150, ['101']) + vi('VI_3', 3, 150, ['102']);
  const edited = vi('VI_1', 1, 160, ['100', '103']) + vi('VI_2', 12, 150, ['101']) + vi('VI_4', 4, 150, ['104']);
  const refused = edited + instanceConf({ name: 'VI_5', vrid: 5, priority: 100, vips: ['10.81.0.105/24'] }).replace('eth0', 'eth9');
  const cap = await lab.capture('lan', 'ip proto 112 or arp');
  const child = lab.start('a', [NODE, new URL('./engine-child.ts', import.meta.url).pathname, ...[before, edited, edited, refused].map((c, i) => lab.writeFile(`step${i}.conf`, c))], 'child');
  const code = await Promise.race([child.exited, new Promise<string>((r) => setTimeout(() => r('timeout'), START_MS + 10_000).unref())]);
  const ads = await cap.stop();
  assert.equal(code, 0, lab.readLog(child));
  const [reload, again, bad] = JSON.parse(lab.readLog(child).trim().split('\n').at(-1)!) as Step[];
  const of = (list: InstanceStatus[], name: string) => list.find((i) => i.name === name);

  // The edit: each instance gets what its edit asks, and nothing else moves.
  assert.deepEqual(reload!.plan!.instances.map((p) => (p.action === 'update' ? `${p.name} update: ${p.changes.join('; ')}` : `${p.name} ${p.action}`)), [
    'VI_1 update: priority 150 -> 160; virtualIps',
    'VI_2 restart',
    'VI_4 start',
    'VI_3 stop',
  ]);
  assert.deepEqual(reload!.transitions.sort(), ['VI_2 INIT>BACKUP', 'VI_2 MASTER>STOP', 'VI_3 MASTER>STOP', 'VI_4 INIT>BACKUP']);
  const vi1 = of(reload!.after, 'VI_1')!;
  assert.equal(vi1.state, 'MASTER');
  assert.equal(vi1.priority, 160);
  assert.equal(vi1.stats.pri_zero_sent, 0);
  assert.equal(vi1.stats.become_master, 1, 'VI_1 never left MASTER');
  assert.ok(vi1.stats.advert_sent > of(reload!.before, 'VI_1')!.stats.advert_sent, 'the new priority was sent during the reload itself');
  assert.deepEqual(reload!.addresses.filter((a) => a.startsWith('10.81.0.1') && a !== '10.81.0.1').sort(), ['10.81.0.100', '10.81.0.103'], 'the new VIP is up, the left instances\' VIPs are gone');

  // On the wire, until the child's final stop: priority 0 only from the two instances that left (VRIDs 2 and 3),
  // and VRID 1 announced 160 at once.
  const live = ads.filter((a) => a.timeMs <= bad!.t1 + 100);
  assert.deepEqual(live.filter((a) => a.priority === 0).map((a) => a.vrid).sort(), [2, 3]);
  const vrid = (n: number) => live.filter((a) => a.vrid === n);
  const first160 = vrid(1).find((a) => a.priority === 160)!;
  t.diagnostic(`priority 160 on the wire ${(first160.timeMs - reload!.t0).toFixed(1)} ms after reconfigure() was called (advert_int 1 s)`);
  assert.ok(first160.timeMs >= reload!.t0 - 5 && first160.timeMs <= reload!.t1 + 50, 'sent at once, not at the next interval');
  assert.ok(vrid(1).filter((a) => a.timeMs > first160.timeMs).every((a) => a.priority === 160));
  assert.equal(vrid(3).filter((a) => a.timeMs > reload!.t1).length, 0, 'the removed instance is silent');
  const garps = gratuitousArps(readPcap(cap.pcap), '10.81.0.103');
  assert.ok(garps.some((at) => at >= reload!.t0 - 5), 'the added VIP was announced');

  // The same file again: nothing to do.
  assert.ok(again!.plan!.instances.every((p) => p.action === 'keep'));
  assert.deepEqual(again!.transitions, []);

  // A file the engine cannot run is refused whole: VI_1 stays as it was.
  assert.equal(bad!.error, 'VRRP_NO_INTERFACE');
  assert.deepEqual(bad!.transitions, []);
  assert.deepEqual(bad!.after.map((i) => [i.name, i.priority]), bad!.before.map((i) => [i.name, i.priority]));
});
