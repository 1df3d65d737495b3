// `ipvs-ts import heartbeat`: the user's seed heartbeat files and a three-node unicast cluster → keepalived.conf for
// one node, which must pass check-config; the resource wrapper it writes runs the agents in heartbeat's order.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runImportHeartbeat } from '../../src/cli/import-heartbeat-run.ts';
import { parseConfigText } from '../../src/config/index.ts';

const SEED = fileURLToPath(new URL('../fixtures/seeds/heartbeat', import.meta.url));
const UCAST = fileURLToPath(new URL('../fixtures/heartbeat-ucast', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/ipvs-ts.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'ipvsts-hb-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function importDir(dir: string, opts: { node?: string; vrid?: number; scriptsDir?: string } = {}) {
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) => new Writable({ write: (c, _e, cb) => { f(String(c)); cb(); } });
  const code = await runImportHeartbeat(dir, { vrid: 51, ...opts }, sink((s) => (out += s)), sink((s) => (err += s)));
  const warnings = err.split('\n').filter((l) => l.includes(': warning: ')).map((l) => l.replace(`${dir}/`, ''));
  return { code, out, err, warnings };
}

/** The vrrp_instance blocks' settings, by name. */
function instances(conf: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of conf.matchAll(/^vrrp_instance (\S+) \{\n([\s\S]*?)^\}/gm)) {
    out[m[1] as string] = (m[2] as string).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  }
  return out;
}

function checkConfig(conf: string): void {
  const r = parseConfigText(conf, 'imported.conf', { skipHostChecks: true });
  assert.deepEqual(r.problems.filter((p) => p.severity === 'error').map((p) => p.message), []);
  assert.ok(r.config);
}

