// PING_CHECK for real: loopback in this process, and a two-namespace lab (the checker in one, the target in the
// other, joined by a veth pair) where the target's address is removed, the socket kind switches from raw to ping
// socket with net.ipv4.ping_group_range, and an unroutable target fails at once. Namespaces are always removed.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { test, type TestContext } from 'node:test';
import { checkPing } from '../../src/check/ping.ts';
import { echoReply, echoRequest, checksum } from '../../src/check/icmp.ts';
import type { CheckResult } from '../../src/check/types.ts';
import { pingCheck } from './model.ts';

const never = new AbortController().signal;

/** Skips when this host gives this process no ICMP socket (not root and ping sockets not allowed). */
async function pingOrSkip(t: TestContext, address: string): Promise<CheckResult | undefined> {
  const r = await checkPing(pingCheck({ connectIp: address, connectTimeoutMs: 2000 }), never);
  if (r.code === 'SOCKET_ERROR' && /EPERM|no ICMP socket/.test(r.reason)) {
    t.skip(`no ICMP socket here: ${r.reason}`);
    return undefined;
  }
  return r;
}

test('ICMP echo codec: the IPv4 checksum verifies, replies are told from requests, raw IPv4 headers are skipped', () => {
  const req = echoRequest(4, { id: 0x1234, sequence: 7 }, Buffer.from('abc'));
  assert.equal(checksum(req), 0, 'a message with its checksum sums to zero');
  assert.equal(echoReply(4, req, false), undefined, 'our own request looped back is not a reply');
  const reply = Buffer.from(req);
  reply[0] = 0;
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  assert.deepEqual(echoReply(4, Buffer.concat([ip, reply]), true), { id: 0x1234, sequence: 7 });
  const v6 = echoRequest(6, { id: 1, sequence: 2 }, Buffer.alloc(0));
  assert.equal(v6.readUInt16BE(2), 0, 'ICMPv6 checksums are left to the kernel');
  v6[0] = 129;
  assert.deepEqual(echoReply(6, v6, false), { id: 1, sequence: 2 });
});

test('PING_CHECK passes against 127.0.0.1 and ::1', async (t) => {
  for (const address of ['127.0.0.1', '::1']) {
    const r = await pingOrSkip(t, address);
    if (!r) return;
    assert.equal(r.ok, true, `${address}: ${r.reason}`);
    assert.equal(r.reason, 'echo reply');
  }
});

test('concurrent PING_CHECKs to one address each take their own reply', async (t) => {
  if (!(await pingOrSkip(t, '127.0.0.1'))) return;
  const results = await Promise.all(Array.from({ length: 20 }, () => checkPing(pingCheck({ connectIp: '127.0.0.1', connectTimeoutMs: 2000 }), never)));
  assert.deepEqual(results.map((r) => r.ok), results.map(() => true), results.map((r) => r.reason).join(', '));
});

test('PING_CHECK stops at once when aborted', async (t) => {
  if (!(await pingOrSkip(t, '127.0.0.1'))) return;
  const ac = new AbortController();
  ac.abort();
  const r = await checkPing(pingCheck({ connectIp: '127.0.0.1' }), ac.signal);
  assert.equal(r.code, 'ABORTED');
});

test('PING_CHECK in namespaces: up, then down once the target address is gone; raw or ping socket; no route fails at once', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root for ip netns');
  const [a, b] = [`ipvsts-ping-a-${process.pid}`, `ipvsts-ping-b-${process.pid}`];
  const made = spawnSync('ip', ['netns', 'add', a], { encoding: 'utf8' });
  if (made.error || made.status !== 0) return t.skip(`ip netns unavailable: ${made.error?.message ?? made.stderr.trim()}`);
  try {
    execFileSync('ip', ['netns', 'add', b]);
    const ip = (ns: string, ...args: string[]) => execFileSync('ip', ['-n', ns, ...args], { stdio: 'pipe' });
    ip(a, 'link', 'add', 'pa0', 'type', 'veth', 'peer', 'name', 'pb0', 'netns', b);
    ip(a, 'addr', 'add', '10.99.0.1/24', 'dev', 'pa0');
    ip(a, 'addr', 'add', 'fd99::1/64', 'dev', 'pa0', 'nodad');
    ip(b, 'addr', 'add', '10.99.0.2/24', 'dev', 'pb0');
    ip(b, 'addr', 'add', 'fd99::2/64', 'dev', 'pb0', 'nodad');
    for (const [ns, dev] of [[a, 'pa0'], [b, 'pb0'], [a, 'lo'], [b, 'lo']] as const) ip(ns, 'link', 'set', dev, 'up');
    const child = new URL('./ping-child.ts', import.meta.url).pathname;
    const ping = (address: string, timeoutMs = 2000): { kind: string; result: CheckResult } => {
      const r = spawnSync('ip', ['netns', 'exec', a, process.execPath, child, address, String(timeoutMs)], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, `child failed: ${r.stderr}`);
      return JSON.parse(r.stdout);
    };

    // A new namespace's ping_group_range is "1 0" (no group): root gets a raw socket.
    for (const address of ['10.99.0.2', 'fd99::2']) {
      const { kind, result } = ping(address);
      assert.equal(kind, 'raw');
      assert.equal(result.ok, true, `${address}: ${result.reason}`);
    }
    execFileSync('ip', ['netns', 'exec', a, 'sysctl', '-qw', 'net.ipv4.ping_group_range=0 2147483647']);
    for (const address of ['10.99.0.2', 'fd99::2']) {
      const { kind, result } = ping(address);
      assert.equal(kind, 'ping');
      assert.equal(result.ok, true, `${address}: ${result.reason}`);
    }

    ip(b, 'addr', 'del', '10.99.0.2/24', 'dev', 'pb0');
    ip(b, 'addr', 'del', 'fd99::2/64', 'dev', 'pb0');
    for (const address of ['10.99.0.2', 'fd99::2']) {
      const { result } = ping(address, 500);
      assert.equal(result.ok, false, address);
      assert.equal(result.code, 'ICMP_TIMEOUT', `${address}: ${result.reason}`);
      assert.ok(result.latencyMs >= 490 && result.latencyMs < 2000, `${address}: latency ${result.latencyMs}`);
    }

    // No route to it: the kernel refuses the send, so the check fails without waiting for connect_timeout.
    const { result } = ping('203.0.113.1', 5000);
    assert.equal(result.code, 'ICMP_UNREACHABLE', result.reason);
    assert.ok(result.latencyMs < 1000, `latency ${result.latencyMs}`);
  } finally {
    spawnSync('ip', ['netns', 'del', a]);
    spawnSync('ip', ['netns', 'del', b]);
  }
});
