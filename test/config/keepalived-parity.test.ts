// Issue 14, the config front end: check-config refuses what the daemon would refuse at start, accepts what
// keepalived 2.2 accepts (with its meaning), and says so for every keyword it reads but does not act on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig, parseConfigText, type Problem } from '../../src/config/index.ts';
import { runCheckConfig } from '../../src/cli/check-config-run.ts';

const opts = { skipHostChecks: true } as const;
const parse = (text: string) => parseConfigText(text, 'k.conf', opts);
const summary = (ps: Problem[]): string[] => ps.map((p) => `${p.severity} ${p.code} ${p.pos?.line}:${p.pos?.col}`);
const codes = (ps: Problem[]): string[] => ps.map((p) => `${p.severity} ${p.code}`);
const instance = (body: string, name = 'VI_1'): string => `vrrp_instance ${name} {\n  interface eth0\n  virtual_router_id 51\n${body}\n}\n`;
const vs = (head: string, body = ''): string => `virtual_server ${head} {\n  lb_algo rr\n  lb_kind DR\n${body}\n}\n`;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ipvs-ts-parity-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// ------------------------------------------------------------------------------- 1. check-config agrees with start

test('auth_type AH is an error at its value (the VRRP engine refuses it at start); check-config exits 1', (t) => {
  const text = instance('  authentication {\n    auth_type AH\n    auth_pass secret\n  }');
  const r = parse(text);
  assert.equal(r.config, undefined);
  assert.deepEqual(summary(r.problems), ['error unsupported 5:15']);
  assert.match(r.problems[0]?.message ?? '', /auth_type AH \(IPsec AH\) is not supported/);
  const file = join(tempDir(t), 'ah.conf');
  writeFileSync(file, text);
  let err = '';
  const sink = (write: (s: string) => void) => new Writable({ write: (c: Buffer, _e, done) => { write(c.toString()); done(); } });
  const status = runCheckConfig({ file }, sink(() => undefined), sink((s) => (err += s)));
  assert.equal(status, 1);
  assert.match(err, /ah\.conf:5:15: error: vrrp_instance VI_1: auth_type AH/);
});

test('AH in a VRRPv3 instance is ignored with the rest of the authentication block, as keepalived does', () => {
  const r = parse(instance('  version 3\n  authentication {\n    auth_type AH\n    auth_pass secret\n  }'));
  assert.deepEqual(codes(r.problems), ['warning lenient']);
  assert.equal(r.config?.vrrpInstances[0]?.auth, undefined);
});

test('use_vmac [NAME] [MAC] is read in either order; bad MACs are errors at their value', () => {
  const cases: [string, string, string | undefined][] = [
    ['', 'vrrp.51', undefined],
    [' vrrp51', 'vrrp51', undefined],
    [' vrrp51 02:00:00:00:00:01', 'vrrp51', '02:00:00:00:00:01'],
    [' 02:00:00:00:00 vrrp51', 'vrrp51', '02:00:00:00:00:33'],
  ];
  for (const [args, name, mac] of cases) {
    const r = parse(instance(`  use_vmac${args}`));
    assert.deepEqual(r.problems, [], args);
    assert.deepEqual([r.config?.vrrpInstances[0]?.useVmac, r.config?.vrrpInstances[0]?.vmacAddress], [name, mac], args);
  }
  const bad = parse(instance('  use_vmac vrrp51 01:00:5e:00:00:01\n  use_vmac 00:00:5e:00:01:33\n  use_vmac 12:34'));
  assert.deepEqual(bad.problems.filter((p) => p.code === 'bad-value').map((p) => p.message), [
    'use_vmac: 01:00:5e:00:00:01 is a multicast address',
    "use_vmac: 00:00:5e:00:01:33 is VRRP's own virtual router MAC",
    'use_vmac: 12:34 is not a MAC address (5 or 6 hex octets)',
  ]);
});

