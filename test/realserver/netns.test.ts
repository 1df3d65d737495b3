// `ipvs-ts realserver up|down|status` for real, in a network namespace this file creates and always removes: the
// CLI runs under `ip netns exec`, and the test reads the namespace's addresses and /proc/sys itself. What it
// proves: up changes only what is missing and records only that, a second up changes nothing, status names every
// wrong setting, down reverts exactly what up recorded (not what the admin set), conflicts change nothing.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ns = `ipvsts-rs-${process.pid}`;
const bin = fileURLToPath(new URL('../../bin/ipvs-ts.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ipvsts-rs-'));
const state = join(dir, 'realserver.json');

function why(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for ip netns';
  const r = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `ip netns unavailable: ${r.error?.message ?? r.stderr.trim()}`;
  return undefined;
}
const skip = why();

before(() => {
  if (skip) return;
  // A LAN interface in the namespace, to put a VIP where a real server must not have it.
  execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0']);
});

after(() => {
  if (!skip) spawnSync('ip', ['netns', 'del', ns]);
  rmSync(dir, { recursive: true, force: true });
});

function rs(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, bin, 'realserver', ...args, '--state', state], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const inNs = (...cmd: string[]): string => execFileSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8' });
const sysctl = (key: string): string => inNs('cat', `/proc/sys/${key.replaceAll('.', '/')}`).trim();
const setSysctl = (key: string, v: string): void => void inNs('sysctl', '-qw', `${key}=${v}`);
const ipAddr = (...args: string[]): void => void execFileSync('ip', ['-n', ns, 'addr', ...args]);

function addresses(dev: string): string[] {
  const j = JSON.parse(execFileSync('ip', ['-n', ns, '-j', 'addr', 'show', 'dev', dev], { encoding: 'utf8' })) as { addr_info: { local: string; prefixlen: number }[] }[];
  return (j[0]?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`).filter((a) => !['127.0.0.1/8', '::1/128'].includes(a)).sort();
}

const record = (): string | undefined => (existsSync(state) ? readFileSync(state, 'utf8') : undefined);
const ALL_IGNORE = 'net.ipv4.conf.all.arp_ignore';
const ALL_ANNOUNCE = 'net.ipv4.conf.all.arp_announce';
const LO_IGNORE = 'net.ipv4.conf.lo.arp_ignore';
const LO_ANNOUNCE = 'net.ipv4.conf.lo.arp_announce';

test('status on an unprepared host names every wrong setting and exits 1', { skip }, () => {
  const r = rs('status', '--vip', '10.9.0.100');
  assert.equal(r.code, 1, r.err);
  const wrong = r.out.split('\n').filter((l) => l.startsWith('WRONG'));
  assert.equal(wrong.length, 6, r.out);
  for (const w of ['lo is down', '10.9.0.100/32 is not on lo', `${ALL_IGNORE} is 0, want 1 or 2`, `${ALL_ANNOUNCE} is 0, want 2`, `${LO_IGNORE} is 0`, `${LO_ANNOUNCE} is 0`]) {
    assert.ok(wrong.some((l) => l.includes(w)), `no WRONG line with "${w}" in\n${r.out}`);
  }
  assert.match(r.out, /not prepared for DR: 6 wrong settings/);
});

test('up adds only what is missing, sysctls first, and records only what it changed; a second up changes nothing', { skip }, () => {
  // The admin set one sysctl and one VIP himself: they are right, so up leaves them and does not own them.
  setSysctl(ALL_ANNOUNCE, '2');
  ipAddr('add', '10.9.0.101/32', 'dev', 'lo');
  const r = rs('up', '--vip', '10.9.0.100', '10.9.0.101', '--vip', '2001:DB8:0::100');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.out.trim().split('\n'), [
    `~ ${ALL_IGNORE} 0 -> 1`,
    `~ ${LO_IGNORE} 0 -> 1`,
    `~ ${LO_ANNOUNCE} 0 -> 2`,
    '~ lo up',
    '+ 10.9.0.100/32 on lo',
    '+ 2001:db8::100/128 on lo',
    'real server prepared for DR (10.9.0.100, 10.9.0.101, 2001:db8::100): 6 changes',
  ]);
  assert.deepEqual(addresses('lo'), ['10.9.0.100/32', '10.9.0.101/32', '2001:db8::100/128']);
  const owned = JSON.parse(record() ?? '{}');
  assert.deepEqual(owned.addresses.map((a: { address: string }) => a.address), ['10.9.0.100', '2001:db8::100']);
  assert.deepEqual(owned.sysctls, [
    { key: ALL_IGNORE, before: '0', set: '1' },
    { key: LO_IGNORE, before: '0', set: '1' },
    { key: LO_ANNOUNCE, before: '0', set: '2' },
  ]);
  assert.deepEqual(owned.links, [], 'lo is brought up but never taken down again');

  const before = record();
  const again = rs('up', '--vip', '10.9.0.100', '10.9.0.101', '2001:db8::100');
  assert.equal(again.code, 0, again.err);
  assert.equal(again.out, 'no changes: the real server is already prepared for DR (10.9.0.100, 10.9.0.101, 2001:db8::100)\n');
  assert.equal(record(), before);

  const st = rs('status', '--vip', '10.9.0.100', '10.9.0.101', '2001:db8::100');
  assert.equal(st.code, 0, st.out);
  assert.doesNotMatch(st.out, /WRONG/);
  assert.match(st.out, /prepared for DR: 10\.9\.0\.100 10\.9\.0\.101 2001:db8::100/);
});

test('status names a missing arp_ignore; up puts it back and keeps the value it first found', { skip }, () => {
  setSysctl(ALL_IGNORE, '0');
  const st = rs('status');
  assert.equal(st.code, 1);
  assert.deepEqual(st.out.split('\n').filter((l) => l.startsWith('WRONG')), [
    `WRONG  ${ALL_IGNORE} is 0, want 1 or 2: this host answers ARP requests for the VIP, so the LAN can send the VIP's traffic here instead of to the director`,
  ]);
  assert.match(st.out, /not prepared for DR: 1 wrong setting \(`ipvs-ts realserver up --mode dr --vip 10\.9\.0\.100 2001:db8::100` fixes what it can\)/);
  const r = rs('up', '--vip', '10.9.0.100');
  assert.deepEqual(r.out.trim().split('\n'), [`~ ${ALL_IGNORE} 0 -> 1`, 'real server prepared for DR (10.9.0.100): 1 change']);
  assert.deepEqual(JSON.parse(record() ?? '{}').sysctls[0], { key: ALL_IGNORE, before: '0', set: '1' });
  assert.equal(rs('status').code, 0);
});

