// The BIRD 2 backend for real: a router namespace runs its own BIRD (routes it learns go into its kernel table),
// a director namespace runs the BIRD that ipvs-ts starts and drives; they peer over a veth. The router must learn
// the VIP when the policy announces it, lose it on withdrawal, lose it when the director's BIRD is killed and
// learn it again when ipvs-ts has restarted that BIRD, and lose it on stop. Namespaces and both BIRDs (by pid)
// are removed even when an assertion fails.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/index.ts';
import { BirdAnnouncer } from '../../src/bgp/bird.ts';
import { createBgpService, describeBgpEvent, type BgpEvent } from '../../src/bgp/service.ts';
import { gone, RouterLab, until, VS, VS6 } from './lab.ts';

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for ip netns';
  if (spawnSync('bird', ['--version']).error) return 'needs BIRD 2 (apt-get install bird2)';
  return undefined;
}

test('BIRD 2 backend: the router learns the VIP when announced and loses it on withdrawal, BIRD death and stop', { skip: unavailable() }, async () => {
  const lab = new RouterLab('bgp');
  const events: BgpEvent[] = [];
  const eventAt = new Map<BgpEvent, number>();
  let service: ReturnType<typeof createBgpService>;
  try {
    lab.setup();
    const text = lab.config(`bird_dir ${join(lab.dir, 'director')}`);
    const { config, problems } = parseConfigText(text, 'bgp.conf', { skipHostChecks: true });
    assert.ok(config, problems.map((p) => p.message).join('\n'));
    service = createBgpService(config, { birdCommand: ['ip', 'netns', 'exec', lab.director, 'bird'], report: (e) => eventAt.set(e, performance.now()) && events.push(e), sessionPollMs: 100 });
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
    const withdrawn = events.findLast((e) => e.type === 'bgp-route' && !e.announced);
    const withdrawCommandMs = (eventAt.get(withdrawn as BgpEvent) ?? NaN) - t0;
    assert.equal(bgp.status().vips[0]?.announced, false);
    assert.equal(lab.hasVip6(), true, 'the other VIP stays');
    assert.match(bgp.status().vips[0]?.reason ?? '', /no quorum: TCP 192.0.2.10:80/);

    bgp.onEvent(at('quorum', { virtualServer: VS, up: true, liveWeight: 1 }));
    await until('the router to learn the VIP again', lab.hasVip);

    // BIRD killed behind ipvs-ts's back: noticed, the session reads Down, BIRD is restarted with the VIP announced.
    const pid = bgp.status().daemon.pid;
    assert.ok(pid, 'BIRD runs');
    process.kill(pid, 'SIGKILL');
    await until('the dead BIRD to be noticed', () => events.some((e) => e.type === 'bird-exited'));
    await bgp.pollSessions();
    assert.equal(session()?.state, 'Down');
    t0 = performance.now();
    await until('BIRD to be restarted and the VIPs back at the router', () => bgp.status().daemon.running && bgp.status().daemon.pid !== pid && lab.hasVip() && lab.hasVip6());
    const restartMs = performance.now() - t0;
    assert.equal(bgp.status().daemon.restarts, 1);
    await until('both sessions to come up again', () => bgp.status().sessions.every((x) => x.state === 'Established'));

    // A reload that changes the MED re-reads BIRD's configuration; the sessions stay up.
    const before = events.length;
    const edited = parseConfigText(text.replace('med 20', 'med 30'), 'bgp.conf', { skipHostChecks: true }).config;
    assert.ok(edited, 'the edited config is valid');
    bgp.reload(edited);
    const routerMed = () => lab.vipRoute().match(/BGP\.med: (\d+)/)?.[1];
    await until('the router to see the new MED', () => routerMed() === '30');
    await bgp.pollSessions();
    assert.deepEqual(events.slice(before).filter((e) => e.type === 'bgp-session'), [], 'no session changed');
    // BIRD may send the update before its reply to `configure` reaches ipvs-ts.
    await until('the re-announcement to be reported', () => events.slice(before).some((e) => e.type === 'bgp-route' && e.reason === 'MED changed'));

    const birdPid = bgp.status().daemon.pid ?? 0;
    t0 = performance.now();
    bgp.onEvent(at('stopping'));
    await bgp.stop();
    const stopMs = performance.now() - t0;
    assert.equal(lab.hasVip() || lab.hasVip6(), false);
    assert.ok(stopMs >= 500, `stop waited withdraw_hold: ${stopMs} ms`);
    assert.ok(gone(birdPid), 'BIRD has exited');
    service = undefined;
    console.log(`announce ${announceMs.toFixed(0)} ms (rise 2 x 0.1 s), withdraw ${withdrawMs.toFixed(0)} ms (fall 1 x 0.1 s; BIRD had disabled the route after ${withdrawCommandMs.toFixed(0)} ms), BIRD killed -> VIP back ${restartMs.toFixed(0)} ms, stop ${stopMs.toFixed(0)} ms (hold 0.5 s)`);
    console.log(events.map(describeBgpEvent).join('\n'));
  } finally {
    await service?.stop().catch(() => undefined);
    lab.close();
  }
});