test('an IPv6 instance without "version 3" runs as VRRPv3 with a warning, as keepalived promotes it', () => {
  const r = parse(instance('  advert_int 0.5\n  virtual_ipaddress {\n    fe80::1/64\n    2001:db8::1/64\n  }'));
  assert.deepEqual(summary(r.problems), ['warning lenient 1:1']);
  assert.match(r.problems[0]?.message ?? '', /IPv6 instance without "version 3": VRRPv2 is IPv4 only, so it runs VRRPv3, as keepalived does/);
  const i = r.config?.vrrpInstances[0];
  assert.deepEqual([i?.family, i?.version, i?.advertIntMs], [6, 3, 500]);

  const explicit = parse(instance('  version 2\n  virtual_ipaddress {\n    fe80::1/64\n  }'));
  assert.deepEqual(summary(explicit.problems), ['warning lenient 4:11']);
  assert.equal(explicit.config?.vrrpInstances[0]?.version, 3);

  const global = parse(`global_defs {\n  vrrp_version 3\n}\n${instance('  virtual_ipaddress {\n    fe80::1/64\n  }')}`);
  assert.deepEqual(global.problems, []);
});

test('a unicast instance may omit interface: it needs unicast_src_ip and a dev for each VIP, as keepalived', () => {
  const body = (extra: string) => `vrrp_instance U {\n  virtual_router_id 7\n${extra}  unicast_peer {\n    192.0.2.2\n  }\n  virtual_ipaddress {\n    192.0.2.100/24 dev eth1\n  }\n}\n`;
  const ok = parse(body('  unicast_src_ip 192.0.2.1\n'));
  assert.deepEqual(ok.problems, []);
  assert.deepEqual([ok.config?.vrrpInstances[0]?.interface, ok.config?.vrrpInstances[0]?.virtualIps[0]?.dev], ['', 'eth1']);

  assert.match(parse(body('')).problems[0]?.message ?? '', /a unicast instance without an interface needs unicast_src_ip/);
  const noDev = parse('vrrp_instance U {\n  virtual_router_id 7\n  unicast_src_ip 192.0.2.1\n  unicast_peer {\n    192.0.2.2\n  }\n  virtual_ipaddress {\n    192.0.2.100/24\n  }\n}\n');
  assert.deepEqual(summary(noDev.problems), ['error missing 8:5']);
  const linkLocal = parse('vrrp_instance U {\n  virtual_router_id 7\n  unicast_src_ip fe80::1\n  unicast_peer {\n    fe80::2\n  }\n}\n');
  assert.match(linkLocal.problems.find((p) => p.severity === 'error')?.message ?? '', /must not be link-local/);
  const multicast = parse('vrrp_instance M {\n  virtual_router_id 7\n}\n');
  assert.match(multicast.problems[0]?.message ?? '', /has no interface \(only a unicast instance may omit it\)/);

  const twice = parse(body('  unicast_src_ip 192.0.2.1\n') + body('  unicast_src_ip 192.0.2.1\n').replace('vrrp_instance U', 'vrrp_instance V'));
  assert.deepEqual(codes(twice.problems), ['error duplicate']);
});

// ------------------------------------------------------------------------------- 2. what keepalived accepts

