// Every keepalived config from the user's documents (test/fixtures/seeds/, copied from the seed guides) parses to
// the model the document means.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig, parseConfigText, type Config, type Problem } from '../../src/config/index.ts';
import type { HttpCheck, VrrpInstance } from '../../src/config/model.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/seeds/${name}`, import.meta.url));
const opts = { skipHostChecks: true } as const;

function load(name: string): { config: Config; problems: Problem[] } {
  const r = loadConfig(fixture(name), opts);
  assert.ok(r.config, `${name} should be valid, got:\n${r.problems.map((p) => `${p.pos?.line}:${p.pos?.col} ${p.message}`).join('\n')}`);
  return { config: r.config, problems: r.problems };
}

function instance(c: Config, name: string): VrrpInstance {
  const i = c.vrrpInstances.find((x) => x.name === name);
  assert.ok(i, `no instance ${name}`);
  return i;
}

function codes(problems: Problem[]): string[] {
  return problems.map((p) => `${p.severity}:${p.code}`);
}

test('nginx single master/backup (seed 000): globals, vrrp_script, instance', () => {
  const { config: m, problems } = load('nginx-single-master.conf');
  assert.deepEqual(codes(problems), ['warning:lenient', 'warning:lenient'], 'smtp_server host name and script security');
  assert.equal(m.globalDefs.routerId, 'LVS_lb1');
  assert.deepEqual(m.globalDefs.notificationEmail, ['aisuhua@example.com', 'itsection@example.com']);
  assert.deepEqual(m.globalDefs.smtpServer, { host: 'mail.example.com', port: 25 });
  assert.equal(m.globalDefs.smtpConnectTimeoutMs, 30_000);
  const [s] = m.vrrpScripts;
  assert.deepEqual(
    { name: s?.name, script: s?.script, intervalMs: s?.intervalMs, weight: s?.weight, fall: s?.fall, rise: s?.rise },
    { name: 'chk_nginx', script: 'killall -0 nginx', intervalMs: 2000, weight: -5, fall: 3, rise: 2 },
  );
  const vi = instance(m, 'VI_1');
  assert.deepEqual(
    [vi.state, vi.interface, vi.mcastSrcIp, vi.vrid, vi.priority, vi.advertIntMs, vi.version, vi.family],
    ['MASTER', 'enp0s3', '192.168.31.220', 51, 101, 2000, 2, 4],
  );
  assert.deepEqual(vi.auth, { type: 'PASS', pass: '1111' });
  assert.deepEqual(vi.virtualIps.map((v) => [v.address, v.prefix, v.dev]), [['192.168.31.20', 32, 'enp0s3']]);
  assert.deepEqual(vi.trackScripts.map((t) => [t.name, t.weight]), [['chk_nginx', undefined]]);
  assert.equal(vi.garpMasterDelayMs, 5000);

  const b = instance(load('nginx-single-backup.conf').config, 'VI_1');
  assert.deepEqual([b.state, b.priority, b.vrid, b.mcastSrcIp], ['BACKUP', 100, 51, '192.168.31.221']);
});

test('nginx double master (seed 000): two instances with mirrored roles', () => {
  const one = load('nginx-double-master-1.conf').config;
  const two = load('nginx-double-master-2.conf').config;
  const roles = (c: Config): unknown[] => c.vrrpInstances.map((i) => [i.name, i.state, i.vrid, i.priority, i.auth?.pass, i.virtualIps[0]?.address]);
  assert.deepEqual(roles(one), [['VI_1', 'MASTER', 51, 101, '1111', '192.168.31.20'], ['VI_2', 'BACKUP', 151, 100, '2222', '192.168.31.30']]);
  assert.deepEqual(roles(two), [['VI_1', 'BACKUP', 51, 100, '1111', '192.168.31.20'], ['VI_2', 'MASTER', 151, 101, '2222', '192.168.31.30']]);
  assert.equal(two.globalDefs.routerId, 'LVS_lb2');
});

