// The large /metrics families: label text kept per service / virtual server between scrapes and rebuilt only
// for what changed; values formatted as Prometheus reads them; the scrape streamed a family at a time.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { ExpositionWriter, LabelBlock, LabelBlocks } from '../../src/control/exposition.ts';
import { type DaemonStatus, DirectorMetrics } from '../../src/control/metrics.ts';
import type { ServiceStatus, VirtualServerStatus } from '../../src/director/status.ts';
import { listenMetrics } from '../../src/control/http.ts';
import { selectStatus } from '../../src/control/protocol.ts';
import { statusReply } from '../../src/control/server.ts';
import { tablesOfStatus } from './status-tables.ts';

test('exposition writer: label blocks copied as bytes; integers, negatives, fractions, huge and special values', () => {
  const w = new ExpositionWriter();
  const block = new LabelBlock(['{a="1"}', '{a="ü"}', '']);
  w.blockFamily('m', 'gauge', 'help \\ with\nnewline', (sample) => {
    sample(block, 0, 0);
    sample(block, 1, -1);
    sample(block, 2, 2 ** 64);
  });
  w.family('f', 'counter', 'h', (sample) => {
    sample('{x="y"}', 0.25);
    sample('', NaN);
    sample('{z=""}', Infinity);
    sample('{z="-"}', -Infinity);
    sample('{n="big"}', 1234567890123);
  });
  const text = Buffer.concat(w.take()).toString('utf8');
  assert.equal(text, [
    '# HELP m help \\\\ with\\nnewline', '# TYPE m gauge', 'm{a="1"} 0', 'm{a="ü"} -1', `m ${2 ** 64}`,
    '# HELP f h', '# TYPE f counter', 'f{x="y"} 0.25', 'f NaN', 'f{z=""} +Inf', 'f{z="-"} -Inf', 'f{n="big"} 1234567890123', '',
  ].join('\n'));
  assert.deepEqual(w.take(), [], 'take hands over what was written once');
});

test('label blocks: kept while the endpoints stay, rebuilt when one is added, removed or changed, dropped when gone', () => {
  const blocks = new LabelBlocks();
  const text = (b: LabelBlock) => b.bytes.toString();
  const labels = (e: { address: string; port: number }) => `{${e.address}:${e.port}}`;
  const a = [{ address: '10.1.0.1', port: 80 }, { address: '10.1.0.2', port: 80 }];
  const b1 = blocks.block('svc', a, labels);
  blocks.block('other', [{ address: '10.9.0.1', port: 1 }], labels);
  blocks.sweep();
  assert.equal(blocks.block('svc', a.map((e) => ({ ...e })), labels), b1, 'same endpoints (new objects): same block');
  assert.equal(blocks.built, 2);
  const added = blocks.block('svc', [...a, { address: '10.1.0.3', port: 80 }], labels);
  assert.equal(text(added), '{10.1.0.1:80}{10.1.0.2:80}{10.1.0.3:80}');
  assert.equal(added.length, 3);
  assert.equal(added.start(2), 26);
  const removed = blocks.block('svc', a.slice(1), labels);
  assert.equal(text(removed), '{10.1.0.2:80}');
  const port = blocks.block('svc', [{ address: '10.1.0.2', port: 81 }], labels);
  assert.equal(text(port), '{10.1.0.2:81}');
  assert.equal(blocks.built, 5);
  blocks.sweep();
  assert.equal(blocks.size, 1, '"other" was not used in that scrape: dropped');
});

function dest(address: string, port: number, weight: number, activeConns = 0): ServiceStatus['destinations'][number] {
  return { address, port, weight, activeConns, inactiveConns: 0, stats: { conns: activeConns, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 } };
}

function status(dests: ServiceStatus['destinations'][number][], countersAgeMs: number | null = 1500): DaemonStatus {
  const vs: VirtualServerStatus = {
    name: 'TCP 10.0.0.1:80', scheduler: 'rr', forwarding: 'DR', persistenceS: 0, quorum: { configured: 1, hysteresis: 0, up: true, liveWeight: null }, suspended: false, sorryServer: null,
    realServers: dests.map((d) => ({ address: d.address, port: d.port, up: true, inTable: true, weight: d.weight, configuredWeight: 1, forward: 'DR', reason: 'ok', latencyMs: 1, since: 0, activeConns: d.activeConns, inactiveConns: 0, stats: d.stats })),
    services: [{ key: 'TCP 10.0.0.1:80', protocol: 'TCP', address: '10.0.0.1', port: 80, fwmark: null, inKernel: true, stats: { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 }, destinations: dests }],
  };
  return { pid: 1, startedAt: 0, ipvsAvailable: true, vrrp: [], vrrpUnmatched: {}, vrrpFailure: null, virtualServers: [vs], counters: {}, countersAgeMs };
}

