// The service around the policy, with a fake clock and a fake backend: ticks, retries, stop's withdraw hold,
// session status and the targets built from a config.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Announcer, RouteAttrs, SessionState } from '../../src/bgp/announcer.ts';
import { BgpService, bgpTargets, type Clock } from '../../src/bgp/service.ts';
import { parseConfigText } from '../../src/config/index.ts';
import type { DirectorEvent } from '../../src/director/events.ts';

class FakeClock implements Clock {
  t = 0;
  timers: { ms: number; next: number; fn: () => void }[] = [];
  slept: number[] = [];
  now = (): number => this.t;
  every = (ms: number, fn: () => void): (() => void) => {
    const timer = { ms, next: this.t + ms, fn };
    this.timers.push(timer);
    return () => (this.timers = this.timers.filter((x) => x !== timer));
  };
  sleep = async (ms: number): Promise<void> => {
    this.slept.push(ms);
    this.t += ms;
  };
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.next <= end).sort((a, b) => a.next - b.next)[0];
      if (!due) break;
      this.t = due.next;
      due.next += due.ms;
      due.fn();
    }
    this.t = end;
  }
}

class FakeAnnouncer implements Announcer {
  log: string[] = [];
  failNext = 0;
  state: SessionState['state'] = 'Active';
  async start(): Promise<void> {
    this.log.push('start');
  }
  async announce(prefix: string, attrs: RouteAttrs = {}): Promise<void> {
    if (this.failNext-- > 0) throw new Error('refused');
    this.log.push(`announce ${prefix}${attrs.med !== undefined ? ` med ${attrs.med}` : ''}`);
  }
  async withdraw(prefix: string): Promise<void> {
    this.log.push(`withdraw ${prefix}`);
  }
  async sessions(): Promise<readonly SessionState[]> {
    return [{ neighbor: '10.0.0.1', state: this.state }];
  }
  daemon() {
    return { name: 'fake', running: true, restarts: 0 };
  }
  async close(): Promise<void> {
    this.log.push('close');
  }
}

const { config } = parseConfigText(`
bgp_announcer {
  local_as 65001
  neighbor 10.0.0.1 remote_as 65000
  vip 192.0.2.10 med 5
  interval 2
  rise 2
  fall 1
  withdraw_hold 7
}
virtual_server_group web {
  192.0.2.10 443
  192.0.2.20-21 80
}
virtual_server 192.0.2.10 80 {
  lb_algo mh
  lb_kind DR
}
virtual_server group web {
  lb_algo mh
  lb_kind DR
}
`, 'k.conf', { skipHostChecks: true });
assert.ok(config?.bgpAnnouncer);
const settings = config.bgpAnnouncer;

const ev = (e: object): DirectorEvent => ({ at: 0, ...e }) as DirectorEvent;
const flush = () => new Promise((r) => setImmediate(r));

test('targets: each VIP with every virtual server on it, group ranges expanded; without vip lines every address', () => {
  assert.deepEqual([...bgpTargets(config)], [['192.0.2.10/32', ['TCP 192.0.2.10:80', 'group web']]]);
  const all = bgpTargets({ ...config, bgpAnnouncer: { ...settings, vips: [] } });
  assert.deepEqual([...all.keys()], ['192.0.2.10/32', '192.0.2.20/32', '192.0.2.21/32']);
});

