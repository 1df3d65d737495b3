import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeAttrs, encodeAttrs, nested, u32, u64, u16 } from '../../src/netlink/attributes.ts';
import { decodeConfig, decodeDaemon, decodeDest, decodeInfo, decodeService, newDaemonRequest, setConfigRequest } from '../../src/ipvs/codec.ts';
import { destAttrs, opRequest, serviceAttrs } from './reference-encoder.ts';
import { IPVS_CMD, IPVS_CMD_ATTR, IPVS_DEST_ATTR, IPVS_SVC_ATTR, SCHEDULERS } from '../../src/ipvs/constants.ts';
import type { DestinationSpec, ServiceSpec } from '../../src/ipvs/types.ts';

const NO_FLAGS = { persistent: false, onePacket: false, shFallback: false, shPort: false, schedFlag3: false };

function roundTripService(s: ServiceSpec): ServiceSpec {
  const wire = encodeAttrs([nested(IPVS_CMD_ATTR.SERVICE, serviceAttrs(s))]);
  const { stats: _stats, ...back } = decodeService(wire);
  return back;
}

function roundTripDest(d: DestinationSpec): DestinationSpec {
  const wire = encodeAttrs([nested(IPVS_CMD_ATTR.DEST, destAttrs(d))]);
  const { stats: _s, activeConns: _a, inactiveConns: _i, persistConns: _p, ...back } = decodeDest(wire, d.family);
  return back;
}

test('IPv4 TCP service: exact bytes of the nested service attribute', () => {
  const s: ServiceSpec = { id: { kind: 'addr', family: 4, protocol: 'TCP', address: '10.0.0.1', port: 80 }, scheduler: 'rr', flags: NO_FLAGS, timeoutS: 0, netmask: '255.255.255.255' };
  const wire = encodeAttrs(serviceAttrs(s));
  assert.equal(
    wire.toString('hex'),
    [
      '06000100' + '0200' + '0000', // AF = AF_INET
      '06000200' + '0600' + '0000', // PROTOCOL = TCP
      '08000300' + '0a000001', // ADDR
      '06000400' + '0050' + '0000', // PORT, network order
      '07000600' + '727200' + '00', // SCHED_NAME "rr\0"
      '0c000700' + '00000000' + '3d000000', // FLAGS {flags, mask}
      '08000800' + '00000000', // TIMEOUT
      '08000900' + 'ffffffff', // NETMASK
    ].join(''),
  );
});

test('every scheduler, family, protocol and flag round-trips', () => {
  const ids = [
    { kind: 'addr', family: 4, protocol: 'TCP', address: '192.0.2.10', port: 443 },
    { kind: 'addr', family: 6, protocol: 'UDP', address: '2001:db8::10', port: 53 },
    { kind: 'addr', family: 4, protocol: 'SCTP', address: '192.0.2.11', port: 3868 },
    { kind: 'fwmark', family: 4, mark: 7 },
    { kind: 'fwmark', family: 6, mark: 0xfffffffe },
  ] as const;
  for (const scheduler of SCHEDULERS) {
    for (const id of ids) {
      const s: ServiceSpec = {
        id,
        scheduler,
        flags: { persistent: true, onePacket: true, shFallback: true, shPort: false, schedFlag3: true },
        timeoutS: 360,
        netmask: id.family === 4 ? '255.255.255.0' : '64',
        pe: 'sip',
      };
      assert.deepEqual(roundTripService(s), s);
    }
  }
});

test('IPv6 persistence netmask is the prefix length as a host-order u32', () => {
  const s: ServiceSpec = { id: { kind: 'fwmark', family: 6, mark: 1 }, scheduler: 'wlc', flags: NO_FLAGS, timeoutS: 0, netmask: '128' };
  const a = decodeAttrs(encodeAttrs(serviceAttrs(s)));
  assert.equal(a.get(IPVS_SVC_ATTR.NETMASK)?.toString('hex'), '80000000');
  assert.equal(a.u32(IPVS_SVC_ATTR.FWMARK), 1);
  assert.equal(a.has(IPVS_SVC_ATTR.ADDR), false);
});

test('destinations: every forward method, tunnel options, thresholds and mixed families round-trip', () => {
  const dests: DestinationSpec[] = [
    { address: '10.1.0.1', family: 4, port: 8080, forward: 'masq', weight: 3, upperThreshold: 100, lowerThreshold: 10 },
    { address: '10.1.0.2', family: 4, port: 80, forward: 'droute', weight: 0, upperThreshold: 0, lowerThreshold: 0 },
    { address: '10.1.0.3', family: 4, port: 80, forward: 'tunnel', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip' } },
    { address: '10.1.0.4', family: 4, port: 80, forward: 'tunnel', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'gue', port: 6080, csum: 'remote' } },
    { address: '2001:db8::4', family: 6, port: 80, forward: 'tunnel', weight: 65535, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'gre', csum: 'checksum' } },
    { address: '2001:db8::5', family: 6, port: 80, forward: 'droute', weight: 2, upperThreshold: 5, lowerThreshold: 1 },
  ];
  for (const d of dests) assert.deepEqual(roundTripDest(d), d);
  const gue = decodeAttrs(encodeAttrs(destAttrs(dests[3]!)));
  assert.equal(gue.u8(IPVS_DEST_ATTR.TUN_TYPE), 1);
  assert.equal(gue.be16(IPVS_DEST_ATTR.TUN_PORT), 6080);
  assert.equal(gue.u16(IPVS_DEST_ATTR.TUN_FLAGS), 2);
  assert.equal(decodeAttrs(encodeAttrs(destAttrs(dests[0]!))).has(IPVS_DEST_ATTR.TUN_TYPE), false);
});