test('metrics: per-destination series follow the table from scrape to scrape (added, removed, changed), counters age exported', async () => {
  let s = status([dest('10.1.0.1', 80, 1, 3), dest('10.1.0.2', 80, 2)]);
  const m = new DirectorMetrics(async () => tablesOfStatus(s));
  const backend = (text: string) => [...text.matchAll(/^ipvs_ts_backend_weight(\{.*) (\S+)$/gm)].map((x) => `${x[1]} ${x[2]}`);
  let text = await m.render();
  assert.deepEqual(backend(text), [
    '{local_address="10.0.0.1",local_port="80",remote_address="10.1.0.1",remote_port="80",proto="TCP",local_mark=""} 1',
    '{local_address="10.0.0.1",local_port="80",remote_address="10.1.0.2",remote_port="80",proto="TCP",local_mark=""} 2',
  ]);
  assert.match(text, /^ipvs_ts_backend_connections_active\{[^}]*remote_address="10\.1\.0\.1"[^}]*\} 3$/m);
  assert.match(text, /^ipvs_ts_real_server_up\{virtual_server="TCP 10\.0\.0\.1:80",real_server="10\.1\.0\.2:80"\} 1$/m);
  assert.match(text, /^ipvs_ts_kernel_counters_age_seconds 1\.5$/m);
  s = status([dest('10.1.0.2', 80, 5), dest('10.1.0.3', 8080, 1)], null);
  text = await m.render();
  assert.deepEqual(backend(text), [
    '{local_address="10.0.0.1",local_port="80",remote_address="10.1.0.2",remote_port="80",proto="TCP",local_mark=""} 5',
    '{local_address="10.0.0.1",local_port="80",remote_address="10.1.0.3",remote_port="8080",proto="TCP",local_mark=""} 1',
  ]);
  assert.match(text, /real_server="10\.1\.0\.3:8080"\} 1$/m);
  assert.doesNotMatch(text, /10\.1\.0\.1/);
  assert.doesNotMatch(text, /ipvs_ts_kernel_counters_age_seconds/, 'no counters read yet: no age');
  let parts = 0;
  for await (const part of m.stream()) if (part.length) parts++;
  assert.ok(parts >= 8, `streamed a family at a time (${parts} parts)`);
  m.close();
});

test('status request: one virtual server by VIP:port, VIP or name; summary counts instead of rows; the reply streamed as JSON', () => {
  const s = status([dest('10.1.0.1', 80, 1), dest('10.1.0.2', 80, 0)]);
  const other = { ...s.virtualServers[0]!, name: 'fwmark 7', services: [] };
  const both = { ...s, virtualServers: [s.virtualServers[0]!, other] };
  assert.deepEqual(selectStatus(both, { cmd: 'status', virtualServer: '10.0.0.1:80' }).virtualServers.map((v) => v.name), ['TCP 10.0.0.1:80']);
  assert.deepEqual(selectStatus(both, { cmd: 'status', virtualServer: '10.0.0.1' }).virtualServers.map((v) => v.name), ['TCP 10.0.0.1:80']);
  assert.deepEqual(selectStatus(both, { cmd: 'status', virtualServer: 'fwmark 7' }).virtualServers.map((v) => v.name), ['fwmark 7']);
  assert.deepEqual(selectStatus(both, { cmd: 'status', virtualServer: '10.9.9.9:80' }).virtualServers, []);
  const sum = selectStatus(both, { cmd: 'status', summary: true }).virtualServers[0]!;
  assert.deepEqual(sum.realServers, []);
  assert.deepEqual(sum.services[0]!.destinations, []);
  assert.deepEqual(sum.summary, { realServers: 2, up: 2, down: 0, pending: 0, inTable: 2, destinations: 2 });
  assert.equal(selectStatus(both, { cmd: 'status' }), both);
  for (const reply of [{ ok: true as const, status: both }, { ok: true as const, status: { ...both, virtualServers: [] } }, { ok: false as const, error: { code: 'X', message: '"virtualServers":[]' } }]) {
    assert.equal([...statusReply(reply)].join(''), JSON.stringify(reply));
  }
  const tricky = { ...both, vrrpFailure: { at: 0, code: 'X', message: '"virtualServers":[]' } };
  assert.equal([...statusReply({ ok: true, status: tricky })].join(''), JSON.stringify({ ok: true, status: tricky }));
});

test('GET /metrics streams the whole text (chunked) and a 404 elsewhere', async (t) => {
  const dests = Array.from({ length: 3000 }, (_, i) => dest(`10.1.${i >> 8}.${i & 255}`, 80, 1));
  const m = new DirectorMetrics(async () => tablesOfStatus(status(dests)));
  const server = await listenMetrics('127.0.0.1:0', m);
  t.after(() => {
    server.close();
    m.close();
  });
  const { port } = server.address() as AddressInfo;
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('transfer-encoding'), 'chunked');
  const text = await res.text();
  assert.equal(text, await m.render());
  assert.equal([...text.matchAll(/^ipvs_ts_backend_weight\{/gm)].length, 3000);
  assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
});