test('the seed heartbeat pair: master preferred (MASTER 100, preempt), slave BACKUP 90, the VIP with its label, nginx as notify wrapper', async () => {
  const master = await importDir(SEED, { node: 'master' });
  assert.equal(master.code, 0, master.err);
  checkConfig(master.out);
  const slave = await importDir(SEED, { node: 'slave' });
  checkConfig(slave.out);
  const common = (v: string[] | undefined) => v?.filter((l) => !/^(state|priority)/.test(l));
  assert.deepEqual(instances(master.out).VI_1?.slice(0, 5), ['state MASTER', 'interface eth0', 'virtual_router_id 51', 'priority 100', 'advert_int 2']);
  assert.deepEqual(instances(slave.out).VI_1?.slice(0, 5), ['state BACKUP', 'interface eth0', 'virtual_router_id 51', 'priority 90', 'advert_int 2']);
  assert.deepEqual(common(instances(master.out).VI_1), common(instances(slave.out).VI_1), 'both nodes agree on everything else, the password included');
  const vi = instances(master.out).VI_1 ?? [];
  assert.ok(!vi.includes('nopreempt'));
  assert.ok(vi.includes('192.168.1.109/24 label eth0:1'));
  assert.ok(vi.includes('auth_type PASS'));
  assert.ok(vi.includes(`auth_pass ${'334d016f'}`), 'the first 8 hex digits of SHA-256("Hello!")');
  assert.ok(vi.includes('notify_master "/etc/keepalived/heartbeat/VI_1.sh start"'));
  assert.ok(vi.includes('notify_backup "/etc/keepalived/heartbeat/VI_1.sh stop"'));
  assert.ok(vi.includes('chk_ping_192_168_1_1'), 'ping + ipfail: a tracked ping script');
  assert.match(master.out, /vrrp_script chk_ping_192_168_1_1 \{\n {4}script "\/bin\/ping -c 1 -W 1 192\.168\.1\.1"\n {4}interval 2\n {4}fall 15\n {4}rise 1\n {4}weight -20\n\}/);
  assert.match(master.out, /^# {5}run nginx start \|\| exit 1$/m, 'the wrapper, as comments to copy');
  assert.deepEqual(master.warnings.map((w) => w.replace(/: warning: (\S+).*/, ' $1')), [
    'ha.cf:1 debugfile', 'ha.cf:2 logfile', 'ha.cf:3 logfacility', 'ha.cf:7 deadtime', 'ha.cf:9 warntime', 'ha.cf:10 initdead', 'ha.cf:12 udpport', 'authkeys:2 md5',
  ]);
  assert.match(master.warnings[3] ?? '', /deadtime 30: VRRP has no such setting; a backup takes over when it has heard no advert for 3 x advert_int \+ skew \(6\.6 s at priority 90\), not after 30 s/);
});

test('a three-node unicast cluster without failback: priorities by node order, nopreempt, peers, VIP forms, sha1, IPv6', async () => {
  const r = await importDir(UCAST, { node: 'beta', vrid: 60 });
  assert.equal(r.code, 0, r.err);
  checkConfig(r.out);
  const vi = instances(r.out);
  const head = (name: string) => vi[name]?.slice(0, 6);
  assert.deepEqual(head('VI_1'), ['state BACKUP', 'interface eth1', 'virtual_router_id 60', 'priority 90', 'advert_int 1', 'nopreempt']);
  assert.deepEqual(head('VI_2'), ['state BACKUP', 'interface eth1', 'virtual_router_id 61', 'priority 100', 'advert_int 1', 'nopreempt']);
  assert.deepEqual(head('VI_3'), ['state BACKUP', 'interface eth1', 'virtual_router_id 62', 'priority 80', 'advert_int 1', 'nopreempt']);
  for (const name of ['VI_1', 'VI_2', 'VI_3']) assert.ok(vi[name]?.join(' ').includes('unicast_peer { 10.0.0.2 10.0.0.3 }'), name);
  assert.ok(vi.VI_1?.includes('192.168.10.10/24 dev eth0'));
  assert.ok(vi.VI_1?.includes('192.168.10.11/24 dev eth0 brd 192.168.10.255 label eth0:web'), 'IPaddr2 with a dotted netmask, label and broadcast');
  assert.ok(vi.VI_2?.includes('192.168.20.20/32'), 'a bare address');
  assert.ok(vi.VI_3?.join(' ').includes('virtual_ipaddress_excluded { 2001:db8::20/64 dev eth0 }'), 'IPv6 rides on the IPv4 instance');
  assert.ok(vi.VI_1?.includes('auth_pass 817b8239'));
  assert.match(r.out, /fall 6\n/, 'deadping 6 at advert_int 1');
  assert.match(r.out, /^# {5}run Filesystem \/dev\/drbd0 \/srv ext4 start \|\| exit 1\n# {5}run httpd start \|\| exit 1\n/m);
  assert.match(r.out, /^# {5}run httpd stop \|\| status=1\n# {5}run Filesystem \/dev\/drbd0 \/srv ext4 stop \|\| status=1\n/m);
  assert.doesNotMatch(r.out, /run SendArp/, 'keepalived sends the gratuitous ARPs');
  const w = r.warnings.join('\n');
  for (const m of [
    /ha\.cf:3: warning: keepalive 500ms: VRRPv2 adverts come in whole seconds/,
    /ha\.cf:9: warning: ucast: every ucast address is a unicast_peer; remove this node's own address/,
    /ha\.cf:11: warning: serial \/dev\/ttyS0: VRRP needs an IP path/,
    /ha\.cf:17: warning: stonith_host \* null: VRRP has no fencing/,
    /ha\.cf:20: warning: compression bz2: no VRRP equivalent; not imported/,
    /authkeys:3: warning: sha1 is an HMAC/,
    /haresources:2: warning: VRRP adverts go over eth1 \(heartbeat's link\) and VIPs are on eth0: add `track_interface \{ eth0 \}`/,
    /haresources:4: warning: SendArp::192\.168\.20\.20\/eth0: keepalived sends gratuitous ARPs/,
    /haresources:4: warning: 192\.168\.20\.20: no netmask and no interface/,
    /haresources:5: warning: named came before a VIP/,
  ]) assert.match(w, m);
  assert.doesNotMatch(w, /crm/, 'crm off is heartbeat v1, as imported');
});

test('the output passes `ipvs-ts check-config`', () => {
  const r = spawnSync(process.execPath, [bin, 'import', 'heartbeat', UCAST, '--node', 'gamma'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const conf = join(tmp, 'gamma.conf');
  writeFileSync(conf, r.stdout);
  const check = spawnSync(process.execPath, [bin, 'check-config', '-f', conf], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stderr, /valid \(3 vrrp instances, 0 virtual servers, 0 real servers;/);
});

test('a node that is not in ha.cf, and input errors: one line each, nothing printed', async () => {
  const bad = spawnSync(process.execPath, [bin, 'import', 'heartbeat', SEED, '--node', 'nobody'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.equal(bad.stdout, '');
  assert.equal(bad.stderr, 'ipvs-ts: nobody is not a node of this cluster (ha.cf: master, slave); pass --node NAME [IMPORT_NODE]\n');

  const dir = join(tmp, 'broken');
  cpSync(SEED, dir, { recursive: true });
  writeFileSync(join(dir, 'haresources'), 'master 192.168.1.300/24 nginx\nghost 10.0.0.1/24/eth0\n');
  writeFileSync(join(dir, 'authkeys'), 'auth 1\n1 rot13 x\n');
  const r = await importDir(dir, { node: 'master' });
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  const errors = r.err.split('\n').filter((l) => l.includes(': error: ')).map((l) => l.replace(`${dir}/`, ''));
  assert.deepEqual(errors, [
    'haresources:1: error: 192.168.1.300/24: not an IPv4 address: 192.168.1.300',
    'haresources:2: error: node ghost is not listed in ha.cf (master, slave)',
    'authkeys:2: error: unknown method rot13 (heartbeat knows crc, md5, sha1)',
  ]);
  assert.match(r.err, /not imported \(3 errors, \d+ warnings\)/);
});

test('auto_failback off makes every node BACKUP with nopreempt; crc means no authentication', async () => {
  const dir = join(tmp, 'nofailback');
  cpSync(SEED, dir, { recursive: true });
  writeFileSync(join(dir, 'ha.cf'), readFileSync(join(SEED, 'ha.cf'), 'utf8').replace('auto_failback on', 'auto_failback off'));
  writeFileSync(join(dir, 'authkeys'), 'auth 1\n1 crc\n');
  const r = await importDir(dir, { node: 'master' });
  checkConfig(r.out);
  const vi = instances(r.out).VI_1 ?? [];
  assert.deepEqual([vi[0], vi[3], vi.includes('nopreempt')], ['state BACKUP', 'priority 100', true]);
  assert.ok(!vi.includes('auth_type PASS'));
  assert.ok(r.warnings.some((w) => w === 'authkeys:2: warning: crc carries no secret: no authentication block'));
});

test('--scripts-dir writes the wrapper, which starts the agents left to right, stops right to left, and stops starting at a failure', async (t) => {
  const scripts = join(tmp, 'scripts');
  const r = await importDir(UCAST, { node: 'alpha', scriptsDir: scripts });
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, new RegExp(`wrote ${scripts}/VI_1\\.sh`));
  assert.doesNotMatch(r.out, /not written/);
  const wrapper = join(scripts, 'VI_1.sh');
  assert.equal(statSync(wrapper).mode & 0o777, 0o755);
  assert.ok(instances(r.out).VI_1?.includes(`notify_master "${wrapper} start"`));
  if (process.getuid?.() !== 0) return t.skip('running the wrapper needs root (a private mount namespace over /etc/init.d)');
  // Stand-in agents in /etc/init.d, seen only inside a private mount namespace: each logs its name and arguments.
  const agents = join(tmp, 'init.d');
  const log = join(tmp, 'agents.log');
  mkdirSync(agents, { recursive: true });
  for (const name of ['Filesystem', 'httpd']) {
    writeFileSync(join(agents, name), `#!/bin/sh\necho "${name} $*" >> ${log}\n[ "$FAIL" != "${name}" ]\n`);
    chmodSync(join(agents, name), 0o755);
  }
  const run = (op: string, fail = '') => {
    rmSync(log, { force: true });
    const p = spawnSync('unshare', ['--mount', 'sh', '-c', `mount --bind ${agents} /etc/init.d && FAIL=${fail} ${wrapper} ${op}`], { encoding: 'utf8' });
    return { code: p.status, log: readFileSync(log, 'utf8').trim().split('\n'), err: p.stderr };
  };
  assert.deepEqual(run('start'), { code: 0, log: ['Filesystem /dev/drbd0 /srv ext4 start', 'httpd start'], err: '' });
  assert.deepEqual(run('stop'), { code: 0, log: ['httpd stop', 'Filesystem /dev/drbd0 /srv ext4 stop'], err: '' });
  assert.deepEqual(run('start', 'Filesystem'), { code: 1, log: ['Filesystem /dev/drbd0 /srv ext4 start'], err: '' });
  assert.deepEqual(run('stop', 'httpd'), { code: 1, log: ['httpd stop', 'Filesystem /dev/drbd0 /srv ext4 stop'], err: '' });
});
