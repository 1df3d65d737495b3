// A summarised status (`ipvs-ts status --summary`) is counted as the status is built, without a row per real server:
// it must be the full status summarised afterwards, field for field, on a table with every kind of row.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectStatus } from '../../src/control/protocol.ts';
import { desiredTable } from '../../src/ipvs/desired.ts';
import { config, FakeKernel, harness, ZERO_STATS } from './fakes.ts';

const RS = (a: string) => `  real_server ${a} 80 {\n    weight 2\n    TCP_CHECK {\n    }\n  }`;
const WEB = (rss: readonly string[]) => `virtual_server 10.0.0.1 80 {\n  lb_kind DR\n  quorum 2\n  sorry_server 10.9.9.9 80\n${rss.map(RS).join('\n')}\n}`;
const REST = `virtual_server_group g {
  10.0.0.10-11 80
  fwmark 9
}
virtual_server group g {
${RS('10.2.0.1')}
${RS('10.2.0.2')}
}
virtual_server fwmark 7 {
  real_server 10.3.0.1 0 {
  }
}`;

test('status --summary: counted while building equals the full status summarised (up, down, pending, draining, sorry server, group, fwmark)', async () => {
  const first = config(`${WEB(['10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.4'])}\n${REST}`);
  const kernel = new FakeKernel();
  kernel.load(desiredTable(first));
  const h = harness(first, { kernel, owned: [] });
  await h.director.start();
  const web = h.checker('10.0.0.1');
  web.verdict('10.1.0.1', true);
  web.verdict('10.1.0.2', false);
  web.verdict('10.1.0.3', true);
  web.verdict('10.1.0.4', false);
  h.checks.find((c) => c.vs.key.kind === 'group')!.verdict('10.2.0.1', true);
  await h.director.idle();
  kernel.setConnections('TCP 10.0.0.1:80', '10.1.0.3:80', 5);
  await h.director.reload(config(`${WEB(['10.1.0.1', '10.1.0.2', '10.1.0.4', '10.1.0.5'])}\n${REST}`));
  await h.director.idle();
  for (const s of kernel.services.values()) s.service = { ...s.service, stats: { ...ZERO_STATS, conns: 7n, outBytes: 2n ** 40n } };
  await h.director.status(); // the counters read both share

  const built = await h.director.status({ summary: true });
  const after = selectStatus(await h.director.status(), { cmd: 'status', summary: true });
  const age = (s: object) => JSON.stringify({ ...s, countersAgeMs: 0 });
  assert.equal(age(built), age(after));
  // 10.1.0.1 up; 10.1.0.3 removed by the reload, draining at weight 0; 10.1.0.5 not checked yet; quorum holds.
  const web1 = built.virtualServers.find((vs) => vs.name === 'TCP 10.0.0.1:80')!;
  assert.deepEqual(web1.summary, { realServers: 4, up: 1, down: 2, pending: 1, inTable: 1, destinations: 2 });
  assert.equal(web1.realServers.length, 0);
  assert.deepEqual(selectStatus(built, { cmd: 'status', summary: true }), built, 'a summary is not summarised twice');
  await h.director.stop();
});
