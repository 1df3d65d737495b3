// VRRP's track_file as keepalived 2.2's track_file.c: value × weight moves the priority, −254 or below is FAULT,
// weight 0 makes the value a status; the config's blocks, the sync-group rule, the reload planner and the follower.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText, type Config } from '../../src/config/index.ts';
import { instanceSettings } from '../../src/vrrp/instance-settings.ts';
import { planVrrpReload } from '../../src/vrrp/reload-plan.ts';
import { effectivePriority, fileEffect } from '../../src/vrrp/track.ts';
import { TrackFiles } from '../../src/vrrp/track-files.ts';

const parse = (text: string) => parseConfigText(text, 'k.conf', { skipHostChecks: true });

test('fileEffect: value × weight, reverse negates, −254 or below is FAULT, at most +253; weight 0 is a status', () => {
  assert.deepEqual(fileEffect(5, 2, false), { delta: 10, fault: false });
  assert.deepEqual(fileEffect(5, 2, true), { delta: -10, fault: false });
  assert.deepEqual(fileEffect(-127, 2, false), { delta: 0, fault: true });
  assert.deepEqual(fileEffect(-253, 1, false), { delta: -253, fault: false });
  assert.deepEqual(fileEffect(1000, 1, false), { delta: 253, fault: false });
  assert.deepEqual(fileEffect(0, 0, false), { delta: 0, fault: false });
  assert.deepEqual(fileEffect(3, 0, false), { delta: 0, fault: true });
  assert.deepEqual(fileEffect(0, 0, true), { delta: 0, fault: true });
  assert.deepEqual(fileEffect(-1, 0, true), { delta: 0, fault: false });
});

test('effectivePriority adds files to scripts and interfaces and keeps 1..254', () => {
  assert.deepEqual(effectivePriority(100, [{ value: -30, weight: 1 }, { up: true, weight: 10 }]), { priority: 80, fault: false });
  assert.deepEqual(effectivePriority(100, [{ value: -99, weight: 1 }]), { priority: 1, fault: false });
  assert.deepEqual(effectivePriority(200, [{ value: 100, weight: 1 }]), { priority: 254, fault: false });
  assert.deepEqual(effectivePriority(100, [{ value: 1, weight: 0 }]), { priority: 100, fault: true });
});

const blocks = 'track_file maint {\n  file /run/maint\n  weight -2 reverse\n}\ntrack_file plain {\n  file /run/plain\n}\n';
const inst = (name: string, vrid: number, body: string) =>
  `vrrp_instance ${name} {\n  interface eth0\n  virtual_router_id ${vrid}\n  priority 100\n${body}\n  virtual_ipaddress { 10.0.0.${vrid}/24 }\n}\n`;

function configOf(text: string): Config {
  const r = parse(text);
  assert.ok(r.config, r.problems.map((p) => `${p.pos?.line}: ${p.message}`).join('\n'));
  return r.config;
}
const tracked = (c: Config, name: string) =>
  instanceSettings(c, c.vrrpInstances.find((i) => i.name === name)!, '10.0.0.1').tracked.filter((t) => t.kind === 'file').map((t) => `${t.name} ${t.weight}${t.reverse ? ' reverse' : ''}`);

test('config: track_file entries take the block\'s weight and reverse unless they set their own (noreverse undoes it)', () => {
  const r = parse(`${blocks}${inst('A', 1, '  track_file {\n    maint\n    plain weight 3 reverse\n  }')}${inst('B', 2, '  track_file {\n    maint weight 254 noreverse\n  }')}`);
  assert.deepEqual(r.problems, []);
  assert.deepEqual(tracked(r.config!, 'A'), ['maint -2 reverse', 'plain 3 reverse']);
  assert.deepEqual(tracked(r.config!, 'B'), ['maint 254']);
});

