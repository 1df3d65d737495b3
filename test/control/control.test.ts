import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runStatus } from '../../src/cli/status-run.ts';
import { FULL_UP_TO } from '../../src/cli/status.ts';
import { askDaemon } from '../../src/control/client.ts';
import { formatStatus } from '../../src/control/format.ts';
import { parseListen } from '../../src/control/http.ts';
import { DirectorMetrics } from '../../src/control/metrics.ts';
import { attemptChannel } from '../../src/check/runner.ts';
import { listenControl } from '../../src/control/server.ts';
import { sockaddrUn } from '../../src/daemon/sd-notify.ts';
import { desiredTable } from '../../src/ipvs/desired.ts';
import { config, FakeKernel, harness } from '../director/fakes.ts';

const CONF = config(`vrrp_instance VI_1 {
  state MASTER
  interface lo
  virtual_router_id 51
  priority 150
  virtual_ipaddress {
    10.0.0.1/32
  }
}
virtual_server 10.0.0.1 80 {
  lb_algo wrr
  lb_kind DR
  quorum 2
  real_server 10.1.0.1 80 {
    weight 3
    TCP_CHECK {
    }
  }
  real_server 10.1.0.2 80 {
    TCP_CHECK {
    }
  }
}
virtual_server fwmark 7 {
  lb_algo rr
  real_server 10.1.0.9 0 {
  }
}`);

async function runningDirector() {
  const kernel = new FakeKernel();
  kernel.load(desiredTable(CONF));
  const h = harness(CONF, { kernel, owned: ['TCP 10.0.0.1:80'] });
  await h.director.start();
  h.checker('10.0.0.1').verdict('10.1.0.1', true);
  h.checker('10.0.0.1').verdict('10.1.0.2', false);
  h.vrrps[0]!.transition('VI_1', 'BACKUP', 'MASTER', 150);
  await h.director.idle();
  return h;
}

test('control socket: mode 0600, status and reload round trips, stale socket replaced, live one refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'control-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'control.sock');
  writeFileSync(path, ''); // a leftover from a killed daemon
  const h = await runningDirector();
  let reloads = 0;
  const server = await listenControl(path, { status: () => h.director.status(), reload: async () => ({ applied: ++reloads > 1, problems: reloads > 1 ? [] : ['x.conf:1:1: error: bad'] }) });
  t.after(() => server.close());
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const s = await askDaemon(path, { cmd: 'status' });
  assert.ok('status' in s);
  assert.equal(s.status.vrrp[0]!.state, 'MASTER');
  const r1 = await askDaemon(path, { cmd: 'reload' });
  assert.deepEqual('reload' in r1 && r1.reload, { applied: false, problems: ['x.conf:1:1: error: bad'] });
  const r2 = await askDaemon(path, { cmd: 'reload' });
  assert.equal('reload' in r2 && r2.reload.applied, true);
  await assert.rejects(listenControl(path, { status: () => h.director.status(), reload: async () => ({ applied: true, problems: [] }) }), { code: 'CONTROL_IN_USE' });
  await assert.rejects(askDaemon(join(dir, 'none.sock'), { cmd: 'status' }), { code: 'CONTROL_NO_DAEMON' });
});

test('ipvs-ts status: the whole listing up to FULL_UP_TO real servers, beyond it the summary (--full lists all, --json is what was asked)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'control-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'control.sock');
  const h = await runningDirector();
  let large = false;
  const asked: boolean[] = [];
  // A daemon whose table is as large as `large` says: its summary counts FULL_UP_TO + 1 real servers.
  const server = await listenControl(path, {
    status: async (o) => {
      asked.push(o.summary === true);
      const s = await h.director.status(o);
      return large && o.summary ? { ...s, virtualServers: s.virtualServers.map((vs) => ({ ...vs, summary: { ...vs.summary!, realServers: FULL_UP_TO + 1 } })) } : s;
    },
    reload: async () => ({ applied: true, problems: [] }),
  });
  t.after(() => server.close());
  const run = async (opts: object) => {
    let text = '';
    const out = { write: (c: string) => ((text += c), true) } as unknown as NodeJS.WritableStream;
    assert.equal(await runStatus({ interval: '1', control: path, ...opts }, out, out), 0);
    return text;
  };
  assert.match(await run({}), /-> 10\.1\.0\.1:80 /, 'a small table: every real server');
  assert.deepEqual(asked.splice(0), [true, false], 'counted first, then listed');
  large = true;
  const summary = await run({});
  assert.match(summary, /real servers 10001: /);
  assert.match(summary, /--full lists every one/);
  assert.doesNotMatch(summary, /-> 10\.1\.0\.1:80 /);
  assert.deepEqual(asked.splice(0), [true]);
  assert.match(await run({ full: true }), /-> 10\.1\.0\.1:80 /);
  assert.deepEqual(asked.splice(0), [false]);
  assert.ok(JSON.parse(await run({ json: true })).virtualServers[0].realServers.length > 0, '--json: the whole status');
});