test('nginx preemptive master/backup (seed 001): trailing # comments with tabs', () => {
  const m = load('nginx-preempt-master.conf').config;
  assert.equal(m.globalDefs.routerId, 'nginx_master');
  assert.deepEqual([m.vrrpScripts[0]?.script, m.vrrpScripts[0]?.intervalMs, m.vrrpScripts[0]?.weight], ['/etc/keepalived/nginx_check.sh', 2000, -20]);
  const vi = instance(m, 'VI_1');
  assert.deepEqual([vi.state, vi.interface, vi.vrid, vi.mcastSrcIp, vi.priority, vi.advertIntMs], ['MASTER', 'eth0', 51, '192.168.110.128', 90, 1000]);
  assert.deepEqual(vi.virtualIps.map((v) => v.address), ['192.168.110.138']);
  const b = instance(load('nginx-preempt-backup.conf').config, 'VI_1');
  assert.deepEqual([b.state, b.mcastSrcIp, b.priority], ['BACKUP', '192.168.110.130', 90]);
});

test('nginx triple master (seed 002): three instances per node, /24 VIPs, notify_master with arguments', () => {
  const expected: Record<string, [string, number][]> = {
    'nginx-triple-master-node1.conf': [['MASTER', 101], ['BACKUP', 99], ['BACKUP', 99]],
    'nginx-triple-master-node2.conf': [['BACKUP', 99], ['MASTER', 101], ['BACKUP', 97]],
    'nginx-triple-master-node3.conf': [['BACKUP', 97], ['BACKUP', 97], ['MASTER', 101]],
  };
  for (const [file, roles] of Object.entries(expected)) {
    const c = load(file).config;
    assert.deepEqual(c.vrrpInstances.map((i) => [i.state, i.priority]), roles, file);
    assert.deepEqual(c.vrrpInstances.map((i) => i.vrid), [51, 52, 53], file);
    assert.deepEqual(c.vrrpInstances.map((i) => `${i.virtualIps[0]?.address}/${i.virtualIps[0]?.prefix}`), ['10.11.7.235/24', '10.11.7.236/24', '10.11.7.237/24'], file);
    assert.equal(c.vrrpInstances[0]?.notify.master, '/etc/keepalived/clean_arp.sh 10.11.7.235 10.11.7.2', file);
    assert.deepEqual([c.vrrpScripts[0]?.name, c.vrrpScripts[0]?.fall, c.vrrpScripts[0]?.rise], ['chk_http_port', 2, 1], file);
  }
});

test('LVS DR with TCP_CHECK (seed 003): the README main config, defaults and inheritance applied', () => {
  const { config: c, problems } = load('lvs-dr-tcp-check-master.conf');
  assert.deepEqual(problems.map((p) => [p.code, p.pos?.line]), [['lenient', 20], ['deprecated', 27], ['deprecated', 37]]);
  const vi = instance(c, 'VI_1');
  assert.deepEqual([vi.state, vi.priority, vi.vrid, vi.virtualIps[0]?.address], ['MASTER', 100, 51, '192.168.1.100']);
  const [vs] = c.virtualServers;
  assert.ok(vs);
  assert.deepEqual(vs.key, { kind: 'addr', address: '192.168.1.100', family: 4, port: 80 });
  assert.deepEqual([vs.lbAlgo, vs.lbKind, vs.protocol, vs.persistenceTimeoutS, vs.delayLoopMs], ['rr', 'DR', 'TCP', undefined, 6000]);
  assert.deepEqual(vs.realServers.map((r) => [r.address, r.port, r.weight, r.lbKind]), [['192.168.1.27', 80, 100, 'DR'], ['192.168.1.28', 80, 100, 'DR']]);
  const ch = vs.realServers[1]?.checkers[0];
  assert.deepEqual(ch && {
    type: ch.type, connectIp: ch.connectIp, connectPort: ch.connectPort, connectTimeoutMs: ch.connectTimeoutMs, retry: ch.retry,
    delayBeforeRetryMs: ch.delayBeforeRetryMs, warmupMs: ch.warmupMs, delayLoopMs: ch.delayLoopMs,
  }, {
    type: 'TCP_CHECK', connectIp: '192.168.1.28', connectPort: 80, connectTimeoutMs: 10_000, retry: 3, delayBeforeRetryMs: 3000, warmupMs: 6000, delayLoopMs: 6000,
  });
  const backup = instance(load('lvs-dr-tcp-check-backup.conf').config, 'VI_1');
  assert.deepEqual([backup.state, backup.priority], ['BACKUP', 90]);
});

