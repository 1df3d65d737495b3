import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/index.ts';
import { addAddress, desiredTable } from '../../src/ipvs/desired.ts';
import { serviceKey } from '../../src/ipvs/identity.ts';

function table(text: string) {
  const { config, problems } = parseConfigText(text, 'test.conf', { skipHostChecks: true });
  assert.ok(config, problems.map((p) => p.message).join('\n'));
  return desiredTable(config);
}

test('virtual_server_group: address ranges and fwmarks expand to one service each, real servers at their weights', () => {
  const t = table(`
virtual_server_group WEB {
  10.0.0.1-3 80
  2001:db8::a-c 443
  fwmark 7
}
virtual_server group WEB {
  lb_algo wlc
  lb_kind DR
  protocol TCP
  real_server 10.1.0.1 80 {
    weight 3
  }
}
`);
  assert.deepEqual(t.services.map((s) => serviceKey(s.service.id)), [
    'TCP 10.0.0.1:80', 'TCP 10.0.0.2:80', 'TCP 10.0.0.3:80', 'TCP [2001:db8::a]:443', 'TCP [2001:db8::b]:443', 'TCP [2001:db8::c]:443', 'FWM 7 IPv4',
  ]);
  for (const s of t.services) {
    assert.equal(s.service.scheduler, 'wlc');
    assert.deepEqual(s.destinations.map((d) => [d.address, d.port, d.forward, d.weight]), [['10.1.0.1', 80, 'droute', 3]]);
  }
});

test('persistence, granularity, scheduler flags, one-packet, thresholds, NAT and TUN', () => {
  const t = table(`
virtual_server 192.0.2.1 53 {
  lb_algo sh
  lb_kind NAT
  protocol UDP
  persistence_timeout 600
  persistence_granularity 255.255.255.0
  sh-port
  ops
  real_server 10.2.0.1 5353 {
    weight 2
    uthreshold 100
    lthreshold 10
  }
}
virtual_server 2001:db8::1 80 {
  lb_algo rr
  lb_kind TUN
  protocol TCP
  real_server 2001:db8:1::1 80 {
  }
}
`);
  const [udp, v6] = t.services;
  assert.deepEqual(udp?.service.id, { kind: 'addr', family: 4, protocol: 'UDP', address: '192.0.2.1', port: 53 });
  assert.deepEqual(udp?.service.flags, { persistent: true, onePacket: true, shFallback: false, shPort: true, schedFlag3: false });
  assert.equal(udp?.service.timeoutS, 600);
  assert.equal(udp?.service.netmask, '255.255.255.0');
  assert.deepEqual(udp?.destinations[0], { address: '10.2.0.1', family: 4, port: 5353, forward: 'masq', weight: 2, upperThreshold: 100, lowerThreshold: 10 });
  assert.equal(v6?.service.netmask, '128');
  assert.equal(v6?.service.flags.persistent, false);
  assert.deepEqual(v6?.destinations[0]?.tunnel, { type: 'ipip' });
  assert.equal(v6?.destinations[0]?.weight, 1);
});

test('addAddress steps through IPv4 and IPv6 ranges with carry', () => {
  assert.equal(addAddress('10.0.0.254', 3), '10.0.1.1');
  assert.equal(addAddress('2001:db8::ffff', 1), '2001:db8::1:0');
  assert.equal(addAddress('10.0.0.1', 0), '10.0.0.1');
});
