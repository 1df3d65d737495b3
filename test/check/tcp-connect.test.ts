// TCP_CHECK's bare non-blocking connects (src/check/tcp-connect.ts) on real loopback listeners: IPv6, bindto,
// many connects in flight behind the one deadline timer, keepalived's close, and no descriptor or timer left over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { checkTcp } from '../../src/check/tcp.ts';
import { tcpCheck } from './model.ts';
import { blackholePort, close, closedPort, listen } from './servers.ts';

const never = new AbortController().signal;
const openFds = () => readdirSync('/proc/self/fd').length;

async function hasIpv6Loopback(): Promise<boolean> {
  const probe = net.createServer();
  try {
    await listen(probe, '::1');
    await close(probe);
    return true;
  } catch {
    return false;
  }
}

test('TCP_CHECK over IPv6: up, refused, and from bindto/bind_port', async (t) => {
  if (!(await hasIpv6Loopback())) return t.skip('no IPv6 loopback');
  let remote: string | undefined;
  const server = net.createServer((s) => {
    remote = `[${s.remoteAddress}]:${s.remotePort}`;
    s.end();
  });
  const port = await listen(server, '::1');
  t.after(() => close(server));
  const up = await checkTcp(tcpCheck({ connectIp: '::1', connectPort: port }), never);
  assert.equal(up.ok, true, up.reason);
  const refused = await checkTcp(tcpCheck({ connectIp: '::1', connectPort: await closedPort() }), never);
  assert.equal(refused.code, 'CONNECT_REFUSED', refused.reason);
  const bindPort = await closedPort();
  const bound = await checkTcp(tcpCheck({ connectIp: '::1', connectPort: port, bindTo: '::1', bindPort }), never);
  assert.equal(bound.ok, true, bound.reason);
  await new Promise((res) => setTimeout(res, 20));
  assert.equal(remote, `[::1]:${bindPort}`);
});

test('TCP_CHECK from a bindto that is not local fails with the errno, as a net.Socket bind did', async () => {
  const r = await checkTcp(tcpCheck({ connectPort: await closedPort(), bindTo: '192.0.2.1' }), never);
  assert.equal(r.code, 'CONNECT_ERROR');
  assert.equal(r.reason, 'connection failed: EADDRNOTAVAIL');
});

test('TCP_CHECK closes with a normal FIN (no reset), as keepalived does', async (t) => {
  const seen: string[] = [];
  const server = net.createServer((s) => {
    s.on('end', () => seen.push('end'));
    s.on('error', (e: NodeJS.ErrnoException) => seen.push(e.code ?? e.message));
    s.resume();
  });
  const port = await listen(server);
  t.after(() => close(server));
  const r = await checkTcp(tcpCheck({ connectPort: port }), never);
  assert.equal(r.ok, true, r.reason);
  for (let i = 0; i < 50 && seen.length === 0; i++) await new Promise((res) => setTimeout(res, 10));
  assert.deepEqual(seen, ['end']);
});

test('TCP_CHECK: hundreds of connects in flight pass, fail and time out each by its own deadline, leaking no descriptor', async (t) => {
  const server = net.createServer((s) => s.destroy());
  server.maxConnections = 10_000;
  const port = await listen(server);
  t.after(() => close(server));
  const hole = await blackholePort();
  t.after(hole.close);
  const refusedPort = await closedPort();
  const before = openFds();
  const timeouts = [300, 100, 200];
  const runs = [
    ...Array.from({ length: 400 }, () => checkTcp(tcpCheck({ connectPort: port }), never).then((r) => ({ r, want: 'ok' }))),
    ...Array.from({ length: 100 }, () => checkTcp(tcpCheck({ connectPort: refusedPort }), never).then((r) => ({ r, want: 'CONNECT_REFUSED' }))),
    ...Array.from({ length: 30 }, (_, i) => {
      const connectTimeoutMs = timeouts[i % 3]!;
      return checkTcp(tcpCheck({ connectPort: hole.port, connectTimeoutMs }), never).then((r) => ({ r, want: `timeout ${connectTimeoutMs}` }));
    }),
  ];
  for (const { r, want } of await Promise.all(runs)) {
    if (want === 'ok') assert.equal(r.ok, true, r.reason);
    else if (want === 'CONNECT_REFUSED') assert.equal(r.code, want, r.reason);
    else {
      const ms = Number(want.split(' ')[1]);
      assert.equal(r.code, 'CONNECT_TIMEOUT', r.reason);
      assert.equal(r.reason, `no connection within ${ms} ms`);
      assert.ok(r.latencyMs >= ms && r.latencyMs < ms + 1_000, `${want}: latency ${r.latencyMs}`);
    }
  }
  assert.equal(openFds(), before);
});

test('TCP_CHECK: aborting the signal ends every pending connect at once; a new signal still works', async (t) => {
  const hole = await blackholePort();
  t.after(hole.close);
  const server = net.createServer((s) => s.end());
  const port = await listen(server);
  t.after(() => close(server));
  const before = openFds();
  const ac = new AbortController();
  const pending = Array.from({ length: 20 }, () => checkTcp(tcpCheck({ connectPort: hole.port, connectTimeoutMs: 10_000 }), ac.signal));
  setTimeout(() => ac.abort(), 50);
  const started = performance.now();
  for (const r of await Promise.all(pending)) assert.equal(r.code, 'ABORTED');
  assert.ok(performance.now() - started < 2_000);
  assert.equal(openFds(), before);
  assert.equal((await checkTcp(tcpCheck({ connectPort: port }), ac.signal)).code, 'ABORTED');
  assert.equal((await checkTcp(tcpCheck({ connectPort: port }), new AbortController().signal)).ok, true);
});

test('TCP_CHECK: a finished check leaves no timer holding the process (deadline connect_timeout 30 s)', async (t) => {
  const server = net.createServer((s) => s.end());
  const port = await listen(server);
  t.after(() => close(server));
  const code = `
    const { checkTcp } = await import(${JSON.stringify(new URL('../../src/check/tcp.ts', import.meta.url).href)});
    const r = await checkTcp({ type: 'TCP_CHECK', connectIp: '127.0.0.1', connectPort: ${port}, connectTimeoutMs: 30000 }, new AbortController().signal);
    console.log(r.ok);`;
  const started = performance.now();
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(child.status, 0);
  assert.equal(child.stdout.trim(), 'true');
  assert.ok(performance.now() - started < 10_000, 'the child waited for the connect deadline');
});

test('a connect that completed while the event loop was busy past its deadline counts as connected', async (t) => {
  const server = net.createServer((s) => s.destroy());
  const port = await listen(server);
  t.after(() => close(server));
  const pending = checkTcp(tcpCheck({ connectPort: port, connectTimeoutMs: 50 }), never);
  // The kernel completes the handshake at once; the loop then runs timers (the deadline) before it polls.
  const until = performance.now() + 150;
  while (performance.now() < until);
  const result = await pending;
  assert.equal(result.ok, true, result.reason);
});
