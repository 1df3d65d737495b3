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

const nsR = `ipvsts-bgpr-${process.pid}`;
const nsD = `ipvsts-bgpd-${process.pid}`;
const VS = 'TCP 192.0.2.10:80';
const VS6 = 'TCP [2001:db8:10::10]:80';

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for ip netns';
  if (spawnSync('bird', ['--version']).error) return 'needs BIRD 2 (apt-get install bird2)';
  return undefined;
}

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Dead or a zombie (this container's init may not reap the daemonized BIRDs' orphans). */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

const routerHasVip = (): boolean => execFileSync('ip', ['-n', nsR, 'route', 'show', '192.0.2.10'], { encoding: 'utf8' }).includes('via 10.98.0.2');
const routerHasVip6 = (): boolean => execFileSync('ip', ['-n', nsR, '-6', 'route', 'show', '2001:db8:10::10'], { encoding: 'utf8' }).includes('via fd98::2');

test('BIRD 2 backend: the router learns the VIP when announced and loses it on withdrawal, BIRD death and stop', { skip: unavailable() }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipvsts-bgp-'));
  const routerPid = join(dir, 'router.pid');
  const events: BgpEvent[] = [];
  const eventAt = new Map<BgpEvent, number>();
  let service: ReturnType<typeof createBgpService>;
  try {
    const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
    ip('netns', 'add', nsR);
    ip('netns', 'add', nsD);
    ip('link', 'add', 'bgp0', 'netns', nsR, 'type', 'veth', 'peer', 'name', 'bgp1', 'netns', nsD);
    ip('-n', nsR, 'addr', 'add', '10.98.0.1/24', 'dev', 'bgp0');
    ip('-n', nsD, 'addr', 'add', '10.98.0.2/24', 'dev', 'bgp1');
    ip('-n', nsR, 'addr', 'add', 'fd98::1/64', 'dev', 'bgp0', 'nodad');
    ip('-n', nsD, 'addr', 'add', 'fd98::2/64', 'dev', 'bgp1', 'nodad');
    for (const [ns, dev] of [[nsR, 'bgp0'], [nsD, 'bgp1']] as const) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'set', dev, 'up');
    }
    writeFileSync(join(dir, 'router.conf'), `router id 10.98.0.1;
protocol device {}
protocol kernel { ipv4 { import none; export all; }; }
protocol kernel { ipv6 { import none; export all; }; }
protocol bgp director { local 10.98.0.1 as 65000; neighbor 10.98.0.2 as 65001; hold time 9; connect retry time 1; error wait time 1, 5; ipv4 { import all; export none; }; }
protocol bgp director6 { local fd98::1 as 65000; neighbor fd98::2 as 65001; hold time 9; connect retry time 1; error wait time 1, 5; ipv6 { import all; export none; }; }
`);
    ip('netns', 'exec', nsR, 'bird', '-c', join(dir, 'router.conf'), '-s', join(dir, 'router.ctl'), '-P', routerPid);

    const text = `
bgp_announcer {
  router_id 10.98.0.2
  local_as 65001
  neighbor 10.98.0.1 remote_as 65000 hold 9
  neighbor fd98::1 remote_as 65000 hold 9
  vip 192.0.2.10 med 20
  vip 2001:db8:10::10
  interval 0.1
  rise 2
  fall 1
  withdraw_hold 0.5
  bird_dir ${join(dir, 'director')}
}
virtual_server 192.0.2.10 80 {
  lb_algo mh
  lb_kind DR
  protocol TCP
  real_server 10.98.1.1 80 {
    TCP_CHECK {
    }
  }
}
virtual_server 2001:db8:10::10 80 {
  lb_algo mh
  lb_kind DR
  protocol TCP
}
`;
    const { config, problems } = parseConfigText(text, 'bgp.conf', { skipHostChecks: true });
    assert.ok(config, problems.map((p) => p.message).join('\n'));
    service = createBgpService(config, { birdCommand: ['ip', 'netns', 'exec', nsD, 'bird'], report: (e) => eventAt.set(e, performance.now()) && events.push(e), sessionPollMs: 100 });
    assert.ok(service, 'a service for the block');
    const bgp = service;
    await bgp.start();
    const session = () => bgp.status().sessions[0];
    await until('both sessions to come up', () => bgp.status().sessions.every((x) => x.state === 'Established'));
    assert.deepEqual(bgp.status().sessions.map((x) => [x.neighbor, x.up]), [['10.98.0.1', true], ['fd98::1', true]]);
    assert.equal(routerHasVip() || routerHasVip6(), false, 'nothing is announced before the director says so');

    const at = (type: string, extra: object = {}) => ({ type, at: Date.now(), ...extra }) as Parameters<typeof bgp.onEvent>[0];
    bgp.onEvent(at('started', { virtualServers: 2, instances: 0 }));
    bgp.onEvent(at('quorum', { virtualServer: VS6, up: true, liveWeight: 1 }));
    await until('the router to learn the IPv6 VIP', routerHasVip6);
    assert.equal(routerHasVip(), false, 'the IPv4 VIP has no quorum yet');
    let t0 = performance.now();
    bgp.onEvent(at('quorum', { virtualServer: VS, up: true, liveWeight: 1 }));
    await until('the router to learn the VIP', routerHasVip);
    const announceMs = performance.now() - t0;
    const learned = execFileSync('birdc', ['-s', join(dir, 'router.ctl'), 'show', 'route', 'all', '192.0.2.10/32'], { encoding: 'utf8' });
    assert.match(learned, /BGP\.med: 20/);
    assert.match(learned, /BGP\.as_path: 65001/);
    assert.equal(bgp.status().vips[0]?.announced, true);

    t0 = performance.now();
    bgp.onEvent(at('quorum', { virtualServer: VS, up: false, liveWeight: 0 }));
    await until('the router to lose the VIP', () => !routerHasVip());
    const withdrawMs = performance.now() - t0;
    const withdrawn = events.findLast((e) => e.type === 'bgp-route' && !e.announced);
    const withdrawCommandMs = (eventAt.get(withdrawn as BgpEvent) ?? NaN) - t0;
    assert.equal(bgp.status().vips[0]?.announced, false);
    assert.equal(routerHasVip6(), true, 'the other VIP stays');
    assert.match(bgp.status().vips[0]?.reason ?? '', /no quorum: TCP 192.0.2.10:80/);

    bgp.onEvent(at('quorum', { virtualServer: VS, up: true, liveWeight: 1 }));
    await until('the router to learn the VIP again', routerHasVip);

    // BIRD killed behind ipvs-ts's back: noticed, the session reads Down, BIRD is restarted with the VIP announced.
    const pid = bgp.status().daemon.pid;
    assert.ok(pid, 'BIRD runs');
    process.kill(pid, 'SIGKILL');
    await until('the dead BIRD to be noticed', () => events.some((e) => e.type === 'bird-exited'));
    await bgp.pollSessions();
    assert.equal(session()?.state, 'Down');
    t0 = performance.now();
    await until('BIRD to be restarted and the VIPs back at the router', () => bgp.status().daemon.running && bgp.status().daemon.pid !== pid && routerHasVip() && routerHasVip6());
    const restartMs = performance.now() - t0;
    assert.equal(bgp.status().daemon.restarts, 1);
    await until('both sessions to come up again', () => bgp.status().sessions.every((x) => x.state === 'Established'));

    // A reload that changes the MED re-reads BIRD's configuration; the sessions stay up.
    const before = events.length;
    const edited = parseConfigText(text.replace('med 20', 'med 30'), 'bgp.conf', { skipHostChecks: true }).config;
    assert.ok(edited, 'the edited config is valid');
    bgp.reload(edited);
    const routerMed = () => execFileSync('birdc', ['-s', join(dir, 'router.ctl'), 'show', 'route', 'all', '192.0.2.10/32'], { encoding: 'utf8' }).match(/BGP\.med: (\d+)/)?.[1];
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
    assert.equal(routerHasVip() || routerHasVip6(), false);
    assert.ok(stopMs >= 500, `stop waited withdraw_hold: ${stopMs} ms`);
    assert.ok(gone(birdPid), 'BIRD has exited');
    service = undefined;
    console.log(`announce ${announceMs.toFixed(0)} ms (rise 2 x 0.1 s), withdraw ${withdrawMs.toFixed(0)} ms (fall 1 x 0.1 s; BIRD had disabled the route after ${withdrawCommandMs.toFixed(0)} ms), BIRD killed -> VIP back ${restartMs.toFixed(0)} ms, stop ${stopMs.toFixed(0)} ms (hold 0.5 s)`);
    console.log(events.map(describeBgpEvent).join('\n'));
  } finally {
    await service?.stop().catch(() => undefined);
    try {
      process.kill(Number(readFileSync(routerPid, 'utf8').trim()), 'SIGTERM');
    } catch {
      // Not started.
    }
    spawnSync('ip', ['netns', 'del', nsR]);
    spawnSync('ip', ['netns', 'del', nsD]);
    rmSync(dir, { recursive: true, force: true });
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
