// Runs INSIDE the test VM; started by test/kernel/realserver.vmtest.ts. Real servers prepared only by
// `ipvs-ts realserver up` behind an ipvs-ts director (`ipvs apply` of a small keepalived.conf): this VM's root
// namespace is the director, holding the VIP on a LAN bridge with a client namespace and three real-server
// namespaces that start with nothing but an address and a TCP server (lan.ts). DR and TUN traffic, the failure
// a missing arp_ignore causes, and what `down` gives back.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runIpvsApply } from '../../../src/cli/ipvs-apply-run.ts';
import { sh } from './ipvs-kit.ts';
import { clientLoop, freshSources, joinLan, removeLan, startServers, tally, writeLanScripts } from './lan.ts';

const VIP = '10.17.0.100';
const BRIDGE = 'ipvsr-br';
const CLIENT = 'ipvsr-cli';
const RS = [1, 2, 3].map((i) => ({ ns: `ipvsr-rs${i}`, addr: `10.17.0.1${i}`, name: `rs${i}` }));
const [RS1] = RS as [(typeof RS)[number]];
const CONF = '/tmp/ipvsr-director.conf';
const IPVS_STATE = '/tmp/ipvsr-ipvs-state.json';
const record = (ns: string): string => `/tmp/ipvsr-${ns}.json`;
const BIN = fileURLToPath(new URL('../../../bin/ipvs-ts.js', import.meta.url));

function cleanup(): void {
  sh([removeLan([CLIENT, ...RS.map((r) => r.ns)], BRIDGE), 'ipvsadm -C', 'true'].join('\n'));
  for (const f of [CONF, IPVS_STATE, ...RS.map((r) => record(r.ns))]) rmSync(f, { force: true });
}

before(() => {
  cleanup();
  writeLanScripts();
  sh([
    'set -e',
    // No ipip: the TUN test shows `realserver up` loading it.
    'modprobe -a ip_vs ip_vs_rr ip_vs_wrr veth bridge',
    `ip link add ${BRIDGE} type bridge stp_state 0 forward_delay 0`,
    `ip link set ${BRIDGE} up`,
    `ip addr add 10.17.0.1/24 dev ${BRIDGE}`,
    `ip addr add ${VIP}/32 dev ${BRIDGE}`,
    ...joinLan(BRIDGE, CLIENT, 'vr0', '10.17.0.2/24'),
    ...RS.flatMap((r, i) => joinLan(BRIDGE, r.ns, `vr${i + 1}`, `${r.addr}/24`)),
    ...startServers(RS),
  ].join('\n'));
});

after(cleanup);

/** `ipvs-ts realserver …` inside a real server's namespace, as an admin would run it there. */
function realserver(ns: string, ...args: string[]): { code: number | null; lines: string[]; out: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, BIN, 'realserver', ...args, '--state', record(ns)], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.stderr, '', `realserver ${args.join(' ')} in ${ns}: ${r.stderr}`);
  return { code: r.status, lines: r.stdout.trim().split('\n'), out: r.stdout };
}

async function director(kind: 'DR' | 'TUN', algo: string, weights: readonly number[]): Promise<void> {
  const servers = RS.map((r, i) => `  real_server ${r.addr} 80 {\n    weight ${weights[i]}\n  }`).join('\n');
  writeFileSync(CONF, `virtual_server ${VIP} 80 {\n  lb_algo ${algo}\n  lb_kind ${kind}\n  protocol TCP\n${servers}\n}\n`);
  let text = '';
  const sink = new Writable({ write: (c, _e, cb) => { text += String(c); cb(); } });
  assert.equal(await runIpvsApply({ file: CONF, state: IPVS_STATE }, sink, sink), 0, text);
}

/** Connections the director's IPVS service has scheduled so far. */
function ipvsConns(): number {
  // The kernel folds its per-CPU counters into the totals every 2 s (with the rate estimator): wait for that.
  const m = /^TCP\s+\S+\s+(\d+)/m.exec(sh(`sleep 2.5; ipvsadm -Ln --stats -t ${VIP}:80`));
  return Number(m?.[1]);
}

const nextSource = freshSources(CLIENT, VIP, '10.17.0.');

/** `n` connections from the client to the VIP, from a source address no earlier run used (see freshSources). */
function traffic(n: number): Record<string, number> {
  sh(nextSource());
  return tally(sh(clientLoop(CLIENT, VIP, n)));
}

const inNs = (ns: string, cmd: string): string => sh(`ip netns exec ${ns} ${cmd}`);
const mac = (ns: string | undefined, dev: string): string => (ns ? inNs(ns, `cat /sys/class/net/${dev}/address`) : readFileSync(`/sys/class/net/${dev}/address`, 'utf8')).trim();

