// SMTP_CHECK against a real SMTP server process (Debian's python3-aiosmtpd, started here on a loopback port) and
// scripted servers on loopback for the failures: a 554 greeting, a refused HELO, multi-line replies, silence,
// an early close, a closed port.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { checkSmtp, takeReply } from '../../src/check/smtp.ts';
import { smtpCheck } from './model.ts';
import { close, closedPort, listen } from './servers.ts';
import { freePort, startProcess, waitForListener } from './processes.ts';

const never = new AbortController().signal;
/** Debian's python, where python3-aiosmtpd is installed (a python3 earlier on PATH may not have it). */
const PYTHON = '/usr/bin/python3';

test('SMTP_CHECK passes against aiosmtpd: greeting 220, HELO answered 250, QUIT', async (t) => {
  const has = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import aiosmtpd'], { stdio: 'ignore' }).status === 0;
  assert.ok(has, `${PYTHON} has no aiosmtpd: install Debian's python3-aiosmtpd (.ci/run does)`);
  const port = await freePort('tcp');
  // aiosmtpd prints nothing when ready: wait until it accepts connections.
  const server = await startProcess(t, PYTHON, ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`], () => true);
  await waitForListener('127.0.0.1', port).catch((err: Error) => assert.fail(`${err.message}; aiosmtpd said: ${server.output()}`));
  const r = await checkSmtp(smtpCheck({ connectPort: port }), never);
  assert.equal(r.ok, true, r.reason);
  assert.equal(r.reason, 'greeting 220, HELO smtpchecker.keepalived.org 250, QUIT 221');
});

/** A scripted server: `greeting` on connect, then `reply(line)` for each line the client sends; lines are kept. */
async function scripted(t: TestContext, greeting: string | null, reply: (line: string) => string | null, host = '127.0.0.1'): Promise<{ port: number; lines: string[] }> {
  const lines: string[] = [];
  const server = net.createServer((s) => {
    s.setEncoding('latin1');
    if (greeting !== null) s.write(greeting);
    let pending = '';
    s.on('data', (chunk: string) => {
      pending += chunk;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl + 1);
        pending = pending.slice(nl + 1);
        lines.push(line);
        const out = reply(line);
        if (out === null) s.end();
        else s.write(out);
      }
    });
    s.on('error', () => {});
  });
  const port = await listen(server, host);
  t.after(() => close(server));
  return { port, lines };
}

test('SMTP_CHECK fails with SMTP_STATUS on a 554 greeting, sending nothing', async (t) => {
  const { port, lines } = await scripted(t, '554 5.3.2 no service here\r\n', () => '250 ok\r\n');
  const r = await checkSmtp(smtpCheck({ connectPort: port }), never);
  assert.deepEqual([r.code, r.reason], ['SMTP_STATUS', 'the greeting is 554, not 220: "5.3.2 no service here"']);
  assert.deepEqual(lines, []);
});

test('SMTP_CHECK sends HELO helo_name and fails with SMTP_STATUS when it is refused', async (t) => {
  const { port, lines } = await scripted(t, '220 mx ESMTP\r\n', (l) => (l.startsWith('HELO') ? '501 5.5.4 bad HELO\r\n' : '221 bye\r\n'));
  const r = await checkSmtp(smtpCheck({ connectPort: port, heloName: 'lb1.example.test' }), never);
  assert.deepEqual([r.code, r.reason], ['SMTP_STATUS', 'the HELO reply is 501, not 250: "5.5.4 bad HELO"']);
  assert.deepEqual(lines, ['HELO lb1.example.test\r\n']);
});

test('SMTP_CHECK reads multi-line replies whole (keepalived fails on them) and takes any QUIT reply, over IPv6', async (t) => {
  const { port, lines } = await scripted(
    t,
    '220-mx.example.test ESMTP\r\n220-please wait\r\n220 ready\r\n',
    (l) => (l.startsWith('HELO') ? '250-mx.example.test\r\n250 PIPELINING\r\n' : '500 what QUIT?\r\n'),
    '::1',
  );
  const r = await checkSmtp(smtpCheck({ connectIp: '::1', connectPort: port }), never);
  assert.equal(r.ok, true, r.reason);
  assert.equal(r.reason, 'greeting 220, HELO smtpchecker.keepalived.org 250, QUIT 500');
  assert.deepEqual(lines, ['HELO smtpchecker.keepalived.org\r\n', 'QUIT\r\n']);
});

test('SMTP_CHECK: a closed port, a silent server, an early close and garbage each fail with their own code', async (t) => {
  const refused = await checkSmtp(smtpCheck({ connectPort: await closedPort() }), never);
  assert.equal(refused.code, 'CONNECT_REFUSED');

  const silent = await scripted(t, null, () => null);
  const quiet = await checkSmtp(smtpCheck({ connectPort: silent.port, connectTimeoutMs: 300 }), never);
  assert.deepEqual([quiet.code, quiet.reason], ['SMTP_TIMEOUT', 'no complete conversation within 300 ms (waiting for the greeting)']);
  assert.ok(quiet.latencyMs >= 290 && quiet.latencyMs < 2000, `latency ${quiet.latencyMs}`);

  const hangUp = await scripted(t, '220 hi\r\n', () => null);
  const closed = await checkSmtp(smtpCheck({ connectPort: hangUp.port }), never);
  assert.deepEqual([closed.code, closed.reason], ['SMTP_CLOSED', 'connection closed by the server before the HELO reply']);

  const http = await scripted(t, 'HTTP/1.1 400 Bad Request\r\n', () => null);
  const garbage = await checkSmtp(smtpCheck({ connectPort: http.port }), never);
  assert.deepEqual([garbage.code, garbage.reason], ['SMTP_STATUS', 'the greeting is not an SMTP reply: "HTTP/1.1 400 Bad Request"']);
});

test('SMTP reply parsing: continuation lines, a bare code, LF-only endings, an incomplete reply', () => {
  assert.deepEqual(takeReply('250-a\r\n250 b\r\nrest'), { kind: 'reply', code: 250, text: 'a / b', rest: 'rest' });
  assert.deepEqual(takeReply('220\n'), { kind: 'reply', code: 220, text: '', rest: '' });
  assert.equal(takeReply('250-a\r\n250 b'), 'incomplete');
  assert.deepEqual(takeReply('25 x\r\n'), { kind: 'malformed', line: '25 x' });
});

test('SMTP_CHECK stops at once when aborted', async (t) => {
  const silent = await scripted(t, null, () => null);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  const r = await checkSmtp(smtpCheck({ connectPort: silent.port, connectTimeoutMs: 5000 }), ac.signal);
  assert.equal(r.code, 'ABORTED');
});