test('include: plain include only warns about what it cannot read; its variants make each kind an error', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'conf.d'));
  mkdirSync(join(dir, 'conf.d', 'sub.conf'));
  writeFileSync(join(dir, 'conf.d', 'a.conf'), 'global_defs {\n  router_id a\n}\n');
  writeFileSync(join(dir, 'conf.d', 'run.conf'), 'global_defs {\n  router_id executable\n}\n');
  chmodSync(join(dir, 'conf.d', 'run.conf'), 0o755);
  const load = (line: string) => {
    writeFileSync(join(dir, 'k.conf'), `${line}\n`);
    return loadConfig(join(dir, 'k.conf'), opts);
  };

  // A glob matching nothing: keepalived logs it and goes on; includew and includea refuse.
  for (const kw of ['include', 'includer', 'includem']) assert.deepEqual(summary(load(`${kw} conf.d/none-*.conf`).problems), [`warning include-missing 1:${kw.length + 2}`], kw);
  assert.deepEqual(codes(load('includew conf.d/none-*.conf').problems), ['error include-missing']);
  // …but a wildcard in a directory that does not exist is a missing file, as a name without wildcards is.
  assert.deepEqual(codes(load('includem none/*.conf').problems), ['error include-missing']);
  const w = load('include none-*.conf').problems[0];
  assert.match(w?.message ?? '', /include none-\*\.conf: no file matches .*\(include accepts this, as keepalived does; includew makes it an error\)/);

  // A missing file without wildcards: an error from includem on.
  assert.deepEqual(codes(load('include nothing.conf').problems), ['warning include-missing']);
  assert.deepEqual(codes(load('includer nothing.conf').problems), ['warning include-missing']);
  assert.deepEqual(codes(load('includem nothing.conf').problems), ['error include-missing']);

  // Directories and executable files are skipped (keepalived reads only regular, non-executable files).
  const all = load('include conf.d/*.conf');
  assert.deepEqual(codes(all.problems), ['warning include-missing', 'warning include-missing']);
  assert.match(all.problems.map((p) => p.message).join('\n'), /run\.conf: not a regular, non-executable file[\s\S]*sub\.conf: is a directory/);
  assert.equal(all.config?.globalDefs.routerId, 'a');
  assert.deepEqual(codes(load('includer conf.d/*.conf').problems), ['error include-missing', 'error include-missing']);

  // Braces: each alternative must name something for includeb/includea.
  const brace = load('include conf.d/{a,zz}.conf');
  assert.deepEqual([codes(brace.problems), brace.config?.globalDefs.routerId], [['warning include-missing'], 'a']);
  assert.deepEqual(codes(load('includeb conf.d/{a,zz}.conf').problems), ['error include-missing']);
  assert.deepEqual(codes(load('includea conf.d/{a,zz}.conf').problems), ['error include-missing']);
  assert.deepEqual(load('includea conf.d/{a,a}.conf').config?.globalDefs.routerId, 'a');
});

test('virtual_server ADDRESS without a port is every port; IPVS needs it persistent, so 360 s as keepalived sets', () => {
  const r = parse(vs('10.0.0.1') + vs('10.0.0.2 0', '  persistence_timeout 50'));
  assert.deepEqual(summary(r.problems), ['warning lenient 1:1']);
  assert.match(r.problems[0]?.message ?? '', /virtual_server 10\.0\.0\.1: port 0 means every port, which IPVS allows only for a persistent service; persistence_timeout 360 set/);
  const [a, b] = r.config?.virtualServers ?? [];
  assert.deepEqual([a?.key, a?.persistenceTimeoutS], [{ kind: 'addr', address: '10.0.0.1', family: 4, port: 0 }, 360]);
  assert.deepEqual([b?.key.kind === 'addr' && b.key.port, b?.persistenceTimeoutS], [0, 50]);

  const group = parse(`${vs('group G')}virtual_server_group G {\n  10.0.0.1\n  10.0.0.2 80\n}\n`);
  assert.deepEqual(summary(group.problems), ['warning lenient 1:1']);
  assert.equal(group.config?.virtualServers[0]?.persistenceTimeoutS, 360);
  const extra = parse('virtual_server 10.0.0.1 80 443 {\n}\n').problems.filter((p) => p.code === 'arguments');
  assert.deepEqual(summary(extra), ['error arguments 1:28']);
  assert.match(extra[0]?.message ?? '', /virtual_server has too many arguments/);
});

