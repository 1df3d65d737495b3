// The pure real-server decisions (src/realserver/needs.ts, plan.ts, record.ts) on hand-made host states: the TUN
// settings, the order of up's steps, and what down does with a tunnel it brought up.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { needs, parseVip } from '../../src/realserver/needs.ts';
import { describeStep, type HostState, inspect, planDown, planUp } from '../../src/realserver/plan.ts';
import { addToRecord, NOTHING_OWNED, type Owned } from '../../src/realserver/record.ts';

const VIP = parseVip('10.0.0.100');

function host(over: Partial<HostState> = {}): HostState {
  return { links: new Map([['lo', true], ['tunl0', false]]), addresses: [], sysctls: new Map(), ...over };
}

test('TUN needs ipip, the VIP on tunl0 and, on tunl0 and all, the ARP sysctls and a relaxed rp_filter', () => {
  const n = needs('tun', [VIP]);
  assert.equal(n.module, 'ipip');
  assert.deepEqual(n.addresses, [{ address: '10.0.0.100', family: 4, prefix: 32, device: 'tunl0' }]);
  assert.deepEqual(n.sysctls.map((s) => `${s.key}=${s.good.join('|')}>${s.set}`), [
    'net.ipv4.conf.all.arp_ignore=1|2>1', 'net.ipv4.conf.all.arp_announce=2>2', 'net.ipv4.conf.all.rp_filter=0|2>2',
    'net.ipv4.conf.tunl0.arp_ignore=1|2>1', 'net.ipv4.conf.tunl0.arp_announce=2>2', 'net.ipv4.conf.tunl0.rp_filter=0|2>2',
  ]);
  assert.deepEqual(needs('dr', [parseVip('2001:db8::1')]).sysctls, [], 'IPv6 only: no ARP, no sysctl');
});

test('up: sysctls, then the device, then the VIPs; only wrong values change', () => {
  const n = needs('tun', [VIP]);
  const sysctls = new Map(n.sysctls.map((s) => [s.key, s.good[0] as string]));
  sysctls.set('net.ipv4.conf.all.rp_filter', '1');
  sysctls.set('net.ipv4.conf.tunl0.arp_ignore', '0');
  const steps = planUp(n, host({ sysctls }));
  assert.deepEqual(steps.map(describeStep), [
    '~ net.ipv4.conf.all.rp_filter 1 -> 2',
    '~ net.ipv4.conf.tunl0.arp_ignore 0 -> 1',
    '~ tunl0 up',
    '+ 10.0.0.100/32 on tunl0',
  ]);
  assert.deepEqual(inspect(n, host({ sysctls })).filter((f) => !f.ok).map((f) => f.text.split(':')[0]), [
    'tunl0 is down', '10.0.0.100/32 is not on tunl0', 'net.ipv4.conf.all.rp_filter is 1, want 0 or 2', 'net.ipv4.conf.tunl0.arp_ignore is 0, want 1 or 2',
  ]);
  const missing = inspect(n, host({ links: new Map([['lo', true]]) }));
  assert.equal(missing[0]?.text, 'tunl0 does not exist (load ipip: modprobe ipip)');
});

test('down takes tunl0 down only when up brought it up and nothing else is on it', () => {
  const vip = { address: '10.0.0.100', family: 4, prefix: 32, device: 'tunl0', mode: 'tun' } as const;
  const owned: Owned = { addresses: [vip], links: ['tunl0'], sysctls: [{ key: 'net.ipv4.conf.tunl0.rp_filter', before: '1', set: '2' }] };
  const up = new Map([['tunl0', true]]);
  const sysctls = new Map([['net.ipv4.conf.tunl0.rp_filter', '2']]);
  const alone = planDown(owned, host({ links: up, sysctls, addresses: [{ address: '10.0.0.100', prefix: 32, device: 'tunl0' }] }));
  assert.deepEqual(alone.steps.map(describeStep), ['- 10.0.0.100/32 from tunl0', '~ tunl0 down', '~ net.ipv4.conf.tunl0.rp_filter 2 -> 1']);
  assert.deepEqual(alone.remaining, NOTHING_OWNED);
  const shared = planDown(owned, host({ links: up, sysctls, addresses: [{ address: '10.0.0.100', prefix: 32, device: 'tunl0' }, { address: '10.0.0.9', prefix: 32, device: 'tunl0' }] }));
  assert.deepEqual(shared.steps.map(describeStep), ['- 10.0.0.100/32 from tunl0', '~ net.ipv4.conf.tunl0.rp_filter 2 -> 1']);
  assert.deepEqual(shared.notes, ['tunl0 left up: it holds addresses ipvs-ts did not add']);
  const gone = planDown(owned, host({ links: up, sysctls }), ['10.0.0.100', '10.0.0.7']);
  assert.deepEqual(gone.notes, ['10.0.0.7: not added by `ipvs-ts realserver up`; left alone', '10.0.0.100/32 was already gone from tunl0']);
});

test('the record keeps the first value found for a sysctl changed twice, and each VIP once', () => {
  const vip = { address: '10.0.0.100', family: 4, prefix: 32, device: 'lo', mode: 'dr' } as const;
  const first = addToRecord(NOTHING_OWNED, { addresses: [vip], links: [], sysctls: [{ key: 'k', before: '0', set: '1' }] });
  const second = addToRecord(first, { addresses: [vip], links: [], sysctls: [{ key: 'k', before: '3', set: '1' }] });
  assert.deepEqual(second, { addresses: [vip], links: [], sysctls: [{ key: 'k', before: '0', set: '1' }] });
});
