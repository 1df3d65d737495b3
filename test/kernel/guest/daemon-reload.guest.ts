// Runs INSIDE the test VM; started by test/kernel/import.vmtest.ts (one VM boot serves both). Issue 13's reload
// measurement with the whole `ipvs-ts daemon` (VRRP and IPVS), which test/vrrp/lab-reload.test.ts makes on the host
// with `ipvs-ts vrrp` only: the daemon as master at priority 150 with a virtual server really in IPVS, Debian's
// keepalived as backup at 100, both on a namespace LAN (test/vrrp/lab.ts) captured by tcpdump. Four SIGHUP reloads,
// each after one edit, must send no priority-0 advert, make the backup send nothing and change no state on either
// side, while every edit is applied.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI, haveCommand, instanceConf, Lab, NODE, sleep, waitFor, type AdvertFields, type Proc } from '../../vrrp/lab.ts';
import { sh } from './ipvs-kit.ts';

const K = '10.80.0.1';
const I = '10.80.0.2';
const ADV = 1000;
/** After each reload, before the next edit: three adverts. */
const SETTLE = 3 * ADV;
/** A node start under TCG takes seconds; protocol timing is never asserted with this. */
const START_MS = 90_000;

const virtualServer = (port: number) => `virtual_server 10.80.0.100 ${port} {\n  lb_algo rr\n  lb_kind DR\n  protocol TCP\n  real_server 10.80.0.11 ${port} {\n    weight 1\n  }\n}\n`;

/**
 * The four edits of test/vrrp/lab-reload.test.ts (not importable: that file registers its tests), as the file reads
 * after each (index 0: before any). The daemon starts with one virtual server, so the first edit adds a second.
 */
function measuredEdits(priority: number, notes: string): string[] {
  const notify = `  notify "/bin/sh -c 'echo $* >> ${notes}' notify"`;
  const vi1 = (p: number, extra = '') => instanceConf({ name: 'VI_1', vrid: 50, priority: p, vips: ['10.80.0.100/24'], extra: notify + extra });
  const vi2 = instanceConf({ name: 'VI_2', vrid: 51, priority, vips: ['10.80.0.101/24'], extra: notify });
  const backupScript = '\n  notify_backup /bin/true';
  const one = virtualServer(80);
  const two = one + virtualServer(443);
  return [vi1(priority) + one, vi1(priority) + two, vi1(priority, backupScript) + two, vi1(priority, backupScript) + two + vi2, vi1(priority + 10, backupScript) + two + vi2];
}

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : []);
const from = (ads: readonly AdvertFields[], src: string) => ads.filter((a) => a.src === src);
/** The states the daemon logged an instance entering ("VRRP VI_1 BACKUP -> MASTER (priority 150)"). */
const daemonStates = (lab: Lab, p: Proc, instance: string) => [...lab.readLog(p).matchAll(/VRRP (\S+) \w+ -> (\w+)/g)].flatMap((m) => (m[1] === instance ? [m[2]!] : []));

