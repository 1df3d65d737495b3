// Applying ipvs_sysctl: only what differs is written and reported with the value it replaced; a refusal undoes the
// call's writes and names the setting, its line and the errno.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IpvsSysctls } from '../../src/config/model.ts';
import { applyIpvsSysctls, type SysctlPort } from '../../src/director/ipvs-sysctl.ts';
import { DirectorError } from '../../src/director/errors.ts';
import { describeEvent } from '../../src/director/events.ts';

function fakeKernel(values: Record<string, string>, refuse: Record<string, string> = {}): SysctlPort & { values: Record<string, string>; writes: string[] } {
  const k = {
    values,
    writes: [] as string[],
    read: async (key: string) => {
      const v = k.values[key];
      if (v === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '/proc/sys/net/ipv4/vs/${key}'`), { code: 'ENOENT' });
      return v;
    },
    write: async (key: string, value: string) => {
      if (refuse[key] !== undefined && refuse[key] === value) throw Object.assign(new Error('EINVAL: invalid argument, write'), { code: 'EINVAL' });
      k.writes.push(`${key}=${value}`);
      k.values[key] = value;
    },
  };
  return k;
}

const block = (...kv: [string, string][]): IpvsSysctls => ({
  values: kv.map(([key, value], i) => ({ key, value, pos: { file: 'k.conf', line: i + 2, col: 3 } })),
  pos: { file: 'k.conf', line: 1, col: 1 },
});

test('writes only the settings that differ, and reports the old values', async () => {
  const k = fakeKernel({ sloppy_tcp: '0', expire_nodest_conn: '1', sync_threshold: '3 50' });
  const changes = await applyIpvsSysctls(k, block(['sloppy_tcp', '1'], ['expire_nodest_conn', '1'], ['sync_threshold', '3 10']));
  assert.deepEqual(changes, [
    { key: 'sloppy_tcp', from: '0', to: '1', origin: 'k.conf:2' },
    { key: 'sync_threshold', from: '3 50', to: '3 10', origin: 'k.conf:4' },
  ]);
  assert.deepEqual(k.writes, ['sloppy_tcp=1', 'sync_threshold=3 10']);
  // The same block again (a reload that changed nothing): no write.
  assert.deepEqual(await applyIpvsSysctls(k, block(['sloppy_tcp', '1'], ['expire_nodest_conn', '1'], ['sync_threshold', '3 10'])), []);
  // No block, or a key dropped from it: the kernel keeps what it has.
  assert.deepEqual(await applyIpvsSysctls(k, undefined), []);
  assert.deepEqual(await applyIpvsSysctls(k, block(['expire_nodest_conn', '1'])), []);
  assert.equal(k.values.sloppy_tcp, '1');
  assert.equal(k.writes.length, 2);
});

test('a refused write undoes the earlier writes of the call and names setting, line and errno', async () => {
  const k = fakeKernel({ sloppy_tcp: '0', conntrack: '0', sync_ports: '1' }, { sync_ports: '64' });
  await assert.rejects(applyIpvsSysctls(k, block(['sloppy_tcp', '1'], ['conntrack', '1'], ['sync_ports', '64'])), (err: unknown) => {
    assert.ok(err instanceof DirectorError);
    assert.equal(err.code, 'DIRECTOR_SYSCTL');
    assert.match(err.message, /^ipvs_sysctl sync_ports 64 \(k\.conf:4\): net\.ipv4\.vs\.sync_ports could not be set: EINVAL/);
    return true;
  });
  assert.deepEqual(k.writes, ['sloppy_tcp=1', 'conntrack=1', 'conntrack=0', 'sloppy_tcp=0']);
  assert.deepEqual(k.values, { sloppy_tcp: '0', conntrack: '0', sync_ports: '1' });
});

test('a setting this kernel lacks is ENOENT, said as such', async () => {
  const k = fakeKernel({});
  await assert.rejects(applyIpvsSysctls(k, block(['run_estimation', '0'])), /ipvs_sysctl run_estimation 0 \(k\.conf:2\): .*ENOENT: this kernel has no such setting \(or ip_vs is not loaded\)/);
});

test('the log line names the setting, both values and where it was written', () => {
  assert.equal(describeEvent({ type: 'ipvs-sysctl', key: 'sloppy_tcp', from: '0', to: '1', origin: '/etc/keepalived/keepalived.conf:12' }),
    'IPVS sysctl net.ipv4.vs.sloppy_tcp 0 -> 1 (ipvs_sysctl, /etc/keepalived/keepalived.conf:12)');
});