test('service: ticks every interval, announces with the MED, retries a refused change, reports sessions', async () => {
  const clock = new FakeClock();
  const backend = new FakeAnnouncer();
  const events: string[] = [];
  const bgp = new BgpService({ settings, targets: bgpTargets(config), announcer: backend, clock, sessionPollMs: 1000, report: (e) => events.push(e.type) });
  await bgp.start();
  bgp.onEvent(ev({ type: 'started', virtualServers: 2, instances: 0 }));
  bgp.onEvent(ev({ type: 'quorum', virtualServer: 'TCP 192.0.2.10:80', up: true, liveWeight: 1 }));
  bgp.onEvent(ev({ type: 'quorum', virtualServer: 'group web', up: true, liveWeight: 1 }));
  backend.failNext = 1;
  clock.advance(4000); // two observations: rise 2 reached at t=4000, and the backend refuses
  await flush();
  assert.deepEqual(backend.log, ['start']);
  assert.deepEqual(bgp.status().vips.map((v) => [v.announced, v.inDaemon]), [[true, false]]);
  clock.advance(2000); // the next tick hands it over again
  await bgp.settled();
  assert.deepEqual(backend.log, ['start', 'announce 192.0.2.10/32 med 5']);
  assert.deepEqual(bgp.status().vips.map((v) => [v.announced, v.inDaemon, v.since]), [[true, true, 4000]]);
  assert.ok(events.includes('bgp-error'));
  await flush();
  assert.deepEqual(bgp.status().sessions.map((s) => [s.state, s.up]), [['Active', false]]);
  backend.state = 'Established';
  clock.advance(1000);
  await flush();
  assert.deepEqual(bgp.status().sessions.map((s) => [s.state, s.up, s.since]), [['Established', true, 7000]]);
  await bgp.stop();
});

test('stop: the director\'s stopping withdraws at once; stop waits withdraw_hold after it, then closes', async () => {
  const clock = new FakeClock();
  const backend = new FakeAnnouncer();
  const bgp = new BgpService({ settings, targets: bgpTargets(config), announcer: backend, clock });
  await bgp.start();
  bgp.onEvent(ev({ type: 'started', virtualServers: 2, instances: 0 }));
  bgp.onEvent(ev({ type: 'quorum', virtualServer: 'TCP 192.0.2.10:80', up: true, liveWeight: 1 }));
  bgp.onEvent(ev({ type: 'quorum', virtualServer: 'group web', up: true, liveWeight: 1 }));
  clock.advance(4000);
  await bgp.settled();
  clock.t = 4500;
  bgp.onEvent(ev({ type: 'stopping' }));
  await bgp.settled();
  assert.deepEqual(backend.log, ['start', 'announce 192.0.2.10/32 med 5', 'withdraw 192.0.2.10/32']);
  clock.t = 5500;
  await bgp.stop();
  assert.deepEqual(clock.slept, [6000]);
  assert.deepEqual(backend.log.slice(-1), ['close']);
  assert.equal(clock.timers.length, 0);
});

test('stop with nothing announced closes at once', async () => {
  const clock = new FakeClock();
  const backend = new FakeAnnouncer();
  const bgp = new BgpService({ settings, targets: bgpTargets(config), announcer: backend, clock });
  await bgp.start();
  await bgp.stop();
  assert.deepEqual(clock.slept, []);
  assert.deepEqual(backend.log, ['start', 'close']);
});

test('reload: a changed MED re-announces, a removed VIP is withdrawn, a new one must rise', async () => {
  const clock = new FakeClock();
  const backend = new FakeAnnouncer();
  const bgp = new BgpService({ settings, targets: bgpTargets(config), announcer: backend, clock });
  await bgp.start();
  bgp.onEvent(ev({ type: 'started', virtualServers: 2, instances: 0 }));
  for (const vs of ['TCP 192.0.2.10:80', 'group web']) bgp.onEvent(ev({ type: 'quorum', virtualServer: vs, up: true, liveWeight: 1 }));
  clock.advance(4000);
  await bgp.settled();
  const next = (vips: object[]) => ({ ...config, bgpAnnouncer: { ...settings, vips } }) as typeof config;
  const pos = { file: 'k.conf', line: 1, col: 1 };
  bgp.reload(next([{ address: '192.0.2.10', family: 4, med: 9, pos }, { address: '192.0.2.20', family: 4, pos }]));
  await bgp.settled();
  assert.deepEqual(backend.log.slice(1), ['announce 192.0.2.10/32 med 5', 'announce 192.0.2.10/32 med 9']);
  assert.deepEqual(bgp.status().vips.map((v) => [v.prefix, v.announced]), [['192.0.2.10/32', true], ['192.0.2.20/32', false]]);
  clock.advance(4000);
  await bgp.settled();
  assert.deepEqual(backend.log.slice(3), ['announce 192.0.2.20/32']);
  bgp.reload(next([{ address: '192.0.2.20', family: 4, pos }]));
  await bgp.settled();
  assert.deepEqual(backend.log.slice(4), ['withdraw 192.0.2.10/32']);
  await bgp.stop();
});