test('virtual_server_group members: whole-address ranges and CIDR blocks, as keepalived reads them', () => {
  const r = parse(`virtual_server_group G {
  10.0.0.250-10.0.1.5 80
  192.0.2.16/28 443
  10.1.1.1-20 80
  2001:db8::1-2001:db8::ff 80
  2001:db8::100/120 80
  198.51.100.7/32
}
`);
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.config?.virtualServerGroups[0]?.members.map((m) => (m.kind === 'addr' ? `${m.address} ${m.port} ×${m.count}` : '')), [
    '10.0.0.250 80 ×12', '192.0.2.16 443 ×16', '10.1.1.1 80 ×20', '2001:db8::1 80 ×255', '2001:db8::100 80 ×256', '198.51.100.7 0 ×1',
  ]);
  const bad = parse(`virtual_server_group G {
  192.0.2.17/28 80
  10.0.0.5-10.0.0.1 80
  10.0.0.0/8 80
  2001:db8::1-2001:db8::1:0 80
  10.0.0.1-2001:db8::1 80
  10.0.0.1-300 80
}
`);
  assert.deepEqual(bad.problems.map((p) => `${p.code} ${p.pos?.line}`), ['missing 1', 'bad-value 2', 'bad-value 3', 'range 4', 'range 5', 'bad-value 6', 'bad-value 7']);
  assert.match(bad.problems[1]?.message ?? '', /has host bits set for \/28/);
  assert.match(bad.problems[3]?.message ?? '', /covers more than 65536 addresses/);
  assert.match(bad.problems[4]?.message ?? '', /must stay within the last 16-bit group/);
});

test('track_script NAME weight N reverse|noreverse overrides the script\'s own reverse; track_interface takes reverse', () => {
  const script = 'vrrp_script chk {\n  script /bin/true\n  weight 10 reverse\n}\n';
  const entry = (e: string) => parse(`${script}${instance(`  track_script {\n    ${e}\n  }`)}`).config?.vrrpInstances[0]?.trackScripts.map((t) => [t.weight, t.reverse])[0];
  assert.deepEqual(['chk', 'chk weight -20', 'chk weight -20 noreverse', 'chk weight 5 reverse'].map(entry), [[undefined, undefined], [-20, undefined], [-20, false], [5, true]]);
  const r = parse(instance(`  track_interface {
    eth1 weight 10 reverse
    eth2 weight 10 noreverse
  }`));
  assert.deepEqual(summary(r.problems), ['warning lenient 6:20'], 'noreverse on an interface');
  const i = r.config?.vrrpInstances[0];
  assert.deepEqual(i?.trackInterfaces.map((t) => [t.name, t.reverse]), [['eth1', true], ['eth2', false]]);
  // keepalived ignores a second entry for the same object (vrrp_track.c: "duplicate track_script … ignoring").
  const twice = parse(`${script}${instance('  track_script {\n    chk weight -20\n  }\n  track_script {\n    chk weight 5\n  }')}`);
  assert.deepEqual(twice.problems.filter((p) => p.code === 'duplicate').map((p) => `${p.pos?.line} ${p.message}`), ['12 track_script chk is already tracked (line 9); this entry is ignored, as keepalived does']);
  assert.deepEqual(twice.config?.vrrpInstances[0]?.trackScripts.map((t) => t.weight), [-20]);
  const sideways = parse(instance('  track_script {\n    chk weight 1 sideways\n  }')).problems.find((p) => p.code === 'bad-value');
  assert.match(sideways?.message ?? '', /expected 'reverse' or 'noreverse' after the weight, got 'sideways'/);
});

