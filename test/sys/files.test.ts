import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { lexists } from '../../src/sys/files.ts';

test('lexists: a file, a directory and a dangling link are there; a missing name and a path through a file are not', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ipvsts-lexists-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'file'), '');
  symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
  assert.equal(lexists(join(dir, 'file')), true);
  assert.equal(lexists(dir), true);
  assert.equal(lexists(join(dir, 'dangling')), true);
  assert.equal(lexists(join(dir, 'nowhere')), false);
  assert.equal(lexists(join(dir, 'file', 'below')), false);
});
