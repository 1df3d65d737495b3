// The check and genhash commands against loopback servers in this process: in-process through their run
// functions, and through the real binary where the wiring (exit code, signals) is the point.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { runCheck } from '../../src/cli/check-run.ts';
import { runGenhash, type GenhashOptions } from '../../src/cli/genhash-run.ts';
import { makePki, type TestPki } from './certs.ts';
import { close, closedPort, listen } from './servers.ts';

const bin = fileURLToPath(new URL('../../bin/ipvs-ts.js', import.meta.url));
const body = 'health page body\n'.repeat(100);
const md5 = createHash('md5').update(body).digest('hex');
let dir: string;
let pki: TestPki;
let httpPort: number;
let httpsPort: number;
let deadPort: number;
const servers: http.Server[] = [];

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** Runs a command's run function with captured stdout/stderr. */
async function inProcess(run: (out: Writable, err: Writable) => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) => new Writable({ write: (chunk, _enc, cb) => (append(String(chunk)), cb()) });
  const code = await run(sink((s) => (stdout += s)), sink((s) => (stderr += s)));
  return { code, stdout, stderr };
}

const genhash = (opts: GenhashOptions) => inProcess((out, err) => runGenhash(opts, out, err));
const check = (file: string, json = false) => inProcess((out, err) => runCheck({ file, once: true, json }, out, err));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ipvs-ts-cli-'));
  pki = makePki();
  const handler: http.RequestListener = (req, res) => {
    res.statusCode = req.url === '/missing' ? 404 : 200;
    res.end(body);
  };
  servers.push(http.createServer(handler), https.createServer(pki.server, handler));
  httpPort = await listen(servers[0]!);
  httpsPort = await listen(servers[1]!);
  deadPort = await closedPort();
});

after(async () => {
  await Promise.all(servers.map(close));
  pki?.remove();
  rmSync(dir, { recursive: true, force: true });
});

test('genhash (the binary) prints the MD5 of the body, equal to one computed independently', async () => {
  const r = await cli('genhash', '-s', '127.0.0.1', '-p', String(httpPort), '-u', '/health');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${md5}\n`);
});

test('genhash over TLS with SNI', async () => {
  const r = await genhash({ ssl: true, sni: 'www.example.test', server: '127.0.0.1', port: httpsPort, url: '/health' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${md5}\n`);
});

test('genhash exits non-zero with a one-line reason on failure or a non-2xx status', async () => {
  const refused = await genhash({ server: '127.0.0.1', port: deadPort, url: '/' });
  assert.equal(refused.code, 1);
  assert.equal(refused.stdout, '');
  assert.equal(refused.stderr, 'genhash: /: connection refused [CONNECT_REFUSED]\n');
  const missing = await genhash({ server: '127.0.0.1', port: httpPort, url: '/missing' });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /status 404/);
});

function writeConfig(name: string, realServers: string): string {
  const file = join(dir, name);
  writeFileSync(file, `virtual_server 10.0.0.1 80 {\n  delay_loop 1\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n${realServers}}\n`);
  return file;
}

const httpRs = (port: number, digest = md5) =>
  `  real_server 127.0.0.1 ${port} {\n    HTTP_GET {\n      url {\n        path /health\n        digest ${digest}\n      }\n      connect_timeout 2\n    }\n  }\n`;
const bothRs = (port: number) =>
  `  real_server 127.0.0.1 ${port} {\n    HTTP_GET {\n      url {\n        path /health\n        digest ${md5}\n      }\n    }\n    TCP_CHECK {\n      connect_timeout 2\n    }\n  }\n`;
const tcpRs = (port: number) => `  real_server 127.0.0.1 ${port} {\n    TCP_CHECK {\n      connect_timeout 2\n    }\n  }\n`;

test('check --once prints a table and exits 0 when every real server is up', async () => {
  const r = await check(writeConfig('up.conf', bothRs(httpPort)));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^VIRTUAL SERVER\s+REAL SERVER\s+CHECK\s+RESULT\s+LATENCY\s+REASON$/);
  assert.equal(lines.length, 3);
  assert.ok(lines.slice(1).every((l) => /\bup\b/.test(l)));
});