test('config: an unknown track_file, a bad weight or option are errors; an unused block is still warned', () => {
  const r = parse(`${blocks}${inst('A', 1, '  track_file {\n    mant\n    plain weight 255\n    maint weight 2 sideways\n  }')}`);
  assert.deepEqual(r.problems.map((p) => `${p.severity} ${p.code} ${p.pos?.line}`), ['error reference 13', 'error range 14', 'error bad-value 15']);
  assert.match(r.problems[0]!.message, /track_file mant names no top-level track_file block; did you mean 'maint'\?/);
  const unused = parse(`${blocks}${inst('A', 1, '  track_file {\n    maint\n  }')}`);
  assert.deepEqual(unused.problems.map((p) => p.message.replace(/ \(.*/, '')), ['not applied: track_file plain']);
});

test('sync group member: a file with the default weight 1 becomes a status (weight 0), another weight is dropped', () => {
  const text = `${blocks}${inst('A', 1, '  track_file {\n    plain\n    maint\n  }')}${inst('B', 2, '')}vrrp_sync_group G {\n  group { A B }\n  track_file { maint }\n}\n`;
  const r = parse(text);
  const c = r.config!;
  assert.deepEqual(tracked(c, 'A'), ['plain 0', 'maint -2 reverse']);
  assert.deepEqual(tracked(c, 'B'), ['maint -2 reverse'], 'the group\'s own file keeps its weight');
  assert.deepEqual(r.problems.map((p) => `${p.pos?.line} ${p.message.replace(/^(.*?:.*?:).*/, '$1')}`), [
    '13 vrrp_instance A: tracked file plain:',
    '14 vrrp_instance A: tracked file maint has a weight, so it is not tracked at all:',
  ]);
  assert.match(r.problems[0]!.message, /its weight is taken as 0 \(a non-zero value puts the instance and its group in FAULT\)/);
});

test('reload: a track_file block or entry that changes updates its instances in place; the others keep', () => {
  const a = configOf(`${blocks}${inst('A', 1, '  track_file {\n    maint\n  }')}${inst('B', 2, '  track_file {\n    plain\n  }')}`);
  const b = configOf(`${blocks.replace('weight -2', 'weight -5')}${inst('A', 1, '  track_file {\n    maint\n  }')}${inst('B', 2, '  track_file {\n    plain\n  }')}`);
  assert.deepEqual(planVrrpReload(a, b).instances.map((p) => (p.action === 'update' ? `update ${p.name}: ${p.changes.join(', ')}` : `${p.action} ${p.name}`)), [
    'update A: track_file maint',
    'keep B',
  ]);
  const c = configOf(`${blocks}${inst('A', 1, '  track_file {\n    maint weight 4\n  }')}${inst('B', 2, '  track_file {\n    plain\n  }')}`);
  assert.deepEqual(planVrrpReload(a, c).instances.map((p) => `${p.action} ${p.name}`), ['update A', 'keep B']);
});

test('TrackFiles: init_file, the value read before follow() resolves, a write, a rename and a delete seen', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ipvs-ts-vrrp-file-'));
  const changes: number[] = [];
  const log: string[] = [];
  let files: TrackFiles | undefined;
  t.after(() => {
    files?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const path = join(dir, 'prio');
  const seen = () => new Promise<void>((resolve) => {
    const at = changes.length;
    const poll = setInterval(() => {
      if (changes.length > at) {
        clearInterval(poll);
        resolve();
      }
    }, 5);
  });
  files = new TrackFiles((l) => log.push(l), () => changes.push(files!.value('p')));
  const cfg = { name: 'p', path, weight: 1, weightReverse: false, init: { value: 7, overwrite: false }, pos: { file: 'k.conf', line: 1, col: 1 } };
  await files.follow([cfg]);
  assert.equal(readFileSync(path, 'utf8'), '7\n');
  assert.equal(files.value('p'), 7);
  let next = seen();
  writeFileSync(path, '-12\n');
  await next;
  assert.equal(files.value('p'), -12);
  next = seen();
  writeFileSync(join(dir, 'tmp'), '0x10');
  renameSync(join(dir, 'tmp'), path);
  await next;
  assert.equal(files.value('p'), 16);
  next = seen();
  unlinkSync(path);
  await next;
  assert.equal(files.value('p'), 0, 'a missing file reads 0');
  await files.follow([]);
  assert.equal(files.value('p'), 0);
  assert.ok(log.some((l) => /now holds -12 \(was 7\)/.test(l)), log.join('\n'));
});