test('LVS NAT with TCP_CHECK and HTTP_GET digests (seed 004): the template placeholder is the only error', () => {
  const path = fixture('lvs-nat-http-get-digest-template.conf');
  const r = loadConfig(path, opts);
  assert.equal(r.config, undefined);
  const errors = r.problems.filter((p) => p.severity === 'error');
  assert.deepEqual(errors.map((p) => [p.code, p.pos?.line, p.pos?.col]), [['bad-value', 49, 20]]);
  assert.match(errors[0]?.message ?? '', /bindto: '<ip>' is not an IPv4 or IPv6 address .*placeholder/);

  // With the placeholder filled in, the document's intent is fully modelled.
  const text = readFileSync(path, 'utf8').replace('bindto <ip>', 'bindto 192.168.200.2');
  const fixed = parseConfigText(text, path, opts);
  assert.ok(fixed.config, fixed.problems.map((p) => p.message).join('\n'));
  const c = fixed.config;
  assert.deepEqual(c.globalDefs.notificationEmail, ['acassen@firewall.loc', 'failover@firewall.loc', 'sysadmin@firewall.loc']);
  assert.deepEqual(c.globalDefs.smtpServer, { host: '192.168.200.1', port: 25 });
  assert.deepEqual([c.globalDefs.vrrp.strict, c.globalDefs.vrrp.skipCheckAdvAddr, c.globalDefs.vrrp.garpIntervalMs], [true, true, 0]);
  assert.deepEqual(c.vrrpInstances[0]?.virtualIps.map((v) => v.address), ['192.168.200.16', '192.168.200.17', '192.168.200.18']);
  const vs = c.virtualServers[0];
  assert.deepEqual([vs?.lbAlgo, vs?.lbKind, vs?.persistenceTimeoutS, vs?.delayLoopMs], ['rr', 'NAT', 50, 6000]);
  const rs = vs?.realServers[0];
  assert.deepEqual([rs?.address, rs?.port, rs?.weight, rs?.checkers.map((k) => k.type)], ['192.168.200.100', 443, 1, ['TCP_CHECK', 'HTTP_GET']]);
  const tcp = rs?.checkers[0];
  assert.deepEqual([tcp?.connectPort, tcp?.connectTimeoutMs, tcp?.retry, tcp?.bindTo], [23, 3000, 3, '192.168.200.2']);
  const http = rs?.checkers[1] as HttpCheck;
  assert.deepEqual(http.urls.map((u) => [u.path, u.digest, u.statusCodes]), [
    ['/', 'ff20ad2481f97b1754ef3e12ecd3a9cc', [{ from: 200, to: 299 }]],
    ['/mrtg', '9b3a0c85a887a256d6939da88aabd8cd', [{ from: 200, to: 299 }]],
    ['/testurl3/test.jsp', '640205b7b0fc66c1ea91c463fac6334d', [{ from: 200, to: 299 }]],
  ]);
  assert.deepEqual([http.connectPort, http.connectTimeoutMs, http.retry, http.delayBeforeRetryMs, http.warmupMs, http.httpProtocol], [443, 3000, 3, 3000, 6000, '1.0']);
});

test('the commented grammar template (seed 001) gives clear positioned errors, not a crash', () => {
  const r = loadConfig(fixture('template-commented-grammar.conf'), opts);
  assert.equal(r.config, undefined);
  const byLine = new Map(r.problems.filter((p) => p.severity === 'error').map((p) => [p.pos?.line, p.message]));
  assert.match(byLine.get(48) ?? '', /unknown lb_algo 'rr\|wrr\|lc\|wlc\|sh\|dh\|lblc'.*grammar template.*expected one of: rr wrr/);
  assert.match(byLine.get(49) ?? '', /unknown lb_kind 'NAT\|DR\|TUN'/);
  assert.match(byLine.get(26) ?? '', /virtual_router_id: 'num' is not a whole number/);
  assert.match(byLine.get(70) ?? '', /unknown keyword 'HTTP_GET\|SSL_GET'.*grammar template/);
  assert.ok(r.problems.every((p) => p.pos !== undefined && p.pos.line > 0 && p.pos.col > 0));
});
