// garp_group as keepalived 2.2.7 reads it: intervals, interface / interfaces, and what it refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText, type Problem } from '../../src/config/index.ts';

const parse = (text: string) => parseConfigText(text, 'k.conf', { skipHostChecks: true });
const summary = (ps: Problem[]): string[] => ps.map((p) => `${p.severity} ${p.code} ${p.pos?.line} ${p.message}`);

test('garp_group: intervals in seconds, one interface or a list; unset intervals stay unset', () => {
  const r = parse(`
garp_group {
  garp_interval 0.25
  interface eth0
}
garp_group {
  gna_interval 0.01
  garp_interval 0
  interfaces {
    eth1 eth2
    eth3
  }
}
`);
  assert.deepEqual(summary(r.problems), []);
  assert.deepEqual(r.config?.garpGroups.map(({ pos: _, ...g }) => g), [
    { garpIntervalMs: 250, interfaces: ['eth0'] },
    { gnaIntervalMs: 10, garpIntervalMs: 0, interfaces: ['eth1', 'eth2', 'eth3'] },
  ]);
});

test('garp_group: no interval is an error (keepalived drops the group), no interface and a large interval are warned', () => {
  const r = parse(`
garp_group {
  interface eth0
}
garp_group {
  garp_interval 2
}
`);
  assert.deepEqual(summary(r.problems), [
    'error missing 2 garp_group sets neither garp_interval nor gna_interval',
    'warning missing 5 garp_group names no interface (interface IF or interfaces { IF … }), so it paces nothing',
    'warning lenient 6 garp_interval 2 s is very large: each address of a new master is announced at most once per interval on these interfaces',
  ]);
});

test('garp_group: an interface in a second group is refused (keepalived reports it and keeps the first)', () => {
  const r = parse(`
garp_group {
  garp_interval 0.1
  interface eth0
}
garp_group {
  garp_interval 0.5
  interfaces {
    eth0
    eth1
  }
}
`);
  assert.deepEqual(summary(r.problems), ['error duplicate 6 garp_group: interface eth0 is already in the garp_group at k.conf:2']);
});

test('garp_group: unknown keywords and bad values are errors', () => {
  const r = parse(`
garp_group {
  garp_interval soon
  interfaace eth0
}
`);
  assert.deepEqual(r.problems.map((p) => [p.severity, p.code]), [
    ['error', 'missing'],
    ['error', 'bad-value'],
    ['error', 'unknown-keyword'],
  ]);
});
