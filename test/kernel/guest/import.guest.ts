// Runs INSIDE the test VM; started by test/kernel/import.vmtest.ts. `ipvs-ts import ipvsadm` against a real kernel:
// each input is applied as its author would (ipvsadm-restore for a save, sh for a script), the table read back with
// `ipvsadm -Sn` and `-Ln --thresholds`; then the table is flushed, the imported keepalived.conf applied with
// `ipvs-ts ipvs apply -f`, and the two readings must be equal, rule for rule.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { runIpvsApply } from '../../../src/cli/ipvs-apply-run.ts';
import { SCHEDULERS } from '../../../src/ipvs/constants.ts';
import { importIpvsadm } from '../../../src/import/ipvsadm.ts';
import { formatNote, Notes } from '../../../src/import/notes.ts';
import { systemResolver } from '../../../src/import/resolve.ts';
import { writeLvsConfig } from '../../../src/import/write-lvs.ts';
import { availableSchedulers, ipvsadmRules, ipvsadmThresholds, sh } from './ipvs-kit.ts';

const dir = mkdtempSync(join(tmpdir(), 'ipvsts-import-'));
const fixture = (path: string): string => new URL(`../../fixtures/${path}`, import.meta.url).pathname;

before(() => sh(`modprobe -a ip_vs ${availableSchedulers(SCHEDULERS).map((s) => `ip_vs_${s}`).join(' ')}`));
after(() => {
  sh('ipvsadm -C');
  rmSync(dir, { recursive: true, force: true });
});

interface Reading {
  readonly rules: string[];
  readonly thresholds: string[];
}

const read = (): Reading => ({ rules: ipvsadmRules(), thresholds: ipvsadmThresholds() });

/** Imports `text`, applies the config to a flushed table with `ipvs apply`, and reads the table back. */
async function applyImported(text: string, name: string): Promise<Reading & { warnings: string[] }> {
  const notes = new Notes();
  const conf = writeLvsConfig(await importIpvsadm(text, name, systemResolver(), notes), name);
  assert.deepEqual(notes.list.filter((n) => n.severity === 'error').map(formatNote), []);
  const file = join(dir, `${name.replace(/\W/g, '_')}.conf`);
  const state = join(dir, 'ipvs-state.json');
  writeFileSync(file, conf);
  rmSync(state, { force: true });
  sh('ipvsadm -C');
  let out = '';
  const sink = new Writable({ write: (c, _e, cb) => { out += String(c); cb(); } });
  assert.equal(await runIpvsApply({ file, state }, sink, sink), 0, out);
  return { ...read(), warnings: notes.list.map(formatNote) };
}

/** The input applied the way its author did, then the import of it: the kernel must hold the same table. */
async function sameTable(t: { diagnostic(s: string): void }, text: string, name: string, applyOriginal: (path: string) => void): Promise<Reading> {
  const path = join(dir, name);
  writeFileSync(path, text);
  sh('ipvsadm -C');
  applyOriginal(path);
  const original = read();
  assert.ok(original.rules.length > 0, `${name} programmed nothing`);
  const imported = await applyImported(text, name);
  assert.deepEqual(imported.rules, original.rules);
  assert.deepEqual(imported.thresholds, original.thresholds);
  t.diagnostic(`${name}: ${original.rules.filter((r) => r.startsWith('-A')).length} services, ${original.rules.filter((r) => r.startsWith('-a')).length} real servers equal; ${imported.warnings.length} warnings`);
  return original;
}

// Director scripts also configure the host; in the VM those commands are stubbed so only their ipvsadm lines act.
const STUBS = 'ifconfig() { :; }; route() { :; }; iptables() { :; }';

test('an ipvsadm-restore of a save with every setting ipvsadm -S shows equals `ipvs apply` of its import', async (t) => {
  await sameTable(t, readFileSync(fixture('ipvsadm/every-setting.save'), 'utf8'), 'every-setting.save', (p) => sh(`ipvsadm-restore < ${p}`));
});

test('a script with edits along the way (-C, -E, -e, -d, -D, thresholds) equals `ipvs apply` of its import', async (t) => {
  await sameTable(t, readFileSync(fixture('ipvsadm/edits.sh'), 'utf8'), 'edits.sh', (p) => sh(`sh ${p} >/dev/null`));
});

test("the seed guides' NAT and DR director scripts equal `ipvs apply` of their imports", async (t) => {
  for (const seed of ['lvs-nat-director.sh', 'lvs-dr-director.sh']) {
    await sameTable(t, readFileSync(fixture(`seeds/${seed}`), 'utf8'), seed, (p) => sh(`bash -c '${STUBS}; . ${p}' >/dev/null 2>&1 || true`));
  }
});

test('what ipvsadm -Sn and ipvsadm -S (names) print of a live table imports back to the same table', async (t) => {
  sh('ipvsadm -C');
  sh(`ipvsadm-restore < ${fixture('ipvsadm/every-setting.save')}`);
  const live = read();
  for (const flags of ['-Sn', '-S']) {
    const dump = sh(`ipvsadm ${flags}`);
    const back = await applyImported(dump, `ipvsadm ${flags}`);
    assert.deepEqual(back.rules, live.rules, flags);
    assert.deepEqual(back.thresholds, live.thresholds, flags);
    t.diagnostic(`ipvsadm ${flags}: ${dump.split('\n').filter(Boolean).length} lines imported back to the same table`);
  }
});
