// Namespace lab: vrrp_strict's firewall. A strict instance without accept mode holds its VIP but the VIP answers
// nothing (ipvs-ts's own `inet ipvs-ts` nftables table drops it); with `accept` it answers. The table goes on stop,
// a killed run's table is replaced (not duplicated) at the next start, other tables are never touched, and a strict
// keepalived and a strict ipvs-ts (both configured with authentication, which strict mode drops) elect one master.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { haveCommand, instanceConf, Lab, labUnavailable, START_MS, sleep, waitFor } from './lab.ts';
import { masterDownMs } from '../../src/vrrp/machine.ts';

const skip = labUnavailable() ?? (haveCommand('nft') ? undefined : 'needs nft (Debian package nftables)');
const ADV = 100;
const VIP = '10.81.0.100';
const VIP2 = '10.81.0.101';
const STRICT = 'global_defs {\n  vrrp_strict\n}\n';

function lan(lab: Lab): void {
  lab.setup({ d1: ['10.81.0.1/24'], d2: ['10.81.0.2/24'], client: ['10.81.0.9/24'] });
}

function pings(lab: Lab, addr: string): boolean {
  try {
    lab.sh(lab.ns('client'), `ping -c 1 -W 1 ${addr} >/dev/null`);
    return true;
  } catch {
    return false;
  }
}

const tables = (lab: Lab, node: string): string[] => lab.sh(lab.ns(node), 'nft list tables').trim().split('\n').filter(Boolean);
const has = (lab: Lab, node: string, addr: string) => lab.addresses(node).includes(addr);

