import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sortTable } from '../../src/ipvs/format.ts';
import type { DestinationEntry, ServiceEntry } from '../../src/ipvs/types.ts';

const stats = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0n, outBytes: 0n, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 };
const dest = (address: string, port: number): DestinationEntry =>
  ({ address, family: address.includes(':') ? 6 : 4, port, forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0, activeConns: 0, inactiveConns: 0, persistConns: 0, stats }) as unknown as DestinationEntry;
const service = (address: string, port: number): ServiceEntry =>
  ({ id: { kind: 'addr', family: address.includes(':') ? 6 : 4, protocol: 'TCP', address, port }, scheduler: 'wlc', flags: {}, timeoutS: 0, netmask: '255.255.255.255', stats }) as unknown as ServiceEntry;
const names = (ds: readonly DestinationEntry[]): string[] => ds.map((d) => `${d.address}:${d.port}`);

test('destinations sort as ipvsadm sorts them: by address bytes, then port, not as text', () => {
  const ds = [dest('10.0.0.10', 80), dest('10.0.0.9', 443), dest('192.168.1.1', 1), dest('10.0.0.9', 80), dest('9.255.255.255', 80)];
  const [sorted] = sortTable({ services: [{ service: service('10.1.1.1', 80), destinations: ds }] }).services;
  assert.deepEqual(names(sorted!.destinations), ['9.255.255.255:80', '10.0.0.9:80', '10.0.0.9:443', '10.0.0.10:80', '192.168.1.1:1']);
});

test('IPv6 destinations sort by their bytes too', () => {
  const ds = [dest('2001:db8::10', 80), dest('2001:db8::9', 80), dest('2001:db8::9', 8)];
  const [sorted] = sortTable({ services: [{ service: service('2001:db8::1', 80), destinations: ds }] }).services;
  assert.deepEqual(names(sorted!.destinations), ['2001:db8::9:8', '2001:db8::9:80', '2001:db8::10:80']);
});

test('services sort by address, then port', () => {
  const table = sortTable({ services: [service('10.0.0.10', 80), service('10.0.0.9', 443), service('10.0.0.9', 80)].map((s) => ({ service: s, destinations: [] })) });
  assert.deepEqual(table.services.map(({ service: s }) => (s.id.kind === 'addr' ? `${s.id.address}:${s.id.port}` : '')), ['10.0.0.9:80', '10.0.0.9:443', '10.0.0.10:80']);
});
