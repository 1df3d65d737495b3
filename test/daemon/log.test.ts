import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { eventLogger } from '../../src/daemon/log.ts';

function capture(): { out: Writable; lines: string[]; writes: string[] } {
  const lines: string[] = [];
  const writes: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      writes.push(chunk.toString());
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { out, lines, writes };
}

const at = Date.UTC(2026, 10, 22, 1, 2, 3, 456);

test('one human line per event, errors marked; the lines of one turn in one write', async () => {
  const { out, lines, writes } = capture();
  const log = eventLogger(false, out);
  log({ type: 'verdict', virtualServer: 'TCP 10.0.0.1:80', realServer: '10.1.0.1:80', up: false, present: false, weight: 0, reason: 'connection refused', latencyMs: 1, at });
  log({ type: 'error', where: 'ipvs', message: 'add real server failed (EINVAL)', at });
  assert.deepEqual(lines, []);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(writes.length, 1);
  assert.deepEqual(lines, [
    '2026-11-22T01:02:03.456Z TCP 10.0.0.1:80 real server 10.1.0.1:80 DOWN, removed: connection refused',
    '2026-11-22T01:02:03.456Z ERROR error (ipvs): add real server failed (EINVAL)',
  ]);
});

test('--log-json: one JSON object per line with the fields, the time and the human message', async () => {
  const { out, lines } = capture();
  eventLogger(true, out)({ type: 'vrrp', instance: 'VI_1', from: 'BACKUP', to: 'MASTER', priority: 150, at });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(lines.length, 1);
  assert.deepEqual(JSON.parse(lines[0]!), {
    time: '2026-11-22T01:02:03.456Z', type: 'vrrp', instance: 'VI_1', from: 'BACKUP', to: 'MASTER', priority: 150, at, message: 'VRRP VI_1 BACKUP -> MASTER (priority 150)',
  });
});

test('lines of the turn in which the process exits are written all the same', () => {
  const src = new URL('../../src/daemon/log.ts', import.meta.url).href;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
    const { eventLogger } = await import(${JSON.stringify(src)});
    eventLogger(false)({ type: 'stopped', at: ${at} });
    process.exit(3);`], { encoding: 'utf8' });
  assert.equal(r.status, 3);
  assert.equal(r.stderr, '2026-11-22T01:02:03.456Z stopped\n');
});
