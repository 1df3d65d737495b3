import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitCommandLine } from '../../src/check/command-line.ts';
import { checkMisc } from '../../src/check/misc.ts';
import { runScript } from '../../src/check/script.ts';
import { assertScriptSecure } from '../../src/check/script-security.ts';
import { resolveUser } from '../../src/check/users.ts';
import { miscCheck } from './model.ts';

const never = new AbortController().signal;
const isRoot = process.getuid?.() === 0;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ipvs-ts-misc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A process that is gone or a zombie no longer runs anything. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

test('command lines split on white space with quotes and backslashes', () => {
  assert.deepEqual(splitCommandLine('/bin/sh -c "exit 7"'), ['/bin/sh', '-c', 'exit 7']);
  assert.deepEqual(splitCommandLine(`  a 'b c'  d\\ e "f\\"g" ''`), ['a', 'b c', 'd e', 'f"g', '']);
  assert.throws(() => splitCommandLine('a "b'), { code: 'BAD_ARGUMENT' });
  assert.throws(() => splitCommandLine('   '), { code: 'BAD_ARGUMENT' });
});

test('exit 0 is up; 1, 2, 7 and 255 are down without misc_dynamic', async () => {
  for (const code of [0, 1, 2, 7, 255]) {
    const r = await checkMisc(miscCheck({ path: `/bin/sh -c "exit ${code}"` }), never);
    assert.equal(r.ok, code === 0, `exit ${code}`);
    if (code !== 0) assert.deepEqual([r.code, r.reason], ['SCRIPT_EXIT', `exit ${code}`]);
  }
});

test('misc_dynamic: 0 up at the configured weight, 1 down, 2-255 up with weight code − 2', async () => {
  const expect: [number, boolean, number | undefined][] = [[0, true, undefined], [1, false, undefined], [2, true, 0], [7, true, 5], [255, true, 253]];
  for (const [code, ok, weight] of expect) {
    const r = await checkMisc(miscCheck({ path: `/bin/sh -c "exit ${code}"`, dynamic: true }), never);
    assert.equal(r.ok, ok, `exit ${code}`);
    assert.equal(r.weight, weight, `exit ${code}`);
  }
});

test('no shell unless the command asks for one: shell syntax reaches the program as arguments', async (t) => {
  const dir = tempDir(t);
  const r = await checkMisc(miscCheck({ path: `/usr/bin/touch ${join(dir, 'a;b')}` }), never);
  assert.equal(r.ok, true, r.reason);
  assert.equal(readFileSync(join(dir, 'a;b'), 'utf8'), '');
});

test('a missing program fails with SCRIPT_SPAWN', async () => {
  const r = await checkMisc(miscCheck({ path: '/nonexistent/check.sh' }), never);
  assert.equal(r.code, 'SCRIPT_SPAWN', r.reason);
});

test('a hanging script is killed at misc_timeout, with the children it forked', async (t) => {
  const dir = tempDir(t);
  const pidFile = join(dir, 'child.pid');
  const r = await checkMisc(miscCheck({ path: `/bin/sh -c "sleep 30 & echo $! > ${pidFile}; sleep 30"`, timeoutMs: 300 }), never);
  assert.equal(r.code, 'SCRIPT_TIMEOUT');
  assert.ok(r.latencyMs >= 290 && r.latencyMs < 5_000, `latency ${r.latencyMs}`);
  const child = Number(readFileSync(pidFile, 'utf8'));
  assert.ok(await waitUntil(() => !running(child), 1_000), `forked child ${child} still running`);
});

test('children a script leaves behind when it exits are terminated', async (t) => {
  const dir = tempDir(t);
  const pidFile = join(dir, 'child.pid');
  const r = await checkMisc(miscCheck({ path: `/bin/sh -c "sleep 30 & echo $! > ${pidFile}; exit 0"` }), never);
  assert.equal(r.ok, true, r.reason);
  const child = Number(readFileSync(pidFile, 'utf8'));
  assert.ok(await waitUntil(() => !running(child), 1_000), `left-behind child ${child} still running`);
});