test('lvs_sync_daemon IF [inst NAME] [id N] …: the sync id defaults to the instance\'s VRID; no instance = both daemons', () => {
  const sd = (line: string, extra = '') => {
    const r = parse(`global_defs {\n  ${line}\n}\n${instance(extra)}`);
    return { sd: r.config?.globalDefs.lvs.syncDaemon, problems: r.problems };
  };
  assert.deepEqual(sd('lvs_sync_daemon eth1 inst VI_1 ttl 2').sd, { interface: 'eth1', instance: 'VI_1', syncId: 51, ttl: 2, pos: { file: 'k.conf', line: 2, col: 3 } });
  assert.deepEqual(sd('lvs_sync_daemon eth1 id 4 inst VI_1').sd?.syncId, 4);
  assert.deepEqual([sd('lvs_sync_daemon eth1').sd?.instance, sd('lvs_sync_daemon eth1').sd?.syncId], [undefined, 0]);
  assert.equal(sd('lvs_sync_daemon eth1 VI_1').sd?.syncId, 51);
  const legacy = sd('lvs_sync_daemon eth1 VI_1 9');
  assert.deepEqual([legacy.sd?.syncId, codes(legacy.problems)], [9, ['warning deprecated']]);
  assert.deepEqual(codes(sd('lvs_sync_daemon eth1 inst VI_9').problems), ['error reference']);
  assert.deepEqual(codes(sd('lvs_sync_daemon eth1 group 10.0.0.1').problems), ['error bad-value']);
  assert.deepEqual(codes(sd('lvs_sync_daemon eth1 inst').problems), ['error arguments']);

  // The older per-instance lvs_sync_daemon_interface names that instance; the global keyword wins over it.
  const old = parse(instance('  lvs_sync_daemon_interface eth3'));
  assert.deepEqual(old.config?.globalDefs.lvs.syncDaemon, { interface: 'eth3', instance: 'VI_1', syncId: 51, pos: { file: 'k.conf', line: 1, col: 1 } });
  const both = sd('lvs_sync_daemon eth1', '  lvs_sync_daemon_interface eth3');
  assert.deepEqual([both.sd?.interface, codes(both.problems)], ['eth1', ['warning duplicate']]);
});

test('~SEQ and ~LST lines repeat the rest of the line with their variables set, as keepalived\'s parser does', () => {
  const r = parse(`$BASE=10.0
${instance(`  virtual_ipaddress {
    ~SEQ(SUBNET, 0, 3) \${BASE}.\${SUBNET}.1
    ~SEQx(AD, 0x90, 0x10, 0xc0) fe80::20:\${AD}:1
    ~LST({IP, IP1}, {10,1},{20,4}) 192.168.\${IP}.\${IP1}
    ~LST(X, 7) 172.16.0.$X ! a comment
  }`, 'VI_0')}`);
  assert.deepEqual(codes(r.problems), Array(4).fill('warning lenient'), 'the IPv6 VIPs of an IPv4 instance are excluded ones');
  const i = r.config?.vrrpInstances[0];
  assert.deepEqual(i?.virtualIps.map((v) => v.address), ['10.0.0.1', '10.0.1.1', '10.0.2.1', '10.0.3.1', '192.168.10.1', '192.168.20.4', '172.16.0.7']);
  assert.deepEqual(i?.virtualIpsExcluded.map((v) => v.address), ['fe80::20:90:1', 'fe80::20:a0:1', 'fe80::20:b0:1', 'fe80::20:c0:1']);

  // Nested sequences make nested loops; the repeated text may be a multi-line $definition; the positions are the line's.
  const nested = parse(`$VS= \\
virtual_server 10.\${A}.0.\${B} 80 { \\
  lb_algo rr \\
  lb_kind DR \\
}
~SEQ(A, 1, 2) ~SEQ(B, 3, 4) $VS
`);
  assert.deepEqual(nested.problems, []);
  assert.deepEqual(nested.config?.virtualServers.map((v) => (v.key.kind === 'addr' ? v.key.address : '')), ['10.1.0.3', '10.1.0.4', '10.2.0.3', '10.2.0.4']);
  assert.deepEqual(nested.config?.virtualServers[0]?.pos, { file: 'k.conf', line: 6, col: 29 });

  const bad = parse('~SEQ(N, 1, -1, 5) x\n~SEQx(N, -1, 5) x\n~LST(A, {1, 2}) x\n~SEQ(N 1) x\n~LST() x\n');
  assert.deepEqual(summary(bad.problems), ['error syntax 1:1', 'error syntax 2:1', 'error syntax 3:1', 'error syntax 4:1', 'error syntax 5:1']);
  assert.match(bad.problems[0]?.message ?? '', /the step -1 never gets from 1 to 5/);
  assert.match(bad.problems[2]?.message ?? '', /has more values than there are variables/);
});

