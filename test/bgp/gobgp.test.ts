// The GoBGP backend for real, as bird.test.ts does it for BIRD: a router namespace runs its own BIRD (routes it
// learns go into its kernel table), a director namespace runs the gobgpd that ipvs-ts starts and drives over
// gRPC; they peer over a veth. The router must learn the VIP when the policy announces it, lose it on withdrawal,
// lose it when gobgpd is killed -9 and learn it again when ipvs-ts has restarted gobgpd and re-announced, and lose
// it on stop. Namespaces, the router's BIRD and gobgpd (by pid) are removed even when an assertion fails.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/index.ts';
import { GobgpAnnouncer, worthReporting } from '../../src/bgp/gobgp.ts';
import { createBgpService, describeBgpEvent, type BgpEvent } from '../../src/bgp/service.ts';
import { gone, RouterLab, until, VS, VS6 } from './lab.ts';

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for ip netns';
  if (spawnSync('bird', ['--version']).error) return 'needs BIRD 2 for the router (apt-get install bird2)';
  if (spawnSync('gobgpd', ['--version']).error) return 'needs gobgpd (apt-get install gobgpd)';
  return undefined;
}

test('GoBGP backend: the router learns the VIP when announced and loses it on withdrawal, gobgpd death and stop', { skip: unavailable() }, async () => {
  const lab = new RouterLab('gb');
  const events: BgpEvent[] = [];
  const eventAt = new Map<BgpEvent, number>();
  let service: ReturnType<typeof createBgpService>;
  try {
    lab.setup();
    const text = lab.config(`backend gobgp
  gobgpd_dir ${join(lab.dir, 'director')}`);
    const { config, problems } = parseConfigText(text, 'bgp.conf', { skipHostChecks: true });
    assert.ok(config, problems.map((p) => p.message).join('\n'));
    service = createBgpService(config, { gobgpCommand: ['ip', 'netns', 'exec', lab.director, 'gobgpd'], report: (e) => eventAt.set(e, performance.now()) && events.push(e), sessionPollMs: 100 });
    assert.ok(service, 'a service for the block');
    const bgp = service;
    await bgp.start();
    const session = () => bgp.status().sessions[0];
    await until('both sessions to come up', () => bgp.status().sessions.every((x) => x.state === 'Established'));
    assert.deepEqual(bgp.status().sessions.map((x) => [x.neighbor, x.up]), [['10.98.0.1', true], ['fd98::1', true]]);
    assert.equal(lab.hasVip() || lab.hasVip6(), false, 'nothing is announced before the director says so');

    const at = (type: string, extra: object = {}) => ({ type, at: Date.now(), ...extra }) as Parameters<typeof bgp.onEvent>[0];
    bgp.onEvent(at('started', { virtualServers: 2, instances: 0 }));
    bgp.onEvent(at('quorum', { virtualServer: VS6, up: true, liveWeight: 1 }));
    await until('the router to learn the IPv6 VIP', lab.hasVip6);
    assert.equal(lab.hasVip(), false, 'the IPv4 VIP has no quorum yet');
    let t0 = performance.now();
    bgp.onEvent(at('quorum', { virtualServer: VS, up: true, liveWeight: 1 }));
    await until('the router to learn the VIP', lab.hasVip);
    const announceMs = performance.now() - t0;
    const learned = lab.vipRoute();
    assert.match(learned, /BGP\.med: 20/);
    assert.match(learned, /BGP\.as_path: 65001/);
    assert.equal(bgp.status().vips[0]?.announced, true);

    t0 = performance.now();
    bgp.onEvent(at('quorum', { virtualServer: VS, up: false, liveWeight: 0 }));
    await until('the router to lose the VIP', () => !lab.hasVip());
    const withdrawMs = performance.now() - t0;
    // gobgpd may send the UPDATE before its reply to DeletePath reaches ipvs-ts.
    const withdrawn = await until('the withdrawal to be reported', () => events.findLast((e) => e.type === 'bgp-route' && !e.announced));
    const withdrawCommandMs = (eventAt.get(withdrawn as BgpEvent) ?? NaN) - t0;
    assert.equal(bgp.status().vips[0]?.announced, false);
    assert.equal(lab.hasVip6(), true, 'the other VIP stays');
    assert.match(bgp.status().vips[0]?.reason ?? '', /no quorum: TCP 192.0.2.10:80/);

    bgp.onEvent(at('quorum', { virtualServer: VS, up: true, liveWeight: 1 }));
    await until('the router to learn the VIP again', lab.hasVip);

    // gobgpd killed behind ipvs-ts's back: noticed, the session reads Down, gobgpd is restarted and given the VIPs again.
    const pid = bgp.status().daemon.pid;
    assert.ok(pid, 'gobgpd runs');
    const killedAt = performance.now();
    process.kill(pid, 'SIGKILL');
    await until('the dead gobgpd to be noticed', () => events.some((e) => e.type === 'gobgp-exited'));
    await bgp.pollSessions();
    assert.equal(session()?.state, 'Down');
    t0 = killedAt;
    await until('the router to lose the VIPs with the session', () => !lab.hasVip() && !lab.hasVip6());
    const lostMs = performance.now() - t0;
    await until('gobgpd to be restarted and the VIPs back at the router', () => bgp.status().daemon.running && bgp.status().daemon.pid !== pid && lab.hasVip() && lab.hasVip6());
    const restartMs = performance.now() - t0;
    assert.equal(bgp.status().daemon.restarts, 1);
    await until('both sessions to come up again', () => bgp.status().sessions.every((x) => x.state === 'Established'));

    // A reload that changes the MED replaces the path in gobgpd; the sessions stay up.
    const before = events.length;
    const edited = parseConfigText(text.replace('med 20', 'med 30'), 'bgp.conf', { skipHostChecks: true }).config;
    assert.ok(edited, 'the edited config is valid');
    bgp.reload(edited);
    const routerMed = () => lab.vipRoute().match(/BGP\.med: (\d+)/)?.[1];
    await until('the router to see the new MED', () => routerMed() === '30');
    await bgp.pollSessions();
    assert.deepEqual(events.slice(before).filter((e) => e.type === 'bgp-session'), [], 'no session changed');
    // gobgpd may send the update before its reply to AddPath reaches ipvs-ts.
    await until('the re-announcement to be reported', () => events.slice(before).some((e) => e.type === 'bgp-route' && e.reason === 'MED changed'));

    const gobgpPid = bgp.status().daemon.pid ?? 0;
    t0 = performance.now();
    bgp.onEvent(at('stopping'));
    await bgp.stop();
    const stopMs = performance.now() - t0;
    assert.equal(lab.hasVip() || lab.hasVip6(), false);
    assert.ok(stopMs >= 500, `stop waited withdraw_hold: ${stopMs} ms`);
    assert.ok(gone(gobgpPid), 'gobgpd has exited');
    service = undefined;
    console.log(`announce ${announceMs.toFixed(0)} ms (rise 2 x 0.1 s), withdraw ${withdrawMs.toFixed(0)} ms (fall 1 x 0.1 s; gobgpd had deleted the path after ${withdrawCommandMs.toFixed(0)} ms), gobgpd killed -> VIPs gone at the router ${lostMs.toFixed(0)} ms -> VIPs back ${restartMs.toFixed(0)} ms, stop ${stopMs.toFixed(0)} ms (hold 0.5 s)`);
    console.log(events.map(describeBgpEvent).join('\n'));
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${events.map(describeBgpEvent).join('\n')}`);
  } finally {
    await service?.stop().catch(() => undefined);
    lab.close();
  }
});


test('GoBGP backend: a gobgpd left by a killed ipvs-ts is stopped at start, another program\'s gobgpd is not', { skip: unavailable() }, async () => {
  const ns = `ipvsts-gbl-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'ipvsts-gbl-'));
  const pids: number[] = [];
  const settings = { routerId: '10.97.0.2', localAs: 65001, neighbors: [{ address: '10.97.0.1', family: 4 as const, remoteAs: 65000, holdS: 9, port: 179, passive: true }] };
  const command = ['ip', 'netns', 'exec', ns, 'gobgpd'];
  const log: string[] = [];
  const report = (e: BgpEvent) => log.push(describeBgpEvent(e));
  const daemonize = (apiHosts: string): number => {
    const c = spawn('ip', ['netns', 'exec', ns, 'gobgpd', '--api-hosts', apiHosts, '--pprof-disable'], { detached: true, stdio: 'ignore' });
    c.unref();
    pids.push(c.pid ?? 0);
    return c.pid ?? 0;
  };
  let backend: GobgpAnnouncer | undefined;
  try {
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    backend = new GobgpAnnouncer({ settings, dir: join(dir, 'a'), command, report });
    const { pidFile, apiHosts, socket } = backend.paths;
    // A gobgpd on our socket, its pid in our pid file, stands for the child of an ipvs-ts that was killed -9.
    mkdirSync(join(dir, 'a'));
    const leftover = daemonize(apiHosts);
    writeFileSync(pidFile, `${leftover}\n`);
    await until('the leftover gobgpd to listen', () => spawnSync('test', ['-S', socket]).status === 0);
    await backend.start();
    await until('the leftover gobgpd to be gone', () => gone(leftover), 5000);
    assert.notEqual(backend.daemon().pid, leftover);
    assert.ok(log.some((l) => l.includes(`left running by an earlier ipvs-ts (pid ${leftover})`)), 'the leftover is reported');
    pids.push(backend.daemon().pid ?? 0);
    // No route to the neighbor in this namespace (and it is passive): the session is not up.
    assert.notEqual((await backend.sessions())[0]?.state, 'Established');

    // Another gobgpd (its own socket) whose pid happens to be in our pid file is left alone.
    await backend.close();
    const stranger = daemonize(`unix://${join(dir, 'other.sock')}`);
    writeFileSync(pidFile, `${stranger}\n`);
    await until('the other gobgpd to run', () => readFileSync(`/proc/${stranger}/cmdline`, 'utf8').startsWith('gobgpd'));
    backend = new GobgpAnnouncer({ settings, dir: join(dir, 'a'), command, report });
    await backend.start();
    pids.push(backend.daemon().pid ?? 0);
    assert.ok(!gone(stranger), 'the other gobgpd runs');
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${log.join('\n')}`);
  } finally {
    await backend?.close().catch(() => undefined);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    spawnSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('GoBGP backend: a missing gobgpd program fails start with BGP_DAEMON_START', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipvsts-gbm-'));
  const events: string[] = [];
  const backend = new GobgpAnnouncer({ settings: { routerId: '10.0.0.1', localAs: 1, neighbors: [] }, dir, command: [join(dir, 'no-gobgpd')], report: (e) => events.push(e.type) });
  try {
    await assert.rejects(backend.start(), { code: 'BGP_DAEMON_START' });
    assert.deepEqual(events, ['gobgp-error']);
    assert.equal(backend.daemon().running, false);
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('GoBGP backend: gobgpd\'s info lines are not reported, its warnings, errors and panics are', () => {
  assert.equal(worthReporting('time="2026-12-02T06:35:24Z" level=info msg="Peer Up" Key=10.98.0.1 State=BGP_FSM_OPENCONFIRM Topic=Peer'), false);
  assert.equal(worthReporting('time="2026-12-02T06:35:24Z" level=warning msg="failed to resolve local address" Key=10.98.0.1 Topic=Peer'), true);
  assert.equal(worthReporting('time="2026-12-02T06:35:24Z" level=error msg="failed to listen"'), true);
  assert.equal(worthReporting('panic: runtime error: invalid memory address or nil pointer dereference'), true);
});