test('kernel replies: 16-byte address union, STATS64 counters, connection counts, HASHED flag ignored', () => {
  const addr = Buffer.alloc(16);
  addr.set([10, 0, 0, 9]);
  const flags = Buffer.alloc(8);
  flags.writeUInt32LE(0x2 | 0x1, 0);
  const svc = encodeAttrs([
    nested(IPVS_CMD_ATTR.SERVICE, [
      u16(IPVS_SVC_ATTR.AF, 2), u16(IPVS_SVC_ATTR.PROTOCOL, 6), { type: IPVS_SVC_ATTR.ADDR, value: addr },
      { type: IPVS_SVC_ATTR.PORT, value: Buffer.from([0, 80]) }, u32(IPVS_SVC_ATTR.FWMARK, 0),
      { type: IPVS_SVC_ATTR.SCHED_NAME, value: Buffer.from('wlc\0') }, { type: IPVS_SVC_ATTR.FLAGS, value: flags },
      u32(IPVS_SVC_ATTR.TIMEOUT, 300), { type: IPVS_SVC_ATTR.NETMASK, value: Buffer.from([255, 255, 255, 255]) },
      nested(IPVS_SVC_ATTR.STATS64, [u64(1, 5n), u64(4, 1234n), u64(11, 0n)]),
    ]),
  ]);
  const s = decodeService(svc);
  assert.deepEqual(s.id, { kind: 'addr', family: 4, protocol: 'TCP', address: '10.0.0.9', port: 80 });
  assert.equal(s.flags.persistent, true);
  assert.equal(s.stats.conns, 5n);
  assert.equal(s.stats.inBytes, 1234n);
  const dst = encodeAttrs([
    nested(IPVS_CMD_ATTR.DEST, [
      { type: IPVS_DEST_ATTR.ADDR, value: addr }, { type: IPVS_DEST_ATTR.PORT, value: Buffer.from([0x1f, 0x90]) },
      u32(IPVS_DEST_ATTR.FWD_METHOD, 0x3 | 0x100), u32(IPVS_DEST_ATTR.WEIGHT, 4), u32(IPVS_DEST_ATTR.ACTIVE_CONNS, 7),
      u32(IPVS_DEST_ATTR.INACT_CONNS, 2), u32(IPVS_DEST_ATTR.PERSIST_CONNS, 1), u16(IPVS_DEST_ATTR.ADDR_FAMILY, 2),
    ]),
  ]);
  const d = decodeDest(dst, 4);
  assert.equal(d.port, 8080);
  assert.equal(d.forward, 'droute');
  assert.deepEqual([d.activeConns, d.inactiveConns, d.persistConns], [7, 2, 1]);
});

test('a truncated reply is a decode error, not a crash', () => {
  const wire = encodeAttrs([nested(IPVS_CMD_ATTR.SERVICE, [u16(IPVS_SVC_ATTR.AF, 2)])]);
  assert.throws(() => decodeService(wire), { code: 'IPVS_DECODE' });
});

test('plan ops map to one command each', () => {
  const id = { kind: 'fwmark', family: 4, mark: 3 } as const;
  const dest: DestinationSpec = { address: '10.0.0.2', family: 4, port: 0, forward: 'droute', weight: 1, upperThreshold: 0, lowerThreshold: 0 };
  const service: ServiceSpec = { id, scheduler: 'rr', flags: NO_FLAGS, timeoutS: 0, netmask: '255.255.255.255' };
  assert.equal(opRequest({ op: 'add-service', service }).cmd, IPVS_CMD.NEW_SERVICE);
  assert.equal(opRequest({ op: 'edit-service', service }).cmd, IPVS_CMD.SET_SERVICE);
  assert.equal(opRequest({ op: 'del-service', id }).cmd, IPVS_CMD.DEL_SERVICE);
  assert.equal(opRequest({ op: 'add-dest', service: id, dest }).cmd, IPVS_CMD.NEW_DEST);
  assert.equal(opRequest({ op: 'edit-dest', service: id, dest }).cmd, IPVS_CMD.SET_DEST);
  const del = opRequest({ op: 'del-dest', service: id, dest });
  assert.equal(del.cmd, IPVS_CMD.DEL_DEST);
  const a = decodeAttrs(encodeAttrs(del.attrs));
  assert.equal(a.nested(IPVS_CMD_ATTR.DEST)?.has(IPVS_DEST_ATTR.WEIGHT), false);
});

test('info, config and sync daemon', () => {
  assert.deepEqual(decodeInfo(decodeAttrs(encodeAttrs([u32(1, 0x010201), u32(2, 4096)]))), { version: '1.2.1', connTableSize: 4096 });
  const cfg = setConfigRequest({ tcp: 900, tcpFin: 120, udp: 300 });
  assert.deepEqual(decodeConfig(decodeAttrs(encodeAttrs(cfg.attrs))), { tcp: 900, tcpFin: 120, udp: 300 });
  const daemon = { state: 'master', interface: 'eth0', syncId: 7, maxlen: 1472, group: '224.0.0.81', port: 8848, ttl: 1 } as const;
  assert.deepEqual(decodeDaemon(decodeAttrs(encodeAttrs(newDaemonRequest(daemon).attrs))), daemon);
  const d6 = { state: 'backup', interface: 'eth1', syncId: 1, group: 'ff02::8' } as const;
  assert.deepEqual(decodeDaemon(decodeAttrs(encodeAttrs(newDaemonRequest(d6).attrs))), d6);
});
