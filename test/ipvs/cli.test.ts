import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';

const hostHasIpvs = existsSync('/proc/net/ip_vs');

test('without IPVS in the kernel, ipvs list and apply say so in one line and exit non-zero', { skip: hostHasIpvs && 'this host has IPVS loaded' }, () => {
  for (const args of [['ipvs', 'list'], ['ipvs', 'apply', '-f', 'deploy/examples/lvs-nat-tcp.conf', '--dry-run', '--state', '/nonexistent/state.json']]) {
    const r = spawnSync(process.execPath, ['bin/ipvs-ts.js', ...args], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'ipvs-ts: IPVS is not available in this kernel: load it with `modprobe ip_vs` [IPVS_UNAVAILABLE]\n');
  }
});
