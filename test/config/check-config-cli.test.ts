// `ipvs-ts check-config`: once through the real binary, the rest in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runCheckConfig, type CheckConfigOptions } from '../../src/cli/check-config-run.ts';

const bin = fileURLToPath(new URL('../../bin/ipvs-ts.js', import.meta.url));
const fixture = fileURLToPath(new URL('../fixtures/seeds/lvs-dr-tcp-check-master.conf', import.meta.url));

function capture(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

function run(opts: CheckConfigOptions): { status: number; stdout: string; stderr: string } {
  const out = capture();
  const err = capture();
  const status = runCheckConfig(opts, out.stream, err.stream);
  return { status, stdout: out.text(), stderr: err.text() };
}

test('ipvs-ts check-config -f FILE --json: exit 0, every warning positioned, the normalized model on stdout', () => {
  const r = spawnSync(process.execPath, [bin, 'check-config', '-f', fixture, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /lvs-dr-tcp-check-master\.conf:20:25: warning: persistence_timeout 0 means no persistence/);
  assert.match(r.stderr, /lvs-dr-tcp-check-master\.conf:27:13: warning: nb_get_retry is the old name of retry/);
  assert.match(r.stderr, /valid \(1 vrrp instance, 1 virtual server, 2 real servers; \d+ warnings\)/);
  const model = JSON.parse(r.stdout) as { virtualServers: { key: { address: string }; realServers: { checkers: { retry: number }[] }[] }[] };
  assert.equal(model.virtualServers[0]?.key.address, '192.168.1.100');
  assert.equal(model.virtualServers[0]?.realServers[0]?.checkers[0]?.retry, 3);
});

test('--strict turns warnings into errors and exits 1', () => {
  const r = run({ file: fixture, strict: true });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /:20:25: error: persistence_timeout 0/);
  assert.match(r.stderr, /invalid \(\d+ errors, 0 warnings\)/);
});

test('errors exit 1 with every positioned message and no stack trace; a missing file too', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ipvs-ts-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'bad.conf');
  writeFileSync(file, 'vrrp_instance VI_1 {\n  interface lo\n  virtual_router_id 300\n');
  const r = run({ file, json: true });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '', 'no model for an invalid config');
  assert.match(r.stderr, /bad\.conf:1:20: error: unbalanced braces/);
  assert.match(r.stderr, /bad\.conf:3:21: error: virtual_router_id 300 is out of range 1-255/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);

  const missing = run({ file: join(dir, 'none.conf') });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /error: cannot read .*none\.conf: no such file/);
});

test('--host makes host facts errors', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ipvs-ts-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'host.conf');
  writeFileSync(file, 'vrrp_instance VI_1 {\n  interface no-such-if0\n  virtual_router_id 3\n}\n');
  const soft = run({ file });
  assert.equal(soft.status, 0, soft.stderr);
  assert.match(soft.stderr, /warning: vrrp_instance VI_1: interface no-such-if0 does not exist/);
  const hard = run({ file, host: true });
  assert.equal(hard.status, 1);
  assert.match(hard.stderr, /error: vrrp_instance VI_1: interface no-such-if0 does not exist/);
});