test('reload on an `ipvs-ts daemon` master with IPVS: four edits, no priority 0, nothing from the keepalived backup, no transition; every edit applied', { skip: haveCommand('keepalived') && haveCommand('tcpdump') ? false : 'needs keepalived and tcpdump in the guest' }, async (t) => {
  sh('modprobe -a ip_vs ip_vs_rr');
  const lab = new Lab('dr');
  t.after(() => lab.cleanup());
  lab.setup({ k: [`${K}/24`], i: [`${I}/24`] });
  const notes = join(lab.dir, 'notify.txt');
  const kaNotes = join(lab.dir, 'ka-notify.txt');
  const edits = measuredEdits(150, notes);
  const conf = lab.writeFile('daemon.conf', edits[0]!);
  const daemon = lab.start('i', [NODE, CLI, 'daemon', '-f', conf, '--control', join(lab.dir, 'ctl.sock'), '--metrics', 'off', '--state', join(lab.dir, 'state.json'), '--run-dir', join(lab.dir, 'run')], 'daemon');
  const settled = (what: string, cond: () => boolean, ms: number) => waitFor(what, cond, ms, 50).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails(25)}`);
  });
  const reloaded = () => lab.readLog(daemon).split('reloaded: ').length - 1;
  /** Rewrites the daemon's file, sends SIGHUP, waits until it logs the reload and then SETTLE. */
  const reload = async (text: string): Promise<number> => {
    const n = reloaded();
    const at = Date.now();
    lab.reload(daemon, 'daemon', text);
    await settled(`daemon reload ${n + 1}`, () => reloaded() > n, 30_000);
    await sleep(SETTLE);
    return at;
  };
  const ipvs = () => lab.sh(lab.ns('i'), 'ipvsadm -Ln');

  await settled('the daemon master', () => daemonStates(lab, daemon, 'VI_1').includes('MASTER'), START_MS);
  assert.match(ipvs(), /TCP {2}10\.80\.0\.100:80 rr\n\s+-> 10\.80\.0\.11:80\s+Route\s+1/, 'the virtual server is in IPVS');
  const kaNotify = `  notify "/bin/sh -c 'echo $* >> ${kaNotes}' notify"`;
  const peer = (vrid: number, name: string, priority: number, vip: string) => instanceConf({ name, vrid, priority, vips: [`${vip}/24`], extra: kaNotify });
  const ka = lab.keepalived('k', peer(50, 'VI_1', 100, '10.80.0.100'), 'keepalived');
  await settled('keepalived backup', () => lab.states(ka, 'VI_1').includes('BACKUP'), START_MS);
  await sleep(3 * ADV + ADV);
  await settled('the VIP on the daemon only', () => lab.addresses('i').includes('10.80.0.100') && !lab.addresses('k').includes('10.80.0.100'), 10_000);
  const cap = await lab.capture();
  const notesBefore = lines(notes).length;
  const kaNotesBefore = lines(kaNotes).length;

  await reload(edits[1]!);
  const afterVs = ipvs();
  await reload(edits[2]!);
  // The operator adds the second instance on both directors, ipvs-ts first (its 150 then wins the election).
  const vi2At = Date.now();
  lab.reload(daemon, 'daemon', edits[3]!);
  await settled('daemon reload 3', () => reloaded() === 3, 30_000);
  lab.reload(ka, 'keepalived', peer(50, 'VI_1', 100, '10.80.0.100') + peer(51, 'VI_2', 50, '10.80.0.101'));
  await settled('the daemon elected for VI_2', () => daemonStates(lab, daemon, 'VI_2').includes('MASTER'), 20_000);
  await sleep(SETTLE);
  const raisedAt = await reload(edits[4]!);
  const ads = await cap.stop();

  const byIpvs = from(ads, I);
  const byKa = from(ads, K);
  const prioZero = byIpvs.filter((a) => a.priority === 0).length;
  const first160 = byIpvs.find((a) => a.vrid === 50 && a.priority === 160);
  const vi2Ads = byIpvs.filter((a) => a.vrid === 51 && a.priority === 150).length;
  const notesDuring = lines(notes).slice(notesBefore);
  const kaNotesDuring = lines(kaNotes).slice(kaNotesBefore);
  t.diagnostic(
    `${ads.length} adverts captured over 4 reloads; ipvs-ts daemon: ${prioZero} priority-0 advert(s), VI_1 entered ${JSON.stringify(daemonStates(lab, daemon, 'VI_1'))}, ` +
      `VI_2 ${vi2Ads} advert(s) (entered ${JSON.stringify(daemonStates(lab, daemon, 'VI_2'))}, the first ${first(byIpvs, 51, vi2At)} ms after its SIGHUP); keepalived backup: ${byKa.length} advert(s), ` +
      `VI_1 entered ${JSON.stringify(lab.states(ka, 'VI_1'))}; notify during the reloads: daemon ${JSON.stringify(notesDuring)}, keepalived ${JSON.stringify(kaNotesDuring)}; ` +
      `priority 160 on the wire ${first160 ? (first160.timeMs - raisedAt).toFixed(1) : '-'} ms after SIGHUP; IPVS services ${ipvs().match(/^TCP /gm)?.length ?? 0}`,
  );
  assert.equal(prioZero, 0, 'no priority-0 advert from the daemon');
  assert.equal(byKa.length, 0, 'the keepalived backup sent nothing: it never saw a reason to take over');
  assert.deepEqual(daemonStates(lab, daemon, 'VI_1'), ['BACKUP', 'MASTER'], 'VI_1 on the daemon: only the start-up election');
  assert.ok(!lab.states(ka, 'VI_1').includes('MASTER') && !lab.states(ka, 'VI_2').includes('MASTER'), 'keepalived never became master');
  assert.deepEqual(notesDuring.filter((l) => l.includes('VI_1')), [], 'no notify for VI_1 on the daemon');
  assert.deepEqual(kaNotesDuring.filter((l) => l.includes('VI_1')), [], 'no notify for VI_1 on keepalived');
  // Every edit applied: the second virtual server in IPVS, the new instance elected, the new priority on the wire.
  assert.match(afterVs, /TCP {2}10\.80\.0\.100:443 rr\n\s+-> 10\.80\.0\.11:443\s+Route\s+1/, 'the added virtual server is in IPVS');
  assert.match(ipvs(), /TCP {2}10\.80\.0\.100:80 rr[\s\S]*TCP {2}10\.80\.0\.100:443 rr/, 'both virtual servers still in IPVS');
  assert.equal(reloaded(), 4, 'four reloads applied');
  assert.deepEqual(daemonStates(lab, daemon, 'VI_2'), ['BACKUP', 'MASTER']);
  assert.deepEqual(notesDuring, ['INSTANCE VI_2 BACKUP 150', 'INSTANCE VI_2 MASTER 150']);
  assert.ok(vi2Ads > 0, "VI_2's adverts on the wire");
  assert.ok(first160 !== undefined && first160.timeMs - raisedAt < ADV / 2, 'priority 160 sent on the reload');
  assert.ok(byIpvs.filter((a) => a.vrid === 50 && a.timeMs > first160.timeMs).every((a) => a.priority === 160));
  assert.ok(['10.80.0.100', '10.80.0.101'].every((v) => lab.addresses('i').includes(v) && !lab.addresses('k').includes(v)));
});

/** Ms from `at` (wall clock) to the first advert for `vrid`, or '-'. */
function first(ads: readonly AdvertFields[], vrid: number, at: number): string {
  const a = ads.find((x) => x.vrid === vrid);
  return a ? (a.timeMs - at).toFixed(0) : '-';
}