/** Every MAC that answers an ARP request for the VIP on the LAN. */
function arpAnswers(): string[] {
  const out = sh(`ip netns exec ${CLIENT} busybox arping -c 2 -w 3 -I eth0 ${VIP} || true`);
  return [...new Set([...out.matchAll(/reply from \S+ \[([0-9a-f:]+)\]/gi)].map((m) => (m[1] as string).toLowerCase()))].sort();
}

/** The client's neighbour entry for the VIP: the MAC its packets for the VIP go to, or its state when unresolved. */
function clientNeighbour(): string {
  const line = sh(`ip -n ${CLIENT} neigh show ${VIP} dev eth0`).trim();
  return /lladdr (\S+)/.exec(line)?.[1] ?? (line.split(' ').pop() || 'none');
}

/**
 * The window a director restart or a VRRP failover opens: for a moment no director holds the VIP, and the client
 * resolves it then. Afterwards the director holds it again, as before.
 */
function resolveWhileDirectorAway(): void {
  sh([`ip addr del ${VIP}/32 dev ${BRIDGE}`, `ip -n ${CLIENT} neigh flush dev eth0`, `ip netns exec ${CLIENT} ping -c 1 -W 2 ${VIP} >/dev/null 2>&1 || true`, `ip addr add ${VIP}/32 dev ${BRIDGE}`].join('\n'));
}

const DR_SYSCTLS = ['net.ipv4.conf.all.arp_ignore 0 -> 1', 'net.ipv4.conf.all.arp_announce 0 -> 2', 'net.ipv4.conf.lo.arp_ignore 0 -> 1', 'net.ipv4.conf.lo.arp_announce 0 -> 2'];

test('DR: real servers prepared only by `ipvs-ts realserver up` serve the VIP through the ipvs-ts director', async (t) => {
  await director('DR', 'rr', [1, 1, 1]);
  // Unprepared, a real server drops packets for an address it does not hold: the connection times out.
  assert.deepEqual(traffic(1), { FAILED: 1 });

  for (const r of RS) {
    const up = realserver(r.ns, 'up', '--vip', VIP);
    assert.equal(up.code, 0);
    assert.deepEqual(up.lines, [...DR_SYSCTLS.map((s) => `~ ${s}`), `+ ${VIP}/32 on lo`, `real server prepared for DR (${VIP}): 5 changes`]);
    assert.equal(realserver(r.ns, 'status').code, 0);
  }
  assert.deepEqual(realserver(RS1.ns, 'up', '--vip', VIP).lines, [`no changes: the real server is already prepared for DR (${VIP})`]);
  assert.deepEqual(arpAnswers(), [mac(undefined, BRIDGE)], 'only the director answers ARP for the VIP');

  const conns = ipvsConns();
  const counts = traffic(30);
  assert.deepEqual(counts, { rs1: 10, rs2: 10, rs3: 10 });
  assert.equal(ipvsConns() - conns, 30, 'every connection went through the director');
  t.diagnostic(`DR rr: ${JSON.stringify(counts)}, ${ipvsConns() - conns} connections scheduled by IPVS`);
});

test('a real server without arp_ignore answers ARP for the VIP and takes its traffic from the director; `up` repairs it', async (t) => {
  inNs(RS1.ns, 'sysctl -qw net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.lo.arp_ignore=0');
  const st = realserver(RS1.ns, 'status');
  assert.equal(st.code, 1);
  assert.deepEqual(st.lines.filter((l) => l.startsWith('WRONG')).map((l) => l.split(':')[0]), ['WRONG  net.ipv4.conf.all.arp_ignore is 0, want 1 or 2', 'WRONG  net.ipv4.conf.lo.arp_ignore is 0, want 1 or 2']);

  // Two hosts answer for one address; the LAN believes whichever answer it took.
  const director = mac(undefined, BRIDGE);
  const rs1 = mac(RS1.ns, 'eth0');
  assert.deepEqual(arpAnswers(), [director, rs1].sort());
  let won = 0;
  for (let i = 0; i < 10; i++) {
    sh(`ip -n ${CLIENT} neigh flush dev eth0; ip netns exec ${CLIENT} ping -c 1 -W 2 ${VIP} >/dev/null 2>&1 || true`);
    if (clientNeighbour() === rs1) won++;
  }
  t.diagnostic(`ARP race with both answering: rs1's answer taken in ${won} of 10 fresh resolutions (the director's bridge answers first here)`);

  resolveWhileDirectorAway();
  assert.equal(clientNeighbour(), rs1, "the client resolved the VIP to rs1's MAC");
  const conns = ipvsConns();
  const stolen = traffic(30);
  assert.deepEqual(stolen, { rs1: 30 }, 'every connection went straight to rs1');
  assert.equal(ipvsConns(), conns, 'the director scheduled none of them');
  t.diagnostic(`without arp_ignore, after one resolution in a director's absence: ${JSON.stringify(stolen)}, IPVS scheduled ${ipvsConns() - conns}`);

  const fix = realserver(RS1.ns, 'up', '--vip', VIP);
  assert.deepEqual(fix.lines, ['~ net.ipv4.conf.all.arp_ignore 0 -> 1', '~ net.ipv4.conf.lo.arp_ignore 0 -> 1', `real server prepared for DR (${VIP}): 2 changes`]);
  assert.equal(realserver(RS1.ns, 'status').code, 0);
  assert.deepEqual(arpAnswers(), [director]);
  resolveWhileDirectorAway();
  assert.notEqual(clientNeighbour(), rs1, 'nobody answered while the director was away');
  sh(`ip -n ${CLIENT} neigh flush dev eth0`);
  const back = ipvsConns();
  const counts = traffic(30);
  assert.deepEqual(counts, { rs1: 10, rs2: 10, rs3: 10 });
  assert.equal(ipvsConns() - back, 30);
  t.diagnostic(`after \`realserver up\`: ${JSON.stringify(counts)}, IPVS scheduled ${ipvsConns() - back}`);
});

