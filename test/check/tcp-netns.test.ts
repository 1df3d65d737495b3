// TCP_CHECK timeouts against blackholed addresses, IPv4 and IPv6: in a namespace this test creates and always
// removes, SYNs go out of one end of a veth pair to a MAC nobody has (permanent neighbour entries, so no ARP or ND
// fails first) and are dropped at the other end; a child Node process runs the checks there.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'node:test';

const ns = `ipvsts-tcp-${process.pid}`;

interface Result { ok: boolean; code?: string; reason: string; latencyMs: number }

test('TCP_CHECK: a blackholed IPv4 or IPv6 address times out at connect_timeout; closed ports are refused', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root for ip netns');
  const made = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  if (made.error || made.status !== 0) return t.skip(`ip netns unavailable: ${made.error?.message ?? made.stderr.trim()}`);
  try {
    const ip = (...args: string[]) => execFileSync('ip', ['-n', ns, ...args], { stdio: 'pipe' });
    ip('link', 'set', 'lo', 'up');
    ip('link', 'add', 'hole0', 'type', 'veth', 'peer', 'name', 'hole1');
    ip('link', 'set', 'hole0', 'up');
    ip('link', 'set', 'hole1', 'up');
    ip('addr', 'add', '10.77.0.1/24', 'dev', 'hole0');
    ip('-6', 'addr', 'add', '2001:db8:77::1/64', 'dev', 'hole0', 'nodad');
    for (const to of ['10.77.0.2', '10.77.0.3', '2001:db8:77::2']) {
      ip('neigh', 'add', to, 'lladdr', '02:00:00:00:77:99', 'dev', 'hole0', 'nud', 'permanent');
    }
    const child = new URL('./tcp-netns-child.ts', import.meta.url).pathname;
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, child], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `child failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as Record<'v4' | 'v6' | 'v4Short' | 'refused4' | 'refused6', Result>;
    for (const [name, ms] of [['v4', 400], ['v6', 400], ['v4Short', 150]] as const) {
      assert.equal(out[name].code, 'CONNECT_TIMEOUT', `${name}: ${out[name].reason}`);
      assert.equal(out[name].reason, `no connection within ${ms} ms`);
      assert.ok(out[name].latencyMs >= ms && out[name].latencyMs < ms + 1_000, `${name}: latency ${out[name].latencyMs}`);
    }
    assert.equal(out.refused4.code, 'CONNECT_REFUSED', out.refused4.reason);
    assert.equal(out.refused6.code, 'CONNECT_REFUSED', out.refused6.reason);
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
});