test('a ~SEQ line is bounded: past 262,144 lines it stops with one error', () => {
  const r = parse('~SEQ(N, 1, 1000000) ! nothing but a comment\n');
  assert.deepEqual(summary(r.problems), ['error syntax 1:1']);
  assert.match(r.problems[0]?.message ?? '', /makes more than 262144 lines/);
});

test('top-level track_file is modelled with keepalived\'s meaning and, when no FILE_CHECK or VRRP track_file names it, warned as not acted on', () => {
  const r = parse('track_file up {\n  file /run/up\n  weight -10 reverse\n  init_file 5 overwrite\n}\nvrrp_track_file old {\n  file /run/old\n}\ntrack_file none {\n}\n');
  assert.deepEqual(summary(r.problems), ['warning unsupported 1:1', 'warning deprecated 6:1', 'warning unsupported 6:1', 'error missing 9:1', 'warning unsupported 9:1']);
  assert.match(r.problems[0]?.message ?? '', /not applied: track_file up \(k\.conf:1\) is read but no FILE_CHECK, vrrp_instance or vrrp_sync_group tracks it/);
  const ok = parse('track_file up {\n  file /run/up\n  weight -10 reverse\n  init_file 5 overwrite\n}\n');
  assert.deepEqual(ok.config?.trackFiles, [{ name: 'up', path: '/run/up', weight: -10, weightReverse: true, init: { value: 5, overwrite: true }, pos: { file: 'k.conf', line: 1, col: 1 } }]);
});

// ------------------------------------------------------------------------------- 3. read but not acted on: said

test('vrrp_skip_check_adv_addr warns that it is not applied; lvs_timeouts and the notify FIFOs are applied, so silent', () => {
  const r = parse(`global_defs {
  lvs_timeouts tcp 900 tcpfin 120 udp 300
  notify_fifo /run/ka.fifo keepalived_script
  vrrp_notify_fifo /run/vrrp.fifo
  vrrp_skip_check_adv_addr
}
`);
  assert.deepEqual(summary(r.problems), ['warning unsupported 5:3']);
  assert.match(r.problems[0]?.message ?? '', /^not applied: \S+ \(k\.conf:\d\) is read but ipvs-ts does not act on it yet; /);
  assert.deepEqual(r.config?.globalDefs.lvs.timeouts, { tcpMs: 900_000, tcpFinMs: 120_000, udpMs: 300_000 });
  const g = r.config?.globalDefs;
  assert.deepEqual([g?.notifyFifo, g?.vrrp.notifyFifo, g?.vrrp.strict], [{ path: '/run/ka.fifo', user: { user: 'keepalived_script' } }, { path: '/run/vrrp.fifo' }, false]);
});

