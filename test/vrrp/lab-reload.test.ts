// Reloads judged on the wire, against Debian's keepalived 2.2.7 (namespace lab, root). The measurement of issue 13:
// ipvs-ts master at priority 150, keepalived backup, four SIGHUP reloads (a virtual server added, notify_backup
// added, a second instance added, the priority raised to 160) must send no priority-0 advert, make the backup send
// nothing and change no state on either side, while every edit is applied. The same four edits on a keepalived
// master give keepalived's figures beside ours; more edits (VIP lists, a tracked script, a sync-group member, a
// removed instance, a VRID change) move exactly the instance they concern.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { gratuitousArps, haveCommand, instanceConf, Lab, labUnavailable, readPcap, sleep, START_MS, waitFor, type AdvertFields, type Proc } from './lab.ts';
import { masterDownMs } from '../../src/vrrp/machine.ts';

const skip = labUnavailable() ?? (haveCommand('keepalived') && haveCommand('tcpdump') ? undefined : 'needs keepalived and tcpdump (Debian packages)');
const K = '10.80.0.1';
const I = '10.80.0.2';
const ADV = 1000;
/** Not VRRP: `ipvs-ts vrrp` and `keepalived --vrrp` read it and leave it alone. */
const VIRTUAL_SERVER = 'virtual_server 10.80.0.100 80 {\n  lb_kind DR\n  real_server 10.80.0.11 80 {\n    TCP_CHECK {\n    }\n  }\n}\n';

/** The four edits of the measurement, as the file reads after each (index 0: before any). */
function measuredEdits(priority: number, notes: string): string[] {
  const notify = `  notify "/bin/sh -c 'echo $* >> ${notes}' notify"`;
  const vi1 = (p: number, extra = '') => instanceConf({ name: 'VI_1', vrid: 50, priority: p, vips: ['10.80.0.100/24'], extra: notify + extra });
  const vi2 = instanceConf({ name: 'VI_2', vrid: 51, priority, vips: ['10.80.0.101/24'], extra: notify });
  const backupScript = '\n  notify_backup /bin/true';
  return [
    vi1(priority),
    vi1(priority) + VIRTUAL_SERVER,
    vi1(priority, backupScript) + VIRTUAL_SERVER,
    vi1(priority, backupScript) + VIRTUAL_SERVER + vi2,
    vi1(priority + 10, backupScript) + VIRTUAL_SERVER + vi2,
  ];
}

const peer = (vrid: number, name: string, priority: number, vip: string) => instanceConf({ name, vrid, priority, vips: [`${vip}/24`] });

