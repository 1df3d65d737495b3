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

test("a pool's first quorum decision is logged when it is lost, and counted in the director's quorum-up line when up", async () => {
  const { out, lines } = capture();
  const log = eventLogger(false, out);
  log({ type: 'quorum', virtualServer: 'TCP 10.0.0.1:80', up: true, liveWeight: 3, first: true, at });
  log({ type: 'quorum', virtualServer: 'TCP 10.0.0.2:80', up: false, liveWeight: 0, first: true, at });
  log({ type: 'quorum-up', virtualServers: 1, at });
  log({ type: 'quorum', virtualServer: 'TCP 10.0.0.1:80', up: true, liveWeight: 3, at });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(lines, [
    '2026-11-22T01:02:03.456Z TCP 10.0.0.2:80 quorum lost (live weight 0)',
    '2026-11-22T01:02:03.456Z 1 virtual server(s) start with quorum',
    '2026-11-22T01:02:03.456Z TCP 10.0.0.1:80 quorum gained (live weight 3)',
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