test('check --once --json exits 2 when a real server is down', async () => {
  const r = await check(writeConfig('down.conf', httpRs(httpPort, '0'.repeat(32)) + tcpRs(deadPort)), true);
  assert.equal(r.code, 2, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; code?: string });
  assert.deepEqual(rows.map((x) => [x.ok, x.code]), [[false, 'HTTP_DIGEST'], [false, 'CONNECT_REFUSED']]);
});

test('check -f prints verdict changes live and stops cleanly on SIGTERM', async () => {
  const child = spawn(process.execPath, [bin, 'check', '-f', writeConfig('live.conf', tcpRs(httpPort))], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  try {
    const deadline = Date.now() + 20_000;
    while (!/ UP /.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(out, /TCP 10\.0\.0\.1:80 -> 127\.0\.0\.1:\d+ UP weight 1 \(connected; [\d.]+ ms\)/);
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 0);
  } finally {
    child.kill('SIGKILL');
  }
});

test('check reports config errors and exits 1', async () => {
  const file = join(dir, 'bad.conf');
  writeFileSync(file, 'virtual_server 10.0.0.1 80 {\n  real_server 127.0.0.1 {\n');
  const r = await check(file);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.conf:\d+:\d+: error/);
});

test('check --once runs PING_CHECK, UDP_CHECK, DNS_CHECK, SMTP_CHECK and FILE_CHECK and shows each', async (t) => {
  const udp = await closedPort();
  const track = join(dir, 'maint');
  writeFileSync(track, '0\n');
  const file = join(dir, 'checkers.conf');
  writeFileSync(file, `track_file maint {\n  file ${track}\n  weight 0\n}\n` + `virtual_server 10.0.0.1 53 {\n  lb_algo rr\n  lb_kind NAT\n  protocol UDP\n` +
    `  real_server 127.0.0.1 ${udp} {\n    PING_CHECK {\n      connect_timeout 2\n    }\n    UDP_CHECK {\n      connect_timeout 1\n    }\n` +
    `    DNS_CHECK {\n      connect_timeout 1\n    }\n    SMTP_CHECK {\n      connect_timeout 1\n    }\n    FILE_CHECK {\n      track_file maint\n    }\n  }\n}\n`);
  const r = await check(file);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  if (/PING_CHECK.*no ICMP socket/.test(r.stdout)) return t.skip('no ICMP socket for this user');
  const row = (check: string) => new RegExp(`10\\.0\\.0\\.1:53\\s+127\\.0\\.0\\.1:${udp}\\s+${check}`);
  assert.match(r.stdout, row('PING_CHECK 127\\.0\\.0\\.1\\s+up\\s+[\\d.]+ ms\\s+echo reply'));
  assert.match(r.stdout, row(`UDP_CHECK 127\\.0\\.0\\.1:${udp}\\s+DOWN\\s+[\\d.]+ ms\\s+port unreachable: nothing listens on UDP port ${udp}`));
  assert.match(r.stdout, row(`DNS_CHECK 127\\.0\\.0\\.1:${udp}\\s+DOWN\\s+[\\d.]+ ms\\s+port unreachable`));
  assert.match(r.stdout, row(`SMTP_CHECK 127\\.0\\.0\\.1:${udp}\\s+DOWN\\s+[\\d.]+ ms\\s+connection refused`));
  assert.match(r.stdout, row('FILE_CHECK track_file maint\\s+up\\s+[\\d.]+ ms\\s+track_file maint: value 0'));
  const json = await check(file, true);
  assert.deepEqual(json.stdout.trim().split('\n').map((l) => JSON.parse(l).checker), ['PING_CHECK', 'UDP_CHECK', 'DNS_CHECK', 'SMTP_CHECK', 'FILE_CHECK']);
});

test('check --once lists a real server without checkers as up', async () => {
  const r = await check(writeConfig('bare.conf', '  real_server 127.0.0.1 8080 {\n  }\n'));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /127\.0\.0\.1:8080\s+-\s+up\s+0\.0 ms\s+no checkers: always up/);
});