test('strict, no accept: the master holds the VIP but it answers nothing; with accept it answers; a reload moves the rule; stop removes the table', { skip }, async (t) => {
  const lab = new Lab('strict');
  t.after(() => lab.cleanup());
  lan(lab);
  lab.sh(lab.ns('d1'), 'nft add table inet other && nft add chain inet other c');
  const conf = STRICT +
    instanceConf({ name: 'NOACC', vrid: 11, priority: 100, advert: ADV / 1000, vips: [`${VIP}/24`] }) +
    instanceConf({ name: 'ACC', vrid: 12, priority: 100, advert: ADV / 1000, vips: [`${VIP2}/24`], extra: '  accept' });
  const d1 = lab.ipvsTs('d1', conf);
  await waitFor('both VIPs on d1', () => has(lab, 'd1', VIP) && has(lab, 'd1', VIP2), START_MS).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails()}`);
  });
  assert.ok(pings(lab, VIP2), 'the accept instance\'s VIP answers');
  assert.ok(!pings(lab, VIP), 'the no_accept instance\'s VIP answers nothing');
  assert.ok(pings(lab, '10.81.0.1'), 'the director\'s own address still answers');
  const table = lab.sh(lab.ns('d1'), 'nft list table inet ipvs-ts');
  assert.match(table, new RegExp(`set vips4 \\{[^}]*elements = \\{ ${VIP.replaceAll('.', '\\.')} \\}`));
  assert.doesNotMatch(table, new RegExp(VIP2.replaceAll('.', '\\.')));
  assert.deepEqual(tables(lab, 'd1').sort(), ['table inet ipvs-ts', 'table inet other']);
  // A reload that swaps the two instances' accept modes moves the drop rule without an election.
  lab.reload(d1, 'ipvs-ts-d1', STRICT +
    instanceConf({ name: 'NOACC', vrid: 11, priority: 100, advert: ADV / 1000, vips: [`${VIP}/24`], extra: '  accept' }) +
    instanceConf({ name: 'ACC', vrid: 12, priority: 100, advert: ADV / 1000, vips: [`${VIP2}/24`], extra: '  no_accept' }));
  await waitFor('the drop rule moved', () => /elements = \{ 10\.81\.0\.101 \}/.test(lab.sh(lab.ns('d1'), 'nft list set inet ipvs-ts vips4')), START_MS, 50);
  assert.ok(pings(lab, VIP) && !pings(lab, VIP2), 'after the reload VIP answers and VIP2 does not');
  assert.equal(lab.entered(d1, 'MASTER'), 2, 'no new election');
  assert.equal(await lab.stop(d1), 0);
  assert.deepEqual(tables(lab, 'd1'), ['table inet other'], 'the table is gone after stop; the other table is untouched');
});

test('strict: a table left by a killed run is replaced at the next start, never duplicated', { skip }, async (t) => {
  const lab = new Lab('stale');
  t.after(() => lab.cleanup());
  lan(lab);
  const conf = STRICT + instanceConf({ vrid: 13, priority: 100, advert: ADV / 1000, vips: [`${VIP}/24`] });
  const first = lab.ipvsTs('d1', conf, 'first');
  await waitFor('VIP on d1', () => has(lab, 'd1', VIP), START_MS);
  first.child.kill('SIGKILL');
  await first.exited;
  assert.match(lab.sh(lab.ns('d1'), 'nft list table inet ipvs-ts'), /elements = \{ 10\.81\.0\.100 \}/, 'the killed run left its table');
  // The stale drop rule alone would make the VIP answer nothing even on a non-strict run: it must go at start.
  const second = lab.ipvsTs('d1', instanceConf({ vrid: 13, priority: 100, advert: ADV / 1000, vips: [`${VIP}/24`] }), 'second');
  await waitFor('the stale table removed', () => !tables(lab, 'd1').includes('table inet ipvs-ts'), START_MS);
  // The killed run's VIP is still there until the new run starts: wait for the new run's own MASTER.
  await waitFor('second master', () => lab.entered(second, 'MASTER') > 0 && has(lab, 'd1', VIP), START_MS);
  assert.ok(pings(lab, VIP), 'a non-strict run after a strict one: the VIP answers');
  second.child.kill('SIGKILL');
  await second.exited;
  lab.sh(lab.ns('d1'), 'nft add element inet ipvs-ts vips4 { 10.81.0.77 } 2>/dev/null || (nft add table inet ipvs-ts && nft add set inet ipvs-ts vips4 "{ type ipv4_addr; }" && nft add element inet ipvs-ts vips4 "{ 10.81.0.77 }")');
  const third = lab.ipvsTs('d1', conf, 'third');
  await waitFor('third master', () => lab.entered(third, 'MASTER') > 0 && has(lab, 'd1', VIP), START_MS);
  assert.deepEqual(tables(lab, 'd1'), ['table inet ipvs-ts'], 'one table');
  const table = lab.sh(lab.ns('d1'), 'nft list table inet ipvs-ts');
  assert.match(table, /set vips4 \{[^}]*elements = \{ 10\.81\.0\.100 \}/, 'rebuilt: the stale element is gone');
  assert.ok(!pings(lab, VIP));
  assert.equal(await lab.stop(third), 0);
  assert.deepEqual(tables(lab, 'd1'), []);
});

test('strict keepalived and strict ipvs-ts, both configured with authentication: one master, the VIP answers nothing', { skip: skip ?? (haveCommand('keepalived') ? undefined : 'needs keepalived') }, async (t) => {
  const lab = new Lab('skad');
  t.after(() => lab.cleanup());
  lan(lab);
  // Different passwords: were either side to keep authentication, the two would not hear each other and both be master.
  const conf = (priority: number, pass: string) => STRICT + instanceConf({ vrid: 14, priority, advert: ADV / 1000, vips: [`${VIP}/24`], pass });
  const ka = lab.keepalived('d1', conf(200, 'one'));
  await waitFor('keepalived master', () => lab.entered(ka, 'MASTER') > 0, START_MS).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails()}`);
  });
  const ts = lab.ipvsTs('d2', conf(100, 'two'));
  await waitFor('ipvs-ts backup', () => lab.entered(ts, 'BACKUP') > 0, START_MS);
  await sleep(masterDownMs(100, ADV) * 4);
  assert.equal(lab.entered(ts, 'MASTER'), 0, `ipvs-ts never became master\n${lab.logTails()}`);
  assert.ok(has(lab, 'd1', VIP) && !has(lab, 'd2', VIP));
  assert.ok(!pings(lab, VIP), 'keepalived\'s strict VIP answers nothing either');
  // The takeover: ipvs-ts becomes master and drops the VIP's traffic as keepalived did.
  await lab.stop(ka);
  await waitFor('ipvs-ts takes over', () => has(lab, 'd2', VIP), START_MS);
  assert.match(lab.sh(lab.ns('d2'), 'nft list table inet ipvs-ts'), /elements = \{ 10\.81\.0\.100 \}/);
  assert.ok(!pings(lab, VIP));
});
