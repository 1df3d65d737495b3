// `ipvs-ts vrrp` refuses what it cannot run with one clear line and a stable code, before touching anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, instanceConf, NODE } from './lab.ts';
import { sys } from '../../src/sys/native.ts';

let skip: string | undefined;
try {
  sys();
} catch {
  skip = 'the native socket shim is not built';
}

function run(conf: string): { status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'h5cli-'));
  try {
    const file = join(dir, 'k.conf');
    writeFileSync(file, conf);
    const r = spawnSync(NODE, [CLI, 'vrrp', '-f', file], { encoding: 'utf8', timeout: 20_000 });
    return { status: r.status, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('vrrp: AH authentication is refused by the config check, at its line, as check-config refuses it', { skip }, () => {
  const r = run(instanceConf({ vrid: 1, priority: 100, version: 2, vips: ['127.0.0.9/32'], extra: '  authentication {\n    auth_type AH\n    auth_pass x\n  }' }).replace('eth0', 'lo'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^\S+\.conf:\d+:\d+: error: vrrp_instance VI_1: auth_type AH \(IPsec AH\) is not supported/m);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace');
});

test('vrrp: a missing interface is refused with VRRP_NO_INTERFACE', { skip }, () => {
  const r = run(instanceConf({ vrid: 1, priority: 100, vips: ['10.1.1.1/24'] }).replace('eth0', 'nosuch0'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /interface nosuch0 does not exist \[VRRP_NO_INTERFACE\]/);
});

test('vrrp: a config with errors prints the problems and exits 1', () => {
  const r = run('vrrp_instance X {\n  virtual_router_id 999\n}\n');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error/);
});
