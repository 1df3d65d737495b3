// UDP_CHECK against a real UDP server process on loopback (udp-responder.ts) and against closed ports, as
// keepalived's check_udp.c defines it: silence passes unless a reply is required, an ICMP port unreachable fails.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { checkUdp, replyProblem } from '../../src/check/udp.ts';
import { udpCheck } from './model.ts';
import { freePort, startProcess } from './processes.ts';

const never = new AbortController().signal;
const responder = new URL('./udp-responder.ts', import.meta.url).pathname;

/** A responder process on `host`; resolves to its port. */
async function udpServer(t: TestContext, host: string, mode: 'echo' | 'silent' | 'reply', hex = ''): Promise<number> {
  const started = await startProcess(t, process.execPath, [responder, host, mode, hex], (out) => /port \d+\n/.test(out));
  return Number(/port (\d+)/.exec(started.output())![1]);
}

test('UDP_CHECK passes on a reply from a real UDP server, IPv4 and IPv6, sending the configured payload', async (t) => {
  for (const host of ['127.0.0.1', '::1']) {
    const port = await udpServer(t, host, 'echo');
    const r = await checkUdp(udpCheck({ connectIp: host, connectPort: port, payload: 'cafe01', requireReply: true, replyData: 'cafe01' }), never);
    assert.equal(r.ok, true, `${host}: ${r.reason}`);
    assert.equal(r.reason, 'reply of 3 bytes');
  }
});

test("UDP_CHECK without payload sends keepalived's 32-byte filler", async (t) => {
  const port = await udpServer(t, '127.0.0.1', 'echo');
  const filler = Buffer.from('keepalived check - keepalived c').toString('hex');
  const r = await checkUdp(udpCheck({ connectPort: port, requireReply: true, replyData: filler, minReplyLength: 32, maxReplyLength: 32 }), never);
  assert.equal(r.ok, true, r.reason);
});

test('UDP_CHECK fails with CONNECT_REFUSED on a closed port (ICMP port unreachable), IPv4 and IPv6', async () => {
  for (const host of ['127.0.0.1', '::1']) {
    const port = await freePort('udp', host);
    const r = await checkUdp(udpCheck({ connectIp: host, connectPort: port, connectTimeoutMs: 3000 }), never);
    assert.equal(r.code, 'CONNECT_REFUSED', `${host}: ${r.reason}`);
    assert.ok(r.latencyMs < 1000, `the ICMP error ends the check early: ${r.latencyMs} ms`);
  }
});

test('UDP_CHECK: silence passes without require_reply, and fails with UDP_NO_REPLY with it', async (t) => {
  const port = await udpServer(t, '127.0.0.1', 'silent');
  const quiet = await checkUdp(udpCheck({ connectPort: port, connectTimeoutMs: 300 }), never);
  assert.equal(quiet.ok, true, quiet.reason);
  assert.match(quiet.reason, /no ICMP error within 300 ms/);
  const required = await checkUdp(udpCheck({ connectPort: port, connectTimeoutMs: 300, requireReply: true }), never);
  assert.equal(required.code, 'UDP_NO_REPLY', required.reason);
  assert.ok(required.latencyMs >= 290, `latency ${required.latencyMs}`);
});

test('UDP_CHECK require_reply: wildcards match, a differing byte and a length out of bounds fail', async (t) => {
  const port = await udpServer(t, '127.0.0.1', 'reply', '0102a3b4ff');
  const check = (over: Parameters<typeof udpCheck>[0]) => checkUdp(udpCheck({ connectPort: port, requireReply: true, ...over }), never);
  assert.equal((await check({ replyData: '0102a0b0', replyMask: '00000f0f' })).ok, true, 'x nibbles match anything');
  assert.equal((await check({ replyData: '0102a3b4ff0000' })).ok, true, 'only the shorter of reply and pattern is compared');
  const differs = await check({ replyData: '0103' });
  assert.equal(differs.code, 'UDP_REPLY_MISMATCH');
  assert.equal(differs.reason, 'reply byte 1 is 02, expected 03');
  const tooLong = await check({ maxReplyLength: 4 });
  assert.deepEqual([tooLong.code, tooLong.reason], ['UDP_REPLY_MISMATCH', 'reply of 5 bytes, outside 0-4']);
  const tooShort = await check({ minReplyLength: 6 });
  assert.equal(tooShort.code, 'UDP_REPLY_MISMATCH');
  assert.equal((await check({})).ok, true, 'require_reply without data takes any reply within the bounds');
});

test('replyProblem names wildcard nibbles as x', () => {
  const r = replyProblem(Buffer.from([0x10]), { minReplyLength: 0, maxReplyLength: 255, replyData: '20', replyMask: '0f' });
  assert.equal(r, 'reply byte 0 is 10, expected 2x');
});

test('UDP_CHECK binds to bindto/bind_port', async (t) => {
  const port = await udpServer(t, '0.0.0.0', 'echo');
  const bindPort = await freePort('udp', '127.0.0.2');
  const r = await checkUdp(udpCheck({ connectPort: port, bindTo: '127.0.0.2', bindPort, requireReply: true }), never);
  assert.equal(r.ok, true, r.reason);
  const taken = await checkUdp(udpCheck({ connectPort: port, bindTo: '203.0.113.254' }), never);
  assert.equal(taken.code, 'SOCKET_ERROR', taken.reason);
});

test('UDP_CHECK stops at once when aborted', async (t) => {
  const port = await udpServer(t, '127.0.0.1', 'silent');
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  const r = await checkUdp(udpCheck({ connectPort: port, connectTimeoutMs: 5000, requireReply: true }), ac.signal);
  assert.equal(r.code, 'ABORTED');
  assert.ok(r.latencyMs < 1000);
});