test('status text: VRRP state and priority, real servers with health and weights like ipvsadm -Ln', async () => {
  const h = await runningDirector();
  const text = formatStatus(await h.director.status());
  assert.match(text, /VI_1 {2}MASTER {2}priority 150 {2}lo vrid 51/);
  assert.match(text, /BACKUP -> MASTER/);
  assert.match(text, /TCP 10\.0\.0\.1:80 {2}wrr DR {2}quorum 2 up/);
  assert.match(text, /-> 10\.1\.0\.1:80 +UP +DR +weight 3\/3/);
  assert.match(text, /-> 10\.1\.0\.2:80 +DOWN +DR +weight -\/1 \(not in table\)/);
  assert.match(text, /FWM 7 IPv4/);
});

test('metrics: keepalived-exporter VRRP names and labels, node_exporter IPVS labels, checker and reconciler series', async () => {
  const h = await runningDirector();
  const m = new DirectorMetrics(() => h.director.tables(), { nodeIpvsNames: true });
  h.director.onEvent(m.onEvent);
  try {
    h.checker('10.0.0.1').verdict('10.1.0.2', true);
    h.checker('10.0.0.1').verdict('10.1.0.1', true, { weight: 3 });
    h.checker('10.0.0.1').verdict('10.1.0.1', false);
    await h.director.idle();
    // Attempts as the runners publish them: two ok and one refused for one virtual server, one more for the same
    // virtual server as a reload's new model object (the same series).
    const vs = h.director.config.virtualServers[0]!;
    const rs = vs.realServers[0]!;
    const attempt = (virtualServer: typeof vs, ok: boolean) =>
      attemptChannel.publish({ check: { id: 0, virtualServer, realServer: rs, checker: rs.checkers[0]!, plannedAt: 0 }, result: ok ? { ok, reason: 'ok', latencyMs: 2 } : { ok, code: 'CONNECT_REFUSED', reason: 'refused', latencyMs: 1 }, startedAt: 0, latenessMs: 0 });
    attempt(vs, true);
    attempt(vs, true);
    attempt(vs, false);
    attempt({ ...vs }, true);
    const text = await m.render();
    const checker = rs.checkers[0]!.type;
    assert.match(text, new RegExp(`^ipvs_ts_check_results_total\\{virtual_server="TCP 10\\.0\\.0\\.1:80",checker="${checker}",result="ok"\\} 3$`, 'm'));
    assert.match(text, new RegExp(`^ipvs_ts_check_results_total\\{virtual_server="TCP 10\\.0\\.0\\.1:80",checker="${checker}",result="CONNECT_REFUSED"\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^ipvs_ts_check_duration_seconds_count\\{virtual_server="TCP 10\\.0\\.0\\.1:80",checker="${checker}"\\} 4$`, 'm'));
    assert.match(text, /^keepalived_up 1$/m);
    assert.match(text, /^keepalived_vrrp_state\{iname="VI_1",intf="lo",vrid="51",ip_address="10\.0\.0\.1\/32"\} 2$/m);
    assert.match(text, /^ipvs_ts_vrrp_priority\{iname="VI_1",intf="lo",vrid="51"\} 150$/m);
    assert.match(text, /^# TYPE keepalived_advertisements_received_total counter$/m);
    assert.match(text, /^ipvs_ts_backend_weight\{local_address="10\.0\.0\.1",local_port="80",remote_address="10\.1\.0\.2",remote_port="80",proto="TCP",local_mark=""\} 1$/m);
    assert.match(text, /^node_ipvs_backend_connections_active\{local_address="",local_port="0",remote_address="10\.1\.0\.9",remote_port="0",proto="FWM",local_mark="00000007"\} 0$/m);
    assert.match(text, /^ipvs_ts_real_server_up\{virtual_server="TCP 10\.0\.0\.1:80",real_server="10\.1\.0\.1:80"\} 0$/m);
    assert.match(text, /^ipvs_ts_check_transitions_total\{virtual_server="TCP 10\.0\.0\.1:80",real_server="10\.1\.0\.1:80",to="down"\} 1$/m);
    assert.match(text, /^ipvs_ts_reconcile_applies_total\{reason="verdict"\} \d+$/m);
    assert.match(text, /^ipvs_ts_verdict_to_kernel_seconds_count \d+$/m);
  } finally {
    m.close();
  }
});

test('metrics listen address and sd_notify socket address encoding', () => {
  assert.deepEqual(parseListen('127.0.0.1:9650'), { host: '127.0.0.1', port: 9650 });
  assert.deepEqual(parseListen('[::1]:9650'), { host: '::1', port: 9650 });
  assert.deepEqual(parseListen(':9650'), { host: '0.0.0.0', port: 9650 });
  assert.throws(() => parseListen('9650'));
  assert.deepEqual([...sockaddrUn('/run/systemd/notify')], [1, 0, ...Buffer.from('/run/systemd/notify\0')]);
  assert.deepEqual([...sockaddrUn('@abc')], [1, 0, 0, 97, 98, 99]);
});

test('ipvs-ts daemon where the kernel has no IPVS: one line with the fix, exit 1, no trace', { skip: existsSync('/proc/net/ip_vs') ? 'this kernel has IPVS' : false }, () => {
  const bin = new URL('../../bin/ipvs-ts.js', import.meta.url).pathname;
  // `ipvs-ts` alone runs the daemon on /etc/keepalived/keepalived.conf, as `keepalived` alone does.
  for (const args of [['daemon', '--control', '/nonexistent/x.sock'], []]) {
    const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'ipvs-ts daemon: IPVS is not available in this kernel: load it with `modprobe ip_vs`\n');
  }
});

