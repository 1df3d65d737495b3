// Runs INSIDE the test VM; started by test/kernel/ipvs.vmtest.ts. Real TCP connections through IPVS: this VM's
// root namespace is the director, on a bridged LAN with a client namespace and real-server namespaces running
// a one-line perl server (each answers with its own name). NAT real servers sit on their own subnet behind the director; DR
// and TUN real servers hold the VIP on lo and answer the client directly.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { IpvsClient } from '../../../src/ipvs/client.ts';
import type { DestinationSpec, IpvsOp, ServiceSpec } from '../../../src/ipvs/types.ts';
import { NO_FLAGS, sh } from './ipvs-kit.ts';
import { clientLoop, freshSources, joinLan, removeLan, startServers, tally, writeLanScripts } from './lan.ts';

const VIP = '10.7.0.100';
const CLIENT = 'ipvst-cli';
const NAT_RS = [1, 2, 3].map((i) => ({ ns: `ipvst-nat${i}`, addr: `10.8.0.1${i}`, name: `nat${i}` }));
const DR_RS = [1, 2, 3].map((i) => ({ ns: `ipvst-dr${i}`, addr: `10.7.0.1${i}`, name: `dr${i}` }));
const ALL_NS = [CLIENT, ...NAT_RS.map((r) => r.ns), ...DR_RS.map((r) => r.ns)];

let client: IpvsClient;

// Everything runs as one shell script: each spawn from node forks a large process, which is slow under TCG.
function cleanup(): void {
  sh([removeLan(ALL_NS, 'ipvst-br'), 'ipvsadm -C', 'true'].join('\n'));
}

before(async () => {
  cleanup();
  writeLanScripts();
  const servers = [...NAT_RS, ...DR_RS];
  const script = [
    'set -e',
    'modprobe -a ip_vs ip_vs_rr ip_vs_wrr ip_vs_wlc ipip veth bridge',
    'ip link add ipvst-br type bridge stp_state 0 forward_delay 0',
    'ip link set ipvst-br up',
    `ip addr add 10.7.0.1/24 dev ipvst-br`,
    `ip addr add 10.8.0.1/24 dev ipvst-br`,
    `ip addr add ${VIP}/32 dev ipvst-br`,
    'sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.ipvst-br.send_redirects=0',
    ...joinLan('ipvst-br', CLIENT, 'vt0', '10.7.0.2/24'),
    ...NAT_RS.flatMap((r, i) => joinLan('ipvst-br', r.ns, `vt${10 + i}`, `${r.addr}/24`, '10.8.0.1')),
    ...DR_RS.flatMap((r, i) => [
      ...joinLan('ipvst-br', r.ns, `vt${20 + i}`, `${r.addr}/24`),
      // The VIP is local but never answered for in ARP; decapsulated TUN packets arrive on tunl0.
      `ip -n ${r.ns} addr add ${VIP}/32 dev lo`,
      `ip -n ${r.ns} link set tunl0 up`,
      `ip netns exec ${r.ns} sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.tunl0.rp_filter=0 net.ipv4.conf.default.rp_filter=0`,
    ]),
    ...startServers(servers),
  ];
  sh(script.join('\n'));
  client = await IpvsClient.open();
});

after(() => {
  client?.close();
  cleanup();
});

const nextSource = freshSources(CLIENT, VIP, '10.7.0.');

/**
 * Programs one service on the VIP, then makes `n` sequential connections from the client, from a source address no
 * earlier test used (an earlier test's connection entries outlive its service); counts per backend.
 */
async function distribute(service: Omit<ServiceSpec, 'id' | 'flags' | 'timeoutS' | 'netmask'>, dests: DestinationSpec[], n: number): Promise<Record<string, number>> {
  sh('ipvsadm -C');
  const id = { kind: 'addr', family: 4, protocol: 'TCP', address: VIP, port: 80 } as const;
  const ops: IpvsOp[] = [
    { op: 'add-service', service: { id, flags: NO_FLAGS, timeoutS: 0, netmask: '255.255.255.255', ...service } },
    ...dests.map((dest): IpvsOp => ({ op: 'add-dest', service: id, dest })),
  ];
  const r = await client.apply(ops);
  assert.deepEqual(r.failed.map((f) => f.error.message), []);
  sh(nextSource());
  return tally(sh(clientLoop(CLIENT, VIP, n)));
}

const dest = (address: string, forward: DestinationSpec['forward'], weight: number): DestinationSpec => ({
  address, family: 4, port: 80, forward, weight, upperThreshold: 0, lowerThreshold: 0, ...(forward === 'tunnel' ? { tunnel: { type: 'ipip' } } : {}),
});

test('NAT forwards real TCP connections; rr spreads them evenly', async () => {
  const counts = await distribute({ scheduler: 'rr' }, NAT_RS.map((r) => dest(r.addr, 'masq', 1)), 30);
  assert.deepEqual(counts, { nat1: 10, nat2: 10, nat3: 10 });
});

test('DR forwards real TCP connections; wrr with weights 1:2:3 gives 10:20:30 of 60', async () => {
  const counts = await distribute({ scheduler: 'wrr' }, DR_RS.map((r, i) => dest(r.addr, 'droute', i + 1)), 60);
  assert.deepEqual(counts, { dr1: 10, dr2: 20, dr3: 30 });
});

test('TUN (ipip) forwards real TCP connections; wlc with weights 1:2:3 follows the weights', async () => {
  const counts = await distribute({ scheduler: 'wlc' }, DR_RS.map((r, i) => dest(r.addr, 'tunnel', i + 1)), 60);
  assert.equal(counts.FAILED, undefined);
  // Finished connections linger as inactive, so wlc's overhead/weight keeps the split at the weights (±1).
  for (const [name, want] of [['dr1', 10], ['dr2', 20], ['dr3', 30]] as const) {
    assert.ok(Math.abs((counts[name] ?? 0) - want) <= 1, `${name}: ${counts[name]} connections, want ${want} ±1 (${JSON.stringify(counts)})`);
  }
});