test('DR: `realserver down` removes the VIP and restores the sysctls it changed', () => {
  for (const r of RS) {
    const down = realserver(r.ns, 'down');
    assert.equal(down.code, 0);
    assert.deepEqual(down.lines, [`- ${VIP}/32 from lo`, ...DR_SYSCTLS.map((s) => `~ ${s.replace(/(\S+) -> (\S+)$/, '$2 -> $1')}`), 'undone: 5 changes']);
    assert.equal(inNs(r.ns, 'sysctl -n net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce').split('\n').filter(Boolean).join(' '), '0 0');
    assert.doesNotMatch(sh(`ip -n ${r.ns} addr show dev lo`), new RegExp(VIP.replaceAll('.', '\\.')));
    assert.equal(existsSync(record(r.ns)), false);
  }
  assert.equal(realserver(RS1.ns, 'status', '--vip', VIP).code, 1);
});

test('TUN: `realserver up --mode tun` loads ipip, puts the VIP on tunl0 and relaxes a strict rp_filter; traffic follows wrr 1:2:3', async (t) => {
  // Strict reverse-path filtering, as several distributions set it; tunl0 takes `default` when ipip creates it.
  for (const r of RS) inNs(r.ns, 'sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1');
  const ipipLoaded = existsSync('/sys/module/ipip');
  const sysctls = ['all.arp_ignore 0 -> 1', 'all.arp_announce 0 -> 2', 'all.rp_filter 1 -> 2', 'tunl0.arp_ignore 0 -> 1', 'tunl0.arp_announce 0 -> 2', 'tunl0.rp_filter 1 -> 2'].map((s) => `net.ipv4.conf.${s}`);
  for (const [i, r] of RS.entries()) {
    const up = realserver(r.ns, 'up', '--mode', 'tun', '--vip', VIP);
    assert.equal(up.code, 0);
    const loads = i === 0 && !ipipLoaded;
    assert.deepEqual(up.lines, [
      ...(loads ? ['+ module ipip loaded (tunl0; not unloaded by `down`)'] : []),
      ...sysctls.map((s) => `~ ${s}`), '~ tunl0 up', `+ ${VIP}/32 on tunl0`, `real server prepared for TUN (${VIP}): ${loads ? 9 : 8} changes`,
    ]);
    assert.equal(realserver(r.ns, 'status').code, 0);
  }
  await director('TUN', 'wrr', [1, 2, 3]);
  // The real servers hold the VIP on tunl0 behind arp_ignore: only the director answers for it.
  assert.deepEqual(arpAnswers(), [mac(undefined, BRIDGE)]);
  sh(`ip -n ${CLIENT} neigh flush dev eth0`);
  const conns = ipvsConns();
  const counts = traffic(60);
  const scheduled = ipvsConns() - conns;
  // Any 60 wrr picks in a row at 1:2:3 are exactly 10:20:30; a connection that did not pass the director shows in
  // `scheduled` (one such run counted 11:19:30), and the client's neighbour entry says where its packets went.
  assert.deepEqual({ counts, scheduled }, { counts: { rs1: 10, rs2: 20, rs3: 30 }, scheduled: 60 }, `the client's neighbour entry for the VIP: ${clientNeighbour()}`);
  t.diagnostic(`TUN wrr 1:2:3: ${JSON.stringify(counts)}, ${scheduled} connections scheduled by IPVS`);

  for (const r of RS) {
    const down = realserver(r.ns, 'down');
    assert.deepEqual(down.lines, [`- ${VIP}/32 from tunl0`, '~ tunl0 down', ...sysctls.map((s) => `~ ${s.replace(/(\S+) -> (\S+)$/, '$2 -> $1')}`), 'undone: 8 changes']);
    assert.doesNotMatch(sh(`ip -n ${r.ns} link show tunl0`), /[<,]UP[,>]/);
    assert.equal(inNs(r.ns, 'sysctl -n net.ipv4.conf.tunl0.rp_filter').trim(), '1');
  }
});
