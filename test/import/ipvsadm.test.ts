// `ipvs-ts import ipvsadm`: ipvsadm saves and scripts (the user's seed scripts among them) → keepalived.conf. The
// proof of equivalence on the host: the written config, read back by the config front end and turned into the
// IPVS table ipvs-ts would program (desiredTable), equals the table the input builds. test/kernel/import.vmtest.ts
// proves the same against a real kernel with ipvsadm-restore.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { runImportIpvsadm } from '../../src/cli/import-run.ts';
import { parseConfigText } from '../../src/config/index.ts';
import { importIpvsadm } from '../../src/import/ipvsadm.ts';
import { formatNote, Notes } from '../../src/import/notes.ts';
import type { Resolver } from '../../src/import/resolve.ts';
import { writeLvsConfig } from '../../src/import/write-lvs.ts';
import { desiredTable } from '../../src/ipvs/desired.ts';

const seed = (name: string): string => new URL(`../fixtures/seeds/${name}`, import.meta.url).pathname;
const fixture = (name: string): string => new URL(`../fixtures/ipvsadm/${name}`, import.meta.url).pathname;

const HOSTS: Record<string, string> = { 'www.example.com': '192.0.2.10', localhost: '127.0.0.1' };
const PORTS: Record<string, number> = { 'http/tcp': 80, 'https/tcp': 443, 'domain/udp': 53 };
const resolver: Resolver = { host: async (name) => HOSTS[name], port: (name, proto) => PORTS[`${name}/${proto}`] };

async function importText(text: string, file = 'in') {
  const notes = new Notes();
  const table = await importIpvsadm(text, file, resolver, notes);
  const conf = writeLvsConfig(table, file);
  const back = parseConfigText(conf, 'out.conf', { skipHostChecks: true });
  return { table, notes: notes.list.map(formatNote), conf, back };
}

/** The written config programs exactly the imported table. */
function assertEquivalent(r: Awaited<ReturnType<typeof importText>>): void {
  assert.ok(r.back.config, r.back.problems.map((p) => p.message).join('\n'));
  assert.deepEqual(r.back.problems.filter((p) => p.severity === 'error'), []);
  assert.deepEqual(desiredTable(r.back.config).services, r.table.services.map(({ service, destinations }) => ({ service, destinations })));
}

