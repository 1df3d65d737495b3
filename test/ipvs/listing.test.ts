import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeAttrs, nested, u32 } from '../../src/netlink/attributes.ts';
import { IPVS_CMD_ATTR, IPVS_DEST_ATTR } from '../../src/ipvs/constants.ts';
import { formatListing, sortListing } from '../../src/ipvs/format.ts';
import { DestinationRows, type Listing } from '../../src/ipvs/listing.ts';
import type { DestinationSpec, ServiceEntry } from '../../src/ipvs/types.ts';
import { destAttrs } from './reference-encoder.ts';

const NO_FLAGS = { persistent: false, onePacket: false, shFallback: false, shPort: false, schedFlag3: false };
const stats = { conns: 0n, inPkts: 0n, outPkts: 0n, inBytes: 0n, outBytes: 0n, cps: 0n, inPps: 0n, outPps: 0n, inBps: 0n, outBps: 0n };
const service = (address: string, port: number, extra: Partial<ServiceEntry> = {}): ServiceEntry => ({
  id: { kind: 'addr', family: address.includes(':') ? 6 : 4, protocol: 'TCP', address, port }, scheduler: 'wlc', flags: NO_FLAGS, timeoutS: 0,
  netmask: address.includes(':') ? '128' : '255.255.255.255', stats, ...extra,
});
const dest = (address: string, port: number, extra: Partial<DestinationSpec> = {}): DestinationSpec => ({
  address, family: address.includes(':') ? 6 : 4, port, forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0, ...extra,
});

/** A listing as the client reads it: each destination through its GET_DEST reply's bytes. */
function listing(table: [ServiceEntry, [DestinationSpec, number, number][]][]): Listing {
  const rows = new DestinationRows(1, false);
  const dests = table.map(([s, ds]) =>
    ds.map(([d, active, inactive]) => {
      const wire = encodeAttrs([nested(IPVS_CMD_ATTR.DEST, [...destAttrs(d), u32(IPVS_DEST_ATTR.ACTIVE_CONNS, active), u32(IPVS_DEST_ATTR.INACT_CONNS, inactive)])]);
      return rows.add(wire, s.id.family, 0, wire.length);
    }),
  );
  return { services: table.map(([s]) => s), dests, rows };
}

test("a listing is ipvsadm -Ln's text: services and destinations in ipvsadm's order, its columns and padding", () => {
  const l = listing([
    [service('10.0.0.10', 80), [[dest('192.168.1.1', 1), 0, 0], [dest('10.0.0.9', 443, { weight: 70000 }), 1234567, 12345678901 % 2 ** 32], [dest('9.255.255.255', 80, { forward: 'droute' }), 3, 4], [dest('10.0.0.9', 80), 0, 0]]],
    [service('2001:db8::1', 443, { scheduler: 'sh', flags: { ...NO_FLAGS, persistent: true, shPort: true }, timeoutS: 300, netmask: '64' }), [[dest('2001:db8::10', 80), 0, 0], [dest('2001:db8::9', 80, { forward: 'tunnel' }), 0, 0]]],
    [service('10.0.0.9', 443), []],
  ]);
  const text = formatListing({ version: '1.2.1', connTableSize: 4096 }, sortListing(l)).toString();
  assert.equal(
    text,
    [
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
      'TCP  10.0.0.9:443 wlc',
      'TCP  10.0.0.10:80 wlc',
      '  -> 9.255.255.255:80             Route   1      3          4         ',
      '  -> 10.0.0.9:80                  Masq    1      0          0         ',
      '  -> 10.0.0.9:443                 Masq    70000  1234567    3755744309',
      '  -> 192.168.1.1:1                Masq    1      0          0         ',
      'TCP  [2001:db8::1]:443 sh (sh-port) persistent 300 mask 64',
      '  -> [2001:db8::9]:80             Tunnel  1      0          0         ',
      '  -> [2001:db8::10]:80            Masq    1      0          0         ',
      '',
    ].join('\n'),
  );
});

test('rows grow past their first capacity', () => {
  const ds: [DestinationSpec, number, number][] = Array.from({ length: 100 }, (_, i) => [dest(`10.1.${i}.1`, 80), i, 0]);
  const l = listing([[service('10.0.0.1', 80), ds]]);
  assert.equal(l.rows.count, 100);
  assert.equal(formatListing({ version: '1.2.1', connTableSize: 4096 }, sortListing(l)).toString().split('\n').length, 4 + 1 + 100);
});