test("the notify FIFOs and their scripts as keepalived settles them: first one kept, a FIFO that is notify_fifo's ignored, one script per FIFO", () => {
  const r = parse(`global_defs {
  notify_fifo /run/all.fifo
  notify_fifo /run/other.fifo
  notify_fifo_script "/bin/reader.sh -v" nobody
  vrrp_notify_fifo /run/all.fifo
  vrrp_notify_fifo_script /bin/vrrp.sh
  lvs_notify_fifo /run/lvs.fifo lb lb
  lvs_notify_fifo_script /bin/lvs.sh
}
`);
  assert.deepEqual(summary(r.problems), ['warning duplicate 3:3', 'warning duplicate 5:3']);
  assert.match(r.problems[0]?.message ?? '', /notify_fifo is already \/run\/all\.fifo: \/run\/other\.fifo is ignored/);
  const g = r.config?.globalDefs;
  assert.deepEqual(g?.notifyFifo, { path: '/run/all.fifo', script: { command: '/bin/reader.sh -v', user: { user: 'nobody' } } });
  assert.equal(g?.vrrp.notifyFifo, undefined);
  assert.deepEqual(g?.lvs.notifyFifo, { path: '/run/lvs.fifo', user: { user: 'lb', group: 'lb' }, script: { command: '/bin/lvs.sh' } });

  const shared = parse(`global_defs {
  vrrp_notify_fifo /run/x.fifo
  vrrp_notify_fifo_script /bin/vrrp.sh
  lvs_notify_fifo /run/x.fifo
  lvs_notify_fifo_script /bin/lvs.sh
  notify_fifo_script /bin/orphan.sh
}
`);
  assert.deepEqual(summary(shared.problems), ['warning duplicate 5:3', 'warning missing 6:3']);
  assert.deepEqual([shared.config?.globalDefs.vrrp.notifyFifo, shared.config?.globalDefs.lvs.notifyFifo, shared.config?.globalDefs.notifyFifo], [
    { path: '/run/x.fifo', script: { command: '/bin/vrrp.sh' } },
    { path: '/run/x.fifo' },
    undefined,
  ]);
});

// ------------------------------------------------------------------------------- 4. notify scripts: the user

test('notify "/x.sh arg" USERNAME [GROUPNAME]: the user is the script\'s, not an argument (keepalived\'s notify_script_init)', () => {
  const r = parse(`vrrp_sync_group G {
  group {
    VI_1
  }
  notify_master "/bin/g.sh master" lb
}
${instance(`  notify_master "/bin/up.sh 10.1.1.1" lb adm
  notify_backup /bin/down.sh
  notify "/bin/any.sh"`)}${vs('10.0.0.1 80', `  quorum_up "/bin/q.sh up" lb
  real_server 10.0.1.1 80 {
    notify_down "/bin/rs.sh down" nobody nogroup
  }`)}`);
  assert.deepEqual(codes(r.problems), ['warning lenient'], 'only the script security note');
  const n = r.config?.vrrpInstances[0]?.notify;
  assert.deepEqual([n?.master, n?.backup, n?.any, n?.users], ['/bin/up.sh 10.1.1.1', '/bin/down.sh', '/bin/any.sh', { master: { user: 'lb', group: 'adm' } }]);
  assert.deepEqual(r.config?.vrrpSyncGroups[0]?.notify.users, { master: { user: 'lb' } });
  const v = r.config?.virtualServers[0];
  assert.deepEqual([v?.quorumUp, v?.quorumUpUser], ['/bin/q.sh up', { user: 'lb' }]);
  assert.deepEqual([v?.realServers[0]?.notifyDown, v?.realServers[0]?.notifyDownUser], ['/bin/rs.sh down', { user: 'nobody', group: 'nogroup' }]);

  // Unquoted, the words after the script are the user too (keepalived reads them so): said, with the fix.
  const unquoted = parse(instance('  notify_master /bin/up.sh 10.1.1.1'));
  const [note] = unquoted.problems.filter((p) => p.pos?.line === 4);
  assert.deepEqual(summary(note ? [note] : []), ['warning lenient 4:28']);
  assert.match(note?.message ?? '', /so \/bin\/up\.sh runs as user 10\.1\.1\.1; write "\/bin\/up\.sh 10\.1\.1\.1" if they are arguments/);
  assert.match(parse(instance('  notify_master "/x" a b c')).problems[0]?.message ?? '', /notify_master has too many arguments/);
});