test("the seed NAT director script: the ipvsadm lines become a NAT virtual server, the rest is named and left out", async () => {
  const r = await importText(readFileSync(seed('lvs-nat-director.sh'), 'utf8'), 'lvs_nat.sh');
  assertEquivalent(r);
  assert.match(r.conf, /virtual_server 192\.168\.145\.128 80 \{\n {4}lb_algo rr\n {4}lb_kind NAT\n {4}protocol TCP\n\n {4}real_server 192\.168\.1\.27 80 \{\n {8}weight 1\n {4}\}\n\n {4}real_server 192\.168\.1\.28 80 \{\n {8}weight 1\n {4}\}\n\}/);
  assert.match(r.conf, /# No health checks: ipvsadm has none and none were invented/);
  assert.deepEqual(r.notes.map((n) => n.replace(/`[^`]*`: /, '')), [
    'lvs_nat.sh:3: warning: kernel settings stay in sysctl.conf (keepalived does not set them); not imported',
    'lvs_nat.sh:6: warning: kernel settings stay in sysctl.conf (keepalived does not set them); not imported',
    'lvs_nat.sh:7: warning: kernel settings stay in sysctl.conf (keepalived does not set them); not imported',
    'lvs_nat.sh:8: warning: kernel settings stay in sysctl.conf (keepalived does not set them); not imported',
    'lvs_nat.sh:11: warning: firewall rules (NAT masquerading, fwmark marking) stay with the firewall configuration; not imported',
    'lvs_nat.sh:12: warning: firewall rules (NAT masquerading, fwmark marking) stay with the firewall configuration; not imported',
    'lvs_nat.sh:13: warning: firewall rules (NAT masquerading, fwmark marking) stay with the firewall configuration; not imported',
  ]);
});

test('the seed DR director script: $ipv and $vip expanded, DR with weights; the eth0:0 VIP points at vrrp_instance', async () => {
  const r = await importText(readFileSync(seed('lvs-dr-director.sh'), 'utf8'), 'lvs_dr.sh');
  assertEquivalent(r);
  assert.deepEqual(r.table.services.map((s) => [s.service.id, s.service.scheduler, s.destinations.map((d) => `${d.address}:${d.port} ${d.forward} ${d.weight}`)]), [
    [{ kind: 'addr', family: 4, protocol: 'TCP', address: '192.168.1.100', port: 80 }, 'rr', ['192.168.1.27:80 droute 1', '192.168.1.28:80 droute 1']],
  ]);
  assert.deepEqual(r.notes.map((n) => n.split(': warning: ')[0]), ['lvs_dr.sh:3', 'lvs_dr.sh:8', 'lvs_dr.sh:9', 'lvs_dr.sh:10']);
  assert.match(r.notes[1] ?? '', /`ifconfig eth0:0 \$vip broadcast \$vip netmask 255\.255\.255\.255 down`: a VIP on the director belongs in a vrrp_instance's virtual_ipaddress/);
});

test('the seed real-server script has no ipvsadm line: each of its lines points at `ipvs-ts realserver up`', async () => {
  const r = await importText(readFileSync(seed('lvs-dr-realserver.sh'), 'utf8'), 'rs.sh');
  assert.equal(r.table.services.length, 0);
  assert.equal(r.notes.filter((n) => n.includes('ipvs-ts realserver up --vip VIP')).length, 6);
  assert.match(r.notes.find((n) => n.startsWith('rs.sh:5:')) ?? '', /routes stay with the network configuration/);
});

// What `ipvsadm -Sn` prints for a table using every setting it can show.
const SAVE = readFileSync(fixture('every-setting.save'), 'utf8');

test('an ipvsadm -Sn save with every setting it prints: the config programs the same table', async () => {
  const r = await importText(SAVE, 'save');
  assert.deepEqual(r.notes, []);
  assertEquivalent(r);
  assert.equal(r.table.services.length, 8);
  assert.match(r.conf, /virtual_server 10\.0\.0\.2 443 \{\n {4}lb_algo sh\n {4}lb_kind TUN type gue port 6080 remcsum\n {4}protocol TCP\n {4}sh-fallback\n {4}sh-port\n/);
  assert.match(r.conf, /real_server 10\.1\.0\.5 443 \{\n {8}weight 2\n {8}lvs_method TUN type gre csum\n/);
  assert.match(r.conf, /real_server 10\.1\.0\.3 8080 \{\n {8}weight 3\n {8}lvs_method NAT\n/);
  assert.match(r.conf, /virtual_server fwmark 8 \{\n {4}lb_algo rr\n {4}lb_kind NAT\n {4}ip_family inet6\n/);
  assert.match(r.conf, /virtual_server 10\.0\.0\.5 \{\n[^}]*persistence_timeout 360\n/);
  assert.match(r.conf, /persistence_timeout 300\n {4}persistence_granularity 64\n/);
  assert.match(r.conf, /protocol UDP\n {4}ops\n/);
  assert.match(r.conf, /protocol SCTP\n {4}mh-port\n {4}flag-3\n/);
});

test('ipvsadm -S with names: hosts resolved (with a warning), ports from the services database', async () => {
  const r = await importText('-A -t www.example.com:http -s rr\n-a -t www.example.com:http -r localhost:http -m -w 1\n-A -u 10.0.0.9:domain -s rr\n--start-daemon master --mcast-interface eth1 --syncid 5\n', 'named');
  assertEquivalent(r);
  assert.deepEqual(r.table.services.map((s) => s.service.id), [
    { kind: 'addr', family: 4, protocol: 'TCP', address: '192.0.2.10', port: 80 },
    { kind: 'addr', family: 4, protocol: 'UDP', address: '10.0.0.9', port: 53 },
  ]);
  assert.deepEqual(r.notes, [
    'named:1: warning: www.example.com resolved to 192.0.2.10 now, at import time (ipvsadm -Sn prints addresses)',
    'named:2: warning: www.example.com resolved to 192.0.2.10 now, at import time (ipvsadm -Sn prints addresses)',
    'named:2: warning: localhost resolved to 127.0.0.1 now, at import time (ipvsadm -Sn prints addresses)',
    'named:4: warning: --start-daemon master: keepalived runs the connection sync daemon itself and switches master/backup with a VRRP instance\'s state: add `lvs_sync_daemon eth1 id 5 inst INSTANCE` to global_defs; not imported',
  ]);
});

const SCRIPT = readFileSync(fixture('edits.sh'), 'utf8');

test('a script replays as ipvsadm would: -C, -E and -e replace, -d/-D remove, DR takes the service port, thresholds, --set', async () => {
  const r = await importText(SCRIPT, 'lvs.sh');
  assertEquivalent(r);
  const [web, dns] = r.table.services;
  assert.equal(r.table.services.length, 2);
  assert.deepEqual([web?.service.scheduler, web?.service.flags.persistent, web?.line], ['wrr', false, 8], '-E without -p drops the persistence');
  assert.deepEqual(web?.destinations.map((d) => `${d.address}:${d.port} ${d.forward} w${d.weight} x${d.upperThreshold} y${d.lowerThreshold}`), [
    '10.2.0.1:80 masq w2 x100 y50', '10.2.0.2:8080 masq w4 x0 y0', '10.2.0.3:80 droute w1 x0 y0',
  ]);
  assert.deepEqual(dns?.service.id, { kind: 'addr', family: 4, protocol: 'UDP', address: '192.0.2.10', port: 53 });
  assert.match(r.conf, /^global_defs \{\n {4}lvs_timeouts tcp 900 udp 300\n\}$/m);
  assert.match(r.conf, /uthreshold 100\n {8}lthreshold 50\n/);
  const expected = [
    [7, '-C clears the 2 service(s) defined above it; only what follows is imported'],
    [13, "10.2.0.3:8080: ipvsadm gives a DR real server the service's port 80, not 8080; imported with 80"],
    [17, 'UDP 192.0.2.11:53 does not exist (ipvsadm fails here)'],
    [18, '--set: written as lvs_timeouts in global_defs'],
  ] as const;
  assert.equal(r.notes.length, expected.length, r.notes.join('\n'));
  expected.forEach(([line, start], i) => assert.ok(r.notes[i]?.startsWith(`lvs.sh:${line}: warning: ${start}`), `${r.notes[i]} should start with ${line}: ${start}`));
});

test('lines that cannot be imported are errors: all reported, no config printed', async () => {
  const text = [
    'ipvsadm -A -t $VIP:80 -s rr',
    'ipvsadm -A -t 10.0.0.1:80 -s rr --bogus',
    'ipvsadm -A -t 10.0.0.1:0 -s rr',
    'ipvsadm -A -t 10.0.0.2:80 -o',
    'ipvsadm -A -t 10.0.0.3:80 -p 60 -M 255.0.255.0',
    'ipvsadm -A -t 10.0.0.4:80',
    'ipvsadm -a -t 10.0.0.4:80 -r 10.1.0.1 -i --tun-type gue; ipvsadm -a -t 10.0.0.4:80 -r 10.1.0.2 -i --tun-port 1; ipvsadm -a -t 10.0.0.4:80 -r 10.1.0.3 -i --tun-type gre --tun-remcsum',
    'ipvsadm -a -t nowhere.invalid:80 -r 10.1.0.1',
    '-A -t 10.0.0.5:80 -s rr -E',
  ].join('\n');
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) => new Writable({ write: (c, _e, cb) => { f(String(c)); cb(); } });
  const dir = mkdtempSync(join(tmpdir(), 'ipvsts-imp-'));
  const path = join(dir, 'bad.sh');
  writeFileSync(path, text);
  try {
    const code = await runImportIpvsadm(path, sink((s) => (out += s)), sink((s) => (err += s)), resolver);
    assert.equal(code, 1);
    assert.equal(out, '');
    const lines = err.trim().split('\n').map((l) => l.replace(path, 'bad.sh'));
    assert.deepEqual(lines, [
      'bad.sh:1: error: $VIP is not set by the script itself (or comes from a command or a loop): cannot import `ipvsadm -A -t $VIP:80 -s rr`',
      "bad.sh:2: error: `ipvsadm -A -t 10.0.0.1:80 -s rr --bogus`: invalid option `--bogus'",
      'bad.sh:3: error: TCP 10.0.0.1:0: Zero port specified for non-persistent service (ipvsadm refuses it)',
      'bad.sh:4: error: TCP 10.0.0.2:80: One-Packet Scheduling is only for UDP virtual services (ipvsadm refuses it)',
      'bad.sh:5: error: TCP 10.0.0.3:80: -M 255.0.255.0 is not a contiguous IPv4 netmask',
      "bad.sh:7: error: 10.1.0.1: You need to supply the 'tun-port' option for the 'gue' tunnel type (ipvsadm refuses it)",
      "bad.sh:7: error: 10.1.0.2: Illegal 'tun-port' option with the 'ipip' tunnel type (ipvsadm refuses it)",
      "bad.sh:7: error: 10.1.0.3: Illegal 'tun-remcsum' option with the 'gre' tunnel type (ipvsadm refuses it)",
      'bad.sh:8: error: virtual service nowhere.invalid:80: host name nowhere.invalid does not resolve (ipvsadm -Sn prints addresses)',
      'bad.sh:9: error: `-A -t 10.0.0.5:80 -s rr -E`: multiple commands specified',
      'bad.sh: not imported (10 errors, 0 warnings)',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--pe and -M without -p: warned, since ipvs-ts does not apply persistence_engine and the mask has no effect', async () => {
  const r = await importText('-A -u 10.0.0.1:5060 -s rr -p 60 --pe sip\n-A -t 10.0.0.2:80 -s rr -M 255.255.255.0\n', 'pe');
  assert.match(r.conf, /persistence_engine sip/);
  assert.ok(r.back.problems.some((p) => /persistence_engine/.test(p.message)), 'the config front end says it does not apply it');
  assert.deepEqual(r.notes, ['pe:2: warning: TCP 10.0.0.2:80: -M without -p has no effect; not imported']);
});
