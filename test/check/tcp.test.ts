import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { checkTcp } from '../../src/check/tcp.ts';
import { tcpCheck } from './model.ts';
import { blackholePort, close, closedPort, listen } from './servers.ts';

const never = new AbortController().signal;

test('TCP_CHECK passes when the server accepts', async (t) => {
  const server = net.createServer((s) => s.end());
  const port = await listen(server);
  t.after(() => close(server));
  const r = await checkTcp(tcpCheck({ connectPort: port }), never);
  assert.equal(r.ok, true, r.reason);
});

test('TCP_CHECK fails with CONNECT_RESET when the server resets the connection it just accepted', async (t) => {
  // On loopback the RST arrives before the connect completion is seen, so the connection is reported reset.
  const server = net.createServer((s) => s.resetAndDestroy());
  const port = await listen(server);
  t.after(() => close(server));
  const r = await checkTcp(tcpCheck({ connectPort: port }), never);
  assert.equal(r.code, 'CONNECT_RESET', r.reason);
});

test('TCP_CHECK fails with CONNECT_REFUSED on a closed port', async () => {
  const r = await checkTcp(tcpCheck({ connectPort: await closedPort() }), never);
  assert.equal(r.ok, false);
  assert.equal(r.code, 'CONNECT_REFUSED');
});

test('TCP_CHECK fails with CONNECT_TIMEOUT within connect_timeout when the server never answers', async (t) => {
  const hole = await blackholePort();
  t.after(hole.close);
  const r = await checkTcp(tcpCheck({ connectPort: hole.port, connectTimeoutMs: 300 }), never);
  assert.equal(r.code, 'CONNECT_TIMEOUT', r.reason);
  assert.ok(r.latencyMs >= 290 && r.latencyMs < 5_000, `latency ${r.latencyMs}`);
});

test('TCP_CHECK binds to bindto/bind_port', async (t) => {
  let remote: string | undefined;
  const server = net.createServer((s) => {
    remote = `${s.remoteAddress}:${s.remotePort}`;
    s.end();
  });
  const port = await listen(server, '0.0.0.0');
  t.after(() => close(server));
  const bindPort = await closedPort();
  const r = await checkTcp(tcpCheck({ connectPort: port, bindTo: '127.0.0.2', bindPort }), never);
  assert.equal(r.ok, true, r.reason);
  await new Promise((res) => setTimeout(res, 20));
  assert.equal(remote, `127.0.0.2:${bindPort}`);
});

test('TCP_CHECK stops at once when aborted', async (t) => {
  const hole = await blackholePort();
  t.after(hole.close);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  const r = await checkTcp(tcpCheck({ connectPort: hole.port, connectTimeoutMs: 5_000 }), ac.signal);
  assert.equal(r.code, 'ABORTED');
});
