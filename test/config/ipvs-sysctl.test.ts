// The ipvs_sysctl block: values as the kernel prints them, every mistake at its file:line:col, check-config's
// acceptance and what keepalived -t makes of a file with the block.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { runCheckConfig } from '../../src/cli/check-config-run.ts';
import { parseConfigText, type Problem } from '../../src/config/index.ts';

const parse = (text: string) => parseConfigText(text, 'k.conf', { skipHostChecks: true });
const summary = (ps: Problem[]): string[] => ps.map((p) => `${p.severity} ${p.code} ${p.pos?.line}:${p.pos?.col} ${p.message}`);

test('ipvs_sysctl: values in the order written, as the kernel prints them', () => {
  const { config, problems } = parse(`ipvs_sysctl {
  sloppy_tcp 1
  expire_nodest_conn 1
  sync_threshold 3 10
  sync_ports 4
  conn_reuse_mode 0
}`);
  assert.deepEqual(summary(problems), []);
  assert.deepEqual(config?.ipvsSysctl?.values.map(({ key, value, pos }) => [key, value, pos.line]), [
    ['sloppy_tcp', '1', 2], ['expire_nodest_conn', '1', 3], ['sync_threshold', '3 10', 4], ['sync_ports', '4', 5], ['conn_reuse_mode', '0', 6],
  ]);
  assert.equal(parse('global_defs {\n}\n').config?.ipvsSysctl, undefined);
});

test('ipvs_sysctl: mistakes at their positions', () => {
  const { config, problems } = parse(`ipvs_sysctl {
  sloppy_tpc 1
  sloppy_tcp yes
  expire_nodest_conn 2
  sync_threshold 50 3
  sync_threshold 3
  sync_ports 3
  conn_reuse_mode 1
  conn_reuse_mode 0
  conntrack 1 {
  }
}
ipvs_sysctl {
}`);
  assert.equal(config, undefined);
  assert.deepEqual(summary(problems), [
    "error unknown-keyword 2:3 unknown keyword 'sloppy_tpc' in ipvs_sysctl; did you mean 'sloppy_tcp'?",
    "error bad-value 3:14 ipvs_sysctl sloppy_tcp: 'yes' is not a whole number",
    'error range 4:22 ipvs_sysctl expire_nodest_conn 2 is out of range 0-1',
    'error bad-value 5:18 ipvs_sysctl sync_threshold: the threshold (50) must be below the period (3), or the period 0 (sync once)',
    'error arguments 6:3 sync_threshold is missing an argument; usage: sync_threshold THRESHOLD PERIOD',
    'error bad-value 7:14 ipvs_sysctl sync_ports: 3 is not a power of two (the kernel accepts 1, 2, 4 … 128)',
    'error duplicate 9:3 ipvs_sysctl: conn_reuse_mode is set twice (first at line 8)',
    'error arguments 10:3 conntrack does not take a { } block',
    'error duplicate 13:1 ipvs_sysctl is defined twice (first at k.conf:1:1)',
  ]);
});

test('check-config accepts the block (even --strict) and --json carries it; keepalived -t names every line unknown and exits 5', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ipvsts-sysctlconf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'keepalived.conf');
  writeFileSync(file, `ipvs_sysctl {
    sloppy_tcp 1
    expire_nodest_conn 1
    sync_threshold 3 10
}
virtual_server 192.0.2.10 80 {
    lb_algo mh
    lb_kind DR
    protocol TCP
}
`);
  let text = '';
  const sink = new Writable({ write: (c: Buffer, _e, done) => { text += c.toString(); done(); } });
  assert.equal(runCheckConfig({ file, json: true, strict: true }, sink, sink), 0, text);
  const model = JSON.parse(text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1)) as { ipvsSysctl: { values: { key: string; value: string }[] } };
  assert.deepEqual(model.ipvsSysctl.values.map((v) => `${v.key}=${v.value}`), ['sloppy_tcp=1', 'expire_nodest_conn=1', 'sync_threshold=3 10']);
  const k = spawnSync('keepalived', ['-t', '-f', file], { encoding: 'utf8' });
  if (k.error) return t.skip('keepalived is not installed');
  assert.equal(k.status, 5, k.stderr);
  for (const [line, word] of [[1, 'ipvs_sysctl'], [2, 'sloppy_tcp'], [3, 'expire_nodest_conn'], [4, 'sync_threshold'], [5, '}']] as const) {
    assert.match(k.stderr, new RegExp(`\\(Line ${line}\\) Unknown keyword '${word}'`));
  }
  assert.match(k.stderr, /\(Line 1\) Unexpected '\{' - ignoring/);
});