test('BIRD 2 backend: a BIRD left by a killed ipvs-ts is stopped at start, another program\'s BIRD is not', { skip: unavailable() }, async () => {
  const ns = `ipvsts-bgpl-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'ipvsts-bgpl-'));
  const pids: number[] = [];
  const settings = { routerId: '10.97.0.2', localAs: 65001, neighbors: [{ address: '10.97.0.1', family: 4 as const, remoteAs: 65000, holdS: 9, port: 179, passive: true, pos: { file: 'x', line: 1, col: 1 } }] };
  const command = ['ip', 'netns', 'exec', ns, 'bird'];
  const log: string[] = [];
  const report = (e: BgpEvent) => log.push(describeBgpEvent(e));
  let backend: BirdAnnouncer | undefined;
  try {
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const first = new BirdAnnouncer({ settings, dir: join(dir, 'a'), command, report });
    const { config, socket, pidFile } = first.paths;
    // A daemonized BIRD on our files stands for the child of an ipvs-ts that was killed -9.
    await first.start();
    await first.close();
    execFileSync('ip', ['netns', 'exec', ns, 'bird', '-c', config, '-s', socket, '-P', pidFile]);
    const leftover = Number(readFileSync(pidFile, 'utf8'));
    pids.push(leftover);
    backend = new BirdAnnouncer({ settings, dir: join(dir, 'a'), command, report });
    await backend.start();
    assert.ok(gone(leftover), 'the leftover BIRD is gone');
    assert.notEqual(backend.daemon().pid, leftover);
    pids.push(backend.daemon().pid ?? 0);

    // Another BIRD (its own socket) whose pid happens to be in our pid file is left alone.
    const other = join(dir, 'other');
    execFileSync('ip', ['netns', 'exec', ns, 'bird', '-c', config, '-s', `${other}.ctl`, '-P', `${other}.pid`]);
    const stranger = Number(readFileSync(`${other}.pid`, 'utf8'));
    pids.push(stranger);
    await backend.close();
    writeFileSync(pidFile, `${stranger}\n`);
    backend = new BirdAnnouncer({ settings, dir: join(dir, 'a'), command, report });
    await backend.start();
    assert.ok(!gone(stranger), 'the other BIRD runs');
    // No route to the neighbor in this namespace: BIRD waits in Idle.
    assert.deepEqual((await backend.sessions()).map((s) => [s.neighbor, s.state]), [['10.97.0.1', 'Idle']]);
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

test('BIRD 2 backend: a missing BIRD program fails start with BGP_DAEMON_START', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipvsts-bgpm-'));
  const events: string[] = [];
  const backend = new BirdAnnouncer({ settings: { localAs: 1, neighbors: [] }, dir, command: [join(dir, 'no-bird')], report: (e) => events.push(e.type) });
  try {
    await assert.rejects(backend.start(), { code: 'BGP_DAEMON_START' });
    assert.deepEqual(events, ['bird-error']);
    assert.equal(backend.daemon().running, false);
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