test('the Grafana dashboard queries only metrics the daemon exports', async () => {
  const dash = readFileSync(new URL('../../deploy/grafana/ipvs-ts-dashboard.json', import.meta.url), 'utf8');
  const h = await runningDirector();
  const m = new DirectorMetrics(() => h.director.tables());
  try {
    const names = new Set([...(await m.render()).matchAll(/^# TYPE (\S+) /gm)].map((x) => x[1]!));
    const used = new Set([...dash.matchAll(/\b(?:keepalived|ipvs_ts)_[a-z_]+\b/g)].map((x) => x[0].replace(/_bucket$/, '')).filter((n) => !n.endsWith('_')));
    assert.ok(used.size > 10);
    assert.deepEqual([...used].filter((n) => !names.has(n)), []);
  } finally {
    m.close();
  }
});

test('VRRP dead: status text says so, /metrics still renders with the instances in STOP (98) and the failure counted', async () => {
  const h = await runningDirector();
  const m = new DirectorMetrics(() => h.director.tables());
  h.director.onEvent(m.onEvent);
  try {
    h.vrrps[0]!.die();
    await h.director.idle();
    const s = await h.director.status();
    const text = formatStatus(s, s.vrrpFailure!.at + 5000);
    assert.match(text, /^ {2}FAILED at \d\d:\d\d:\d\d \(5s ago\) \[VRRP_WORKER\]: VRRP worker exited unexpectedly/m);
    assert.match(text, /VI_1 {2}STOP {2}priority 150/);
    const metrics = await m.render();
    assert.match(metrics, /^keepalived_up 1$/m);
    assert.match(metrics, /^keepalived_vrrp_state\{iname="VI_1",intf="lo",vrid="51",ip_address="10\.0\.0\.1\/32"\} 98$/m);
    assert.match(metrics, /^ipvs_ts_vrrp_failures_total 1$/m);
  } finally {
    m.close();
  }
});

test('with a BGP announcer: status shows its sessions and VIPs, /metrics exports them', async () => {
  const h = await runningDirector();
  const bgp = {
    vips: [{ prefix: '10.0.0.1/32', announced: true, since: 0, healthy: true, reason: 'ok', inDaemon: true }, { prefix: '10.0.0.2/32', announced: false, since: 0, healthy: false, reason: 'quorum lost', inDaemon: false }],
    sessions: [{ neighbor: '192.0.2.1', state: 'Established' as const, up: true, since: 0 }],
    daemon: { name: 'bird', running: true, pid: 42, restarts: 1 },
  };
  const m = new DirectorMetrics(async () => ({ ...(await h.director.tables()), bgp }));
  try {
    const text = await m.render();
    assert.match(text, /^ipvs_ts_bgp_announced\{prefix="10\.0\.0\.1\/32"\} 1$/m);
    assert.match(text, /^ipvs_ts_bgp_announced\{prefix="10\.0\.0\.2\/32"\} 0$/m);
    assert.match(text, /^ipvs_ts_bgp_session_up\{neighbor="192\.0\.2\.1"\} 1$/m);
    assert.match(text, /^ipvs_ts_bgp_daemon_restarts_total\{daemon="bird"\} 1$/m);
    const out = formatStatus({ ...(await h.director.status()), bgp });
    assert.match(out, /BGP \(bird pid 42, 1 restart\(s\)\)\n {2}neighbor 192\.0\.2\.1 {2}Established\n {2}10\.0\.0\.1\/32 {2}announced\n {2}10\.0\.0\.2\/32 {2}withdrawn \(quorum lost\)/);
  } finally {
    m.close();
  }
});