test('a VIP on a LAN interface or with a wide prefix is refused and nothing changes', { skip }, () => {
  const before = record();
  ipAddr('add', '10.9.0.200/24', 'dev', 'eth0');
  ipAddr('add', '10.9.1.7/24', 'dev', 'lo');
  try {
    const r = rs('up', '--vip', '10.9.0.200', '10.9.1.7', '10.9.0.102');
    assert.equal(r.code, 1);
    assert.deepEqual(r.err.trim().split('\n'), [
      'ipvs-ts: 10.9.0.200 is on eth0; DR wants it only on lo (remove it: ip addr del 10.9.0.200/24 dev eth0)',
      'ipvs-ts: 10.9.1.7/24 on lo makes its whole network local; a VIP needs /32 (remove it: ip addr del 10.9.1.7/24 dev lo)',
      'ipvs-ts: nothing was changed [REALSERVER_CONFLICT]',
    ]);
    assert.equal(r.out, '');
    assert.deepEqual(addresses('lo'), ['10.9.0.100/32', '10.9.0.101/32', '10.9.1.7/24', '2001:db8::100/128']);
    assert.equal(record(), before);
    const st = rs('status', '--vip', '10.9.0.200');
    assert.equal(st.code, 1);
    assert.match(st.out, /WRONG {2}10\.9\.0\.200 is on eth0/);
  } finally {
    ipAddr('del', '10.9.0.200/24', 'dev', 'eth0');
    ipAddr('del', '10.9.1.7/24', 'dev', 'lo');
  }
});

test('TUN where the kernel has no ipip: refused before anything changes', { skip }, () => {
  const links = inNs('ip', '-o', 'link', 'show');
  if (links.includes('tunl0')) return;
  const before = record();
  const ignore = sysctl(ALL_IGNORE);
  const r = rs('up', '--mode', 'tun', '--vip', '10.9.0.150');
  assert.equal(r.code, 1);
  assert.match(r.err, /^ipvs-ts: tunl0 does not exist and `modprobe ipip` failed \(.*\): this kernel cannot receive LVS-TUN packets; nothing was changed \[REALSERVER_NO_TUNNEL\]\n$/);
  assert.equal(record(), before);
  assert.equal(sysctl(ALL_IGNORE), ignore);
  assert.deepEqual(addresses('lo'), ['10.9.0.100/32', '10.9.0.101/32', '2001:db8::100/128']);
});

