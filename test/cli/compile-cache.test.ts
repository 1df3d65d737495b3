// bin/ipvs-ts.js turns node's compile cache on in the user's own cache directory, and only in one nobody else can
// write to (the cache is code the CLI runs, often as root).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/ipvs-ts.js', import.meta.url));

function home(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ipvs-ts-cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function run(env: Record<string, string>): void {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(NODE_COMPILE_CACHE|NODE_DISABLE_COMPILE_CACHE|XDG_CACHE_HOME|HOME)$/.test(k)));
  const r = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8', env: { ...clean, ...env } });
  assert.equal(r.status, 0, r.stderr);
}

/** Files node wrote under the cache directory (it keeps one subdirectory per node version). */
function cached(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
}

test('a command fills ~/.cache/ipvs-ts, made private, when no NODE_COMPILE_CACHE is set', (t) => {
  const h = home(t);
  run({ HOME: h });
  assert.ok(cached(join(h, '.cache', 'ipvs-ts')) > 10, 'the modules the command loaded are cached');
});

test('XDG_CACHE_HOME is honoured, and NODE_COMPILE_CACHE, where set, is left to node', (t) => {
  const h = home(t);
  run({ HOME: h, XDG_CACHE_HOME: join(h, 'xdg') });
  assert.ok(cached(join(h, 'xdg', 'ipvs-ts')) > 10);
  run({ HOME: h, NODE_COMPILE_CACHE: join(h, 'set') });
  assert.ok(cached(join(h, 'set')) > 10);
  assert.equal(cached(join(h, '.cache', 'ipvs-ts')), 0);
});

test('a cache directory others may write to is not used, nor one when NODE_DISABLE_COMPILE_CACHE is set', (t) => {
  const h = home(t);
  const dir = join(h, '.cache', 'ipvs-ts');
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o777);
  run({ HOME: h });
  assert.equal(cached(dir), 0);
  chmodSync(dir, 0o700);
  chmodSync(join(h, '.cache'), 0o777);
  run({ HOME: h });
  assert.equal(cached(dir), 0, 'nor under a parent others may write to');
  const other = home(t);
  run({ HOME: other, NODE_DISABLE_COMPILE_CACHE: '1' });
  assert.equal(existsSync(join(other, '.cache')), false);
});