test('a script that ignores SIGTERM gets SIGKILL after the grace period, and is reaped', async () => {
  const started = performance.now();
  const run = await runScript(`/bin/sh -c "trap '' TERM; sleep 30"`, { timeoutMs: 100, killGraceMs: 200 });
  const took = performance.now() - started;
  assert.deepEqual([run.timedOut, run.signal], [true, 'SIGKILL']);
  assert.ok(took >= 290 && took < 5_000, `took ${took}`);
});

test('the direct child is reaped: no zombie left after a check', async (t) => {
  const dir = tempDir(t);
  const pidFile = join(dir, 'self.pid');
  await checkMisc(miscCheck({ path: `/bin/sh -c "echo $$ > ${pidFile}"` }), never);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  assert.ok(await waitUntil(() => { try { readFileSync(`/proc/${pid}/stat`); return false; } catch { return true; } }, 1_000));
});

test('aborting a check kills the script', async () => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  const r = await checkMisc(miscCheck({ path: '/bin/sleep 30', timeoutMs: 10_000 }), ac.signal);
  assert.equal(r.code, 'ABORTED');
  assert.ok(r.latencyMs < 5_000);
});

test('script users resolve from passwd/group files', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'passwd'), 'root:x:0:0::/root:/bin/sh\nchecker:x:1234:2345::/:/bin/false\n');
  writeFileSync(join(dir, 'group'), 'root:x:0:\nprobes:x:3456:\n');
  const files = { passwd: join(dir, 'passwd'), group: join(dir, 'group') };
  assert.deepEqual(resolveUser({ user: 'checker' }, files), { uid: 1234, gid: 2345 });
  assert.deepEqual(resolveUser({ user: 'checker', group: 'probes' }, files), { uid: 1234, gid: 3456 });
  assert.throws(() => resolveUser({ user: 'ghost' }, files), { code: 'SCRIPT_USER' });
  assert.throws(() => resolveUser({ user: 'checker', group: 'ghosts' }, files), { code: 'SCRIPT_USER' });
});

test('scripts run as the configured user', { skip: !isRoot && 'needs root to change user' }, async (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o777);
  const out = join(dir, 'id');
  const r = await checkMisc(miscCheck({ path: `/bin/sh -c "id -u > ${out}"`, user: { user: 'nobody' } }), never);
  assert.equal(r.ok, true, r.reason);
  assert.equal(readFileSync(out, 'utf8').trim(), String(resolveUser({ user: 'nobody' }).uid));
});

test('enable_script_security refuses scripts any path component of which non-root can write', { skip: !isRoot && 'needs root to own files as root' }, async (t) => {
  const dir = tempDir(t);
  const script = join(dir, 'check.sh');
  writeFileSync(script, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  // The file is root's, but it lives under the world-writable /tmp.
  assert.throws(() => assertScriptSecure(script), (e: Error & { code?: string }) => e.code === 'SCRIPT_INSECURE' && e.message.includes(`${tmpdir()} is world-writable`));
  chownSync(script, 65534, 65534);
  assert.throws(() => assertScriptSecure(script), /is owned by uid 65534/);
  chownSync(script, 0, 0);
  chmodSync(script, 0o757);
  assert.throws(() => assertScriptSecure(script), /check\.sh is world-writable/);
  assert.doesNotThrow(() => assertScriptSecure('true'));
  const refused = await checkMisc(miscCheck({ path: script }), never, { enableScriptSecurity: true });
  assert.equal(refused.code, 'SCRIPT_INSECURE');
  const allowed = await checkMisc(miscCheck({ path: '/bin/true' }), never, { enableScriptSecurity: true });
  assert.equal(allowed.ok, true, allowed.reason);
});