test('bad arguments: not an address, IPv6 in TUN mode, no VIP', { skip }, () => {
  assert.match(rs('up', '--vip', '10.9.0.100/32').err, /--vip 10\.9\.0\.100\/32: not an IP address/);
  assert.match(rs('up', '--mode', 'tun', '--vip', '2001:db8::1').err, /TUN mode prepares IPIP \(tunl0\), which carries IPv4 VIPs only/);
  assert.match(rs('up', '--vip', ',').err, /give at least one --vip ADDRESS/);
});

test('down of one VIP keeps the sysctls; the last down reverts only what up changed and is still as up left it', { skip }, () => {
  const one = rs('down', '--vip', '2001:db8::100');
  assert.equal(one.code, 0, one.err);
  assert.deepEqual(one.out.trim().split('\n'), ['- 2001:db8::100/128 from lo', 'undone: 1 change']);
  assert.equal(sysctl(ALL_IGNORE), '1');

  // Changed by the admin after up: his now.
  setSysctl(LO_IGNORE, '2');
  const r = rs('down');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.out.trim().split('\n'), [
    '- 10.9.0.100/32 from lo',
    `~ ${ALL_IGNORE} 1 -> 0`,
    `~ ${LO_ANNOUNCE} 2 -> 0`,
    `= ${LO_IGNORE} left at 2: changed since \`up\` set it to 1`,
    'undone: 3 changes',
  ]);
  assert.deepEqual(addresses('lo'), ['10.9.0.101/32'], "the admin's own VIP stays");
  assert.equal(sysctl(ALL_ANNOUNCE), '2', "the admin's own sysctl stays");
  assert.equal(sysctl(LO_IGNORE), '2');
  assert.equal(record(), undefined, 'nothing owned: the record is removed');

  const again = rs('down');
  assert.equal(again.code, 0);
  assert.equal(again.out, `nothing to undo: ipvs-ts has not changed this host (${state})\n`);
  assert.equal(rs('status').code, 1, 'no --vip and nothing recorded');
});

/** An Exec line of the unit as systemd runs it: ${NAME} is one word, $NAME splits on white space. */
function execLine(unit: string, key: string, env: Record<string, string>): string[] {
  const line = new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1] ?? '';
  return line.split(' ').flatMap((w) => {
    const braced = /^\$\{(\w+)\}$/.exec(w);
    if (braced) return [env[braced[1] as string] ?? ''];
    const bare = /^\$(\w+)$/.exec(w);
    return bare ? (env[bare[1] as string] ?? '').split(/\s+/).filter(Boolean) : [w.replace('/opt/ipvs-ts/node_modules/.bin/node', process.execPath).replace('/opt/ipvs-ts/bin/ipvs-ts.js', bin)];
  });
}

test('the systemd unit\'s ExecStart and ExecStop, with the example environment file, prepare and undo', { skip }, () => {
  const unit = readFileSync(new URL('../../deploy/systemd/ipvs-ts-realserver.service', import.meta.url), 'utf8');
  const envText = readFileSync(new URL('../../deploy/systemd/ipvs-ts-realserver.env', import.meta.url), 'utf8');
  const env: Record<string, string> = {};
  for (const m of envText.matchAll(/^(\w+)="?([^"\n]*)"?$/gm)) env[m[1] as string] = m[2] as string;
  env.VIPS = '10.9.5.1 10.9.5.2';
  const run = (key: string) => spawnSync('ip', ['netns', 'exec', ns, ...execLine(unit, key, env), '--state', state], { encoding: 'utf8', timeout: 30_000 });
  const start = run('ExecStart');
  assert.equal(start.status, 0, start.stderr);
  assert.match(start.stdout, /real server prepared for DR \(10\.9\.5\.1, 10\.9\.5\.2\)/);
  assert.equal(rs('status').code, 0);
  const stop = run('ExecStop');
  assert.equal(stop.status, 0, stop.stderr);
  assert.match(stop.stdout, /- 10\.9\.5\.2\/32 from lo/);
  assert.equal(record(), undefined);
});