async function settled(lab: Lab, what: string, cond: () => boolean, ms = START_MS): Promise<void> {
  await waitFor(what, cond, ms).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails(25)}`);
  });
}

/** Rewrites an ipvs-ts config, sends SIGHUP and waits until it logs the reload as applied. */
async function reloadIpvsTs(lab: Lab, p: Proc, name: string, conf: string): Promise<number> {
  const applied = () => lab.readLog(p).split('reload applied').length - 1;
  const n = applied();
  const at = Date.now();
  lab.reload(p, name, conf);
  await settled(lab, `${name} reload ${n + 1}`, () => applied() > n, 5_000);
  return at;
}

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : []);
const from = (ads: readonly AdvertFields[], src: string) => ads.filter((a) => a.src === src);

test('reload on an ipvs-ts master: four edits, no priority 0, nothing from the keepalived backup, no transition; every edit applied', { skip, timeout: 90_000 }, async (t) => {
  const lab = new Lab('rl');
  t.after(() => lab.cleanup());
  lab.setup({ k: [`${K}/24`], i: [`${I}/24`] });
  const notes = `${lab.dir}/notify.txt`;
  const edits = measuredEdits(150, notes);
  const ipvs = lab.ipvsTs('i', edits[0]!, 'ipvs-ts');
  await settled(lab, 'ipvs-ts master', () => lab.entered(ipvs, 'MASTER') > 0);
  const ka = lab.keepalived('k', peer(50, 'VI_1', 100, '10.80.0.100'), 'keepalived');
  await settled(lab, 'keepalived backup', () => lab.states(ka, 'VI_1').includes('BACKUP'));
  await sleep(masterDownMs(100, ADV) + ADV);
  await settled(lab, 'the VIP on ipvs-ts only', () => lab.addresses('i').includes('10.80.0.100') && !lab.addresses('k').includes('10.80.0.100'));
  const cap = await lab.capture();
  const notesBefore = lines(notes).length;

  await reloadIpvsTs(lab, ipvs, 'ipvs-ts', edits[1]!);
  await sleep(ADV);
  await reloadIpvsTs(lab, ipvs, 'ipvs-ts', edits[2]!);
  await sleep(ADV);
  // The operator adds the second instance on both directors, ipvs-ts first (its 150 then wins the election).
  await reloadIpvsTs(lab, ipvs, 'ipvs-ts', edits[3]!);
  lab.reload(ka, 'keepalived', peer(50, 'VI_1', 100, '10.80.0.100') + peer(51, 'VI_2', 50, '10.80.0.101'));
  await settled(lab, 'ipvs-ts elected for VI_2', () => lab.states(ipvs, 'VI_2').includes('MASTER'), masterDownMs(150, ADV) + 5_000);
  await sleep(ADV);
  const raisedAt = await reloadIpvsTs(lab, ipvs, 'ipvs-ts', edits[4]!);
  await sleep(2 * ADV + 200);
  const ads = await cap.stop();

  const byIpvs = from(ads, I);
  const byKa = from(ads, K);
  const prioZero = byIpvs.filter((a) => a.priority === 0).length;
  const first160 = byIpvs.find((a) => a.vrid === 50 && a.priority === 160);
  const notesDuring = lines(notes).slice(notesBefore);
  t.diagnostic(
    `ipvs-ts: ${prioZero} priority-0 advert(s), VI_1 entered ${JSON.stringify(lab.states(ipvs, 'VI_1'))}; keepalived backup: ${byKa.length} advert(s), ` +
      `VI_1 entered ${JSON.stringify(lab.states(ka, 'VI_1'))}; notify during the reloads: ${JSON.stringify(notesDuring)}; ` +
      `priority 160 on the wire ${first160 ? (first160.timeMs - raisedAt).toFixed(1) : '-'} ms after SIGHUP`,
  );
  assert.equal(prioZero, 0, 'no priority-0 advert from ipvs-ts');
  assert.equal(byKa.length, 0, 'the keepalived backup sent nothing: it never saw a reason to take over');
  assert.deepEqual(lab.states(ipvs, 'VI_1'), ['BACKUP', 'MASTER'], 'VI_1 on ipvs-ts: only the start-up election');
  assert.ok(!lab.states(ka, 'VI_1').includes('MASTER') && !lab.states(ka, 'VI_2').includes('MASTER'), 'keepalived never became master');
  assert.deepEqual(notesDuring.filter((l) => l.includes('VI_1')), [], 'no notify for VI_1');
  // Every edit applied: the new instance elected, the new priority on the wire at once (not at the next interval).
  assert.deepEqual(lab.states(ipvs, 'VI_2'), ['BACKUP', 'MASTER']);
  assert.deepEqual(notesDuring, ['INSTANCE VI_2 BACKUP 150', 'INSTANCE VI_2 MASTER 150']);
  assert.ok(byIpvs.some((a) => a.vrid === 51 && a.priority === 150));
  assert.ok(first160 !== undefined && first160.timeMs - raisedAt < ADV / 2, 'priority 160 sent on the reload');
  assert.ok(byIpvs.filter((a) => a.vrid === 50 && a.timeMs > first160.timeMs).every((a) => a.priority === 160));
  assert.ok(['10.80.0.100', '10.80.0.101'].every((v) => lab.addresses('i').includes(v) && !lab.addresses('k').includes(v)));
});

test('the same four edits on a keepalived master, an ipvs-ts backup: keepalived\'s figures, and the backup stays silent', { skip, timeout: 90_000 }, async (t) => {
  const lab = new Lab('rk');
  t.after(() => lab.cleanup());
  lab.setup({ k: [`${K}/24`], i: [`${I}/24`] });
  const notes = `${lab.dir}/notify.txt`;
  const edits = measuredEdits(150, notes);
  const ka = lab.keepalived('k', edits[0]!, 'keepalived');
  await settled(lab, 'keepalived master', () => lab.states(ka, 'VI_1').includes('MASTER'));
  const ipvs = lab.ipvsTs('i', peer(50, 'VI_1', 100, '10.80.0.100'), 'ipvs-ts');
  await settled(lab, 'ipvs-ts backup', () => lab.states(ipvs, 'VI_1').includes('BACKUP'));
  await sleep(masterDownMs(100, ADV) + ADV);
  await settled(lab, 'the VIP on keepalived only', () => lab.addresses('k').includes('10.80.0.100') && !lab.addresses('i').includes('10.80.0.100'));
  const cap = await lab.capture();
  const notesBefore = lines(notes).length;
  for (const edit of edits.slice(1, 3)) {
    lab.reload(ka, 'keepalived', edit);
    await sleep(2 * ADV);
  }
  lab.reload(ka, 'keepalived', edits[3]!);
  await reloadIpvsTs(lab, ipvs, 'ipvs-ts', peer(50, 'VI_1', 100, '10.80.0.100') + peer(51, 'VI_2', 50, '10.80.0.101'));
  await settled(lab, 'keepalived elected for VI_2', () => lab.states(ka, 'VI_2').includes('MASTER'), masterDownMs(150, ADV) + 5_000);
  await sleep(ADV);
  const raisedAt = Date.now();
  lab.reload(ka, 'keepalived', edits[4]!);
  await sleep(3 * ADV);
  const ads = await cap.stop();

  const byKa = from(ads, K);
  const byIpvs = from(ads, I);
  const first160 = byKa.find((a) => a.vrid === 50 && a.priority === 160);
  const notesDuring = lines(notes).slice(notesBefore);
  t.diagnostic(
    `keepalived: ${byKa.filter((a) => a.priority === 0).length} priority-0 advert(s), VI_1 entered ${JSON.stringify(lab.states(ka, 'VI_1'))}, ` +
      `notify during the reloads: ${JSON.stringify(notesDuring)}, priority 160 on the wire ${first160 ? (first160.timeMs - raisedAt).toFixed(1) : '-'} ms after SIGHUP; ` +
      `ipvs-ts backup: ${byIpvs.length} advert(s), VI_1 entered ${JSON.stringify(lab.states(ipvs, 'VI_1'))}, VI_2 ${JSON.stringify(lab.states(ipvs, 'VI_2'))}`,
  );
  assert.equal(byIpvs.length, 0, 'the ipvs-ts backup sent nothing through keepalived\'s reloads, nor through its own');
  assert.deepEqual(lab.states(ipvs, 'VI_1'), ['BACKUP']);
  assert.deepEqual(lab.states(ipvs, 'VI_2'), ['BACKUP'], 'the instance added to the backup joined as BACKUP');
  assert.ok(first160 !== undefined, 'keepalived applied the priority');
});

test('more edits on an ipvs-ts master: each moves exactly the instance it concerns', { skip, timeout: 120_000 }, async (t) => {
  const lab = new Lab('rm');
  t.after(() => lab.cleanup());
  lab.setup({ k: [`${K}/24`], i: [`${I}/24`] });
  const notes = `${lab.dir}/notify.txt`;
  const notify = `  notify "/bin/sh -c 'echo $* >> ${notes}' notify"`;
  const vip = (n: number) => `10.80.0.${n}`;
  const own = (o: { name: string; vrid: number; priority?: number; vips: number[]; extra?: string }) =>
    instanceConf({ name: o.name, vrid: o.vrid, priority: o.priority ?? 150, vips: o.vips.map((n) => `${vip(n)}/24`), extra: notify + (o.extra ?? '') });
  const conf = (o: { script?: string; aVips?: number[]; bPriority?: number; withD?: boolean; cVrid?: number }) =>
    [
      o.script ?? 'vrrp_script chk {\n  script /bin/true\n  interval 1\n  weight -20\n}\n',
      `vrrp_sync_group G {\n  group {\n    A\n    B\n  }\n${notify}\n}\n`,
      own({ name: 'A', vrid: 60, vips: o.aVips ?? [110] }),
      own({ name: 'B', vrid: 61, priority: o.bPriority ?? 150, vips: [111] }),
      own({ name: 'C', vrid: o.cVrid ?? 62, vips: [112], extra: '\n  track_script {\n    chk\n  }' }),
      ...(o.withD ?? true ? [own({ name: 'D', vrid: 63, vips: [113] })] : []),
    ].join('\n');
  const ipvs = lab.ipvsTs('i', conf({}), 'ipvs-ts');
  await settled(lab, 'ipvs-ts master of all', () => ['A', 'B', 'C', 'D'].every((n) => lab.states(ipvs, n).includes('MASTER')));
  // keepalived 2.2.7 drops adverts whose address list differs from its own, so a VIP edit is made on both directors,
  // ipvs-ts first: the backup is then without valid adverts for a moment, far shorter than Master_Down_Interval.
  const kaConf = (aVips: number[]) =>
    instanceConf({ name: 'A', vrid: 60, priority: 100, vips: aVips.map((n) => `${vip(n)}/24`) }) + [61, 62, 63].map((id, n) => peer(id, 'BCD'[n]!, 100, vip(111 + n))).join('');
  const ka = lab.keepalived('k', kaConf([110]), 'keepalived');
  await settled(lab, 'keepalived backup of all', () => ['A', 'B', 'C', 'D'].every((n) => lab.states(ka, n).includes('BACKUP')));
  await sleep(masterDownMs(100, ADV) + ADV);
  await settled(lab, 'the VIPs on ipvs-ts only', () => [110, 111, 112, 113].every((n) => lab.addresses('i').includes(vip(n)) && !lab.addresses('k').includes(vip(n))));
  const cap = await lab.capture('lan', 'ip proto 112 or arp');
  const notesBefore = lines(notes).length;
  const at: Record<string, number> = {};

  at.vipAdded = await reloadIpvsTs(lab, ipvs, 'ipvs-ts', conf({ aVips: [110, 120] }));
  lab.reload(ka, 'keepalived', kaConf([110, 120]));
  assert.ok(lab.addresses('i').includes(vip(120)), 'the added VIP is up when the reload is applied');
  await sleep(ADV);
  at.vipRemoved = await reloadIpvsTs(lab, ipvs, 'ipvs-ts', conf({ aVips: [120] }));
  lab.reload(ka, 'keepalived', kaConf([120]));
  assert.ok(!lab.addresses('i').includes(vip(110)) && lab.addresses('i').includes(vip(120)), 'the removed VIP is gone, the other stays');
  await sleep(ADV);
  const script = 'vrrp_script chk {\n  script /bin/true\n  interval 2\n  weight -30\n}\n';
  at.script = await reloadIpvsTs(lab, ipvs, 'ipvs-ts', conf({ script, aVips: [120] }));
  await sleep(ADV);
  at.member = await reloadIpvsTs(lab, ipvs, 'ipvs-ts', conf({ script, aVips: [120], bPriority: 155 }));
  await sleep(2 * ADV);
  at.removed = await reloadIpvsTs(lab, ipvs, 'ipvs-ts', conf({ script, aVips: [120], bPriority: 155, withD: false }));
  await settled(lab, 'keepalived takes the removed instance over', () => lab.addresses('k').includes(vip(113)), 5_000);
  at.vrid = await reloadIpvsTs(lab, ipvs, 'ipvs-ts', conf({ script, aVips: [120], bPriority: 155, withD: false, cVrid: 64 }));
  await settled(lab, 'keepalived takes the old VRID over', () => lab.addresses('k').includes(vip(112)), 5_000);
  await settled(lab, 'C elected again under VRID 64', () => lab.states(ipvs, 'C').filter((s) => s === 'MASTER').length === 2, masterDownMs(150, ADV) + 5_000);
  // Files that cannot be applied are refused whole, and the running instances stay as they are.
  const last = conf({ script, aVips: [120], bPriority: 155, withD: false, cVrid: 64 });
  const rejected = () => lab.readLog(ipvs).split('reload rejected').length - 1;
  lab.reload(ipvs, 'ipvs-ts', `${last}vrrp_instance {\n`);
  await settled(lab, 'a broken file rejected', () => rejected() === 1, 5_000);
  lab.reload(ipvs, 'ipvs-ts', last + own({ name: 'E', vrid: 65, vips: [115] }).replace('eth0', 'eth9'));
  await settled(lab, 'a missing interface rejected', () => rejected() === 2, 5_000);
  assert.match(lab.readLog(ipvs), /reload rejected, keeping the running configuration: \(E\) interface eth9 does not exist \[VRRP_NO_INTERFACE\]/);
  await sleep(ADV);
  const ads = await cap.stop();

  const byIpvs = from(ads, I);
  const byKa = from(ads, K);
  const zero = byIpvs.filter((a) => a.priority === 0);
  const during = lines(notes).slice(notesBefore);
  t.diagnostic(
    `priority 0 from ipvs-ts: ${JSON.stringify(zero.map((a) => a.vrid))}; keepalived adverts per VRID: ${JSON.stringify(Object.fromEntries([60, 61, 62, 63].map((v) => [v, byKa.filter((a) => a.vrid === v).length])))}; ` +
      `notify during the reloads: ${JSON.stringify(during)}`,
  );
  // The group members, whose VIP list, tracked script and priority were edited: nothing moved.
  for (const n of ['A', 'B']) assert.deepEqual(lab.states(ipvs, n), ['BACKUP', 'MASTER'], `${n} on ipvs-ts`);
  for (const n of ['A', 'B']) assert.ok(!lab.states(ka, n).includes('MASTER'), `${n} on keepalived`);
  assert.deepEqual(byKa.filter((a) => a.vrid === 60 || a.vrid === 61), [], 'the backup sent nothing for the group');
  assert.ok(byIpvs.filter((a) => a.vrid === 61 && a.timeMs > at.member! + 50).every((a) => a.priority === 155), 'the member\'s new priority is on the wire');
  assert.ok(gratuitousArps(readPcap(cap.pcap), vip(120)).some((x) => x >= at.vipAdded! && x < at.vipRemoved!), 'the added VIP was announced');
  assert.ok(lab.addresses('i').includes(vip(120)) && !lab.addresses('k').includes(vip(120)));
  // Only the removed instance and the one whose VRID changed left, each with one priority-0 advert.
  assert.deepEqual(zero.map((a) => a.vrid), [63, 62]);
  assert.ok(zero[0]!.timeMs >= at.removed! && zero[1]!.timeMs >= at.vrid!);
  assert.deepEqual(lab.states(ipvs, 'C'), ['BACKUP', 'MASTER', 'STOP', 'BACKUP', 'MASTER'], 'C: restarted by the VRID change only (not by the script edit)');
  assert.deepEqual(lab.states(ipvs, 'D'), ['BACKUP', 'MASTER', 'STOP']);
  assert.deepEqual(during.filter((l) => / (A|B|G) /.test(l)), [], 'no notify for the group or its members');
});
