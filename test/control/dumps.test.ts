// The dump writer in this process: SIGUSR1/SIGUSR2 reach the registered provider, files are written whole with mode
// 0600, a symlink planted at the target is replaced rather than written through, a failure is reported and
// leaves nothing behind; the daemon's statistics dump carries the VRRP counters in `ipvs-ts vrrp`'s shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provideDumps, type DumpReport } from '../../src/control/dumps.ts';
import { statisticsOf } from '../../src/director/status.ts';
import { config, harness } from '../director/fakes.ts';

// Node's test runner starts this file's process with diagnostic reports on SIGUSR2; they are not what is tested here
// and would be written into the working directory.
process.report.reportOnSignal = false;

function signalled(signal: 'SIGUSR1' | 'SIGUSR2', register: (report: (r: DumpReport) => void) => () => void): Promise<DumpReport> {
  return new Promise((resolve) => {
    const withdraw = register((r) => {
      withdraw();
      resolve(r);
    });
    process.kill(process.pid, signal);
  });
}

test('SIGUSR1 writes the data dump, SIGUSR2 the stats: whole JSON with writtenAt and pid, mode 0600', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dumps-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = { data: join(dir, 'x.data'), stats: join(dir, 'x.stats') };
  const register = (report: (r: DumpReport) => void) =>
    provideDumps({ data: { file: files.data, build: () => ({ what: 'state' }) }, stats: { file: files.stats, build: async () => ({ what: 'counters' }) }, report });
  assert.deepEqual(await signalled('SIGUSR1', register), { kind: 'data', file: files.data });
  assert.deepEqual(await signalled('SIGUSR2', register), { kind: 'stats', file: files.stats });
  for (const [file, what] of [[files.data, 'state'], [files.stats, 'counters']] as const) {
    const body = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    assert.equal(body.what, what);
    assert.equal(body.pid, process.pid);
    assert.ok(!Number.isNaN(Date.parse(String(body.writtenAt))));
    assert.equal(statSync(file).mode & 0o777, 0o600);
  }
  assert.deepEqual(readdirSync(dir).sort(), ['x.data', 'x.stats'], 'no temporary file is left');
});

test('a symlink planted at the dump path is replaced, its target untouched; a failing dump is reported and leaves nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dumps-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'precious\n');
  const file = join(dir, 'x.data');
  symlinkSync(victim, file);
  const ok = await signalled('SIGUSR1', (report) => provideDumps({ data: { file, build: () => ({}) }, stats: { file: join(dir, 'x.stats'), build: () => ({}) }, report }));
  assert.equal(ok.error, undefined);
  assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
  assert.ok(lstatSync(file).isFile());

  const failed = await signalled('SIGUSR2', (report) =>
    provideDumps({ data: { file, build: () => ({}) }, stats: { file: join(dir, 'x.stats'), build: () => Promise.reject(new Error('no status')) }, report }));
  assert.deepEqual(failed, { kind: 'stats', file: join(dir, 'x.stats'), error: 'no status' });
  const unwritable = await signalled('SIGUSR2', (report) =>
    provideDumps({ data: { file, build: () => ({}) }, stats: { file: join(dir, 'missing-dir', 'x.stats'), build: () => ({}) }, report }));
  assert.match(unwritable.error ?? '', /ENOENT/);
  assert.deepEqual(readdirSync(dir).sort(), ['victim', 'x.data']);
});

test("the daemon's statistics: VRRP instances with their counters and the unmatched drops, director and IPVS counters", async () => {
  const h = harness(config('vrrp_instance VI_1 {\n interface lo\n virtual_router_id 1\n priority 100\n virtual_ipaddress {\n 10.0.0.1/32\n }\n}\nvirtual_server 10.0.0.1 80 {\n real_server 10.1.0.1 80 {\n }\n}\n'));
  await h.director.start();
  const stats = statisticsOf(await h.director.status()) as { instances: { name: string }[]; unmatched: object; director: Record<string, number>; virtualServers: { name: string; services: { key: string }[] }[] };
  assert.deepEqual(stats.instances.map((i) => i.name), ['VI_1']);
  assert.deepEqual(stats.unmatched, {});
  assert.equal(stats.director.applies, 1);
  assert.deepEqual(stats.virtualServers.map((v) => [v.name, v.services.map((s) => s.key)]), [['TCP 10.0.0.1:80', ['TCP 10.0.0.1:80']]]);
  await h.director.stop();
});
