// The pace of gratuitous ARPs / NAs per interface (keepalived's garp_delay), on a fake clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GarpPacer, type Announcement, type PacerClock } from '../../src/vrrp/garp-pacer.ts';
import type { GarpGroup } from '../../src/config/model.ts';

/** Timers fire only when the test advances the clock. */
class FakeClock implements PacerClock {
  t = 0;
  #timers: { at: number; fn: () => void }[] = [];
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const h = { at: this.t + ms, fn };
    this.#timers.push(h);
    return h;
  }
  clearTimeout(h: unknown): void {
    this.#timers = this.#timers.filter((x) => x !== h);
  }
  advance(to: number): void {
    for (;;) {
      const due = this.#timers.filter((x) => x.at <= to).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.#timers = this.#timers.filter((x) => x !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = to;
  }
  get pending(): number {
    return this.#timers.length;
  }
}

const group = (g: Partial<GarpGroup> & { interfaces: string[] }): GarpGroup => ({ pos: { file: 'k.conf', line: 1, col: 1 }, ...g });
const NO_GLOBALS = { garpIntervalMs: 0, gnaIntervalMs: 0 };

function setup(groups: GarpGroup[], globals = NO_GLOBALS) {
  const clock = new FakeClock();
  const pacer = new GarpPacer(clock);
  pacer.configure(groups, globals);
  const sent: { t: number; ifname: string; address: string }[] = [];
  const owners = new Map<string, object>();
  const live = new Set<object>();
  const announce = (owner: string, ifname: string, address: string) => {
    let o = owners.get(owner);
    if (o === undefined) owners.set(owner, (o = {}));
    live.add(o);
    const a: Announcement = { ifname, family: address.includes(':') ? 6 : 4, owner: o, address, live: () => live.has(o), send: () => sent.push({ t: clock.t, ifname, address }) };
    pacer.announce(a);
  };
  const leave = (owner: string) => live.delete(owners.get(owner)!);
  return { clock, pacer, sent, announce, leave };
}

test('no pace: every announcement leaves at once, repeats included (keepalived sends the burst back to back)', () => {
  const { sent, announce } = setup([]);
  for (let i = 0; i < 3; i++) for (const a of ['10.0.0.1', '10.0.0.2']) announce('vi1', 'eth0', a);
  assert.equal(sent.length, 6);
  assert.ok(sent.every((s) => s.t === 0));
});

test('garp_group on one interface: three instances taking over together are spaced by garp_interval', () => {
  const { clock, sent, announce } = setup([group({ garpIntervalMs: 100, interfaces: ['eth0'] })]);
  for (const vi of ['vi1', 'vi2', 'vi3']) for (let i = 0; i < 5; i++) announce(vi, 'eth0', `10.0.0.${vi.at(-1)}`);
  announce('vi4', 'eth1', '10.1.0.1'); // not in the group: not paced
  clock.advance(10_000);
  const eth0 = sent.filter((s) => s.ifname === 'eth0');
  // The repeats fold into the pending packet of each address, as in keepalived: 1 now + 1 per address queued.
  assert.deepEqual(eth0.map((s) => [s.t, s.address]), [
    [0, '10.0.0.1'],
    [100, '10.0.0.1'],
    [200, '10.0.0.2'],
    [300, '10.0.0.3'],
  ]);
  assert.deepEqual(sent.filter((s) => s.ifname === 'eth1').map((s) => s.t), [0]);
});

test('interfaces { … }: the group shares one pace; ARPs and NAs are paced apart', () => {
  const { clock, sent, announce } = setup([group({ garpIntervalMs: 50, gnaIntervalMs: 200, interfaces: ['eth0', 'eth1'] })]);
  announce('vi1', 'eth0', '10.0.0.1');
  announce('vi2', 'eth1', '10.1.0.1');
  announce('vi3', 'eth0', 'fd00::1');
  announce('vi4', 'eth1', 'fd00::2');
  clock.advance(1000);
  assert.deepEqual(sent.map((s) => `${s.t} ${s.ifname} ${s.address}`), ['0 eth0 10.0.0.1', '0 eth0 fd00::1', '50 eth1 10.1.0.1', '200 eth1 fd00::2']);
});

test('globals pace each interface outside a group on its own; a group without garp_interval leaves ARPs unpaced', () => {
  const { clock, sent, announce } = setup([group({ gnaIntervalMs: 500, interfaces: ['eth2'] })], { garpIntervalMs: 30, gnaIntervalMs: 0 });
  for (const ifname of ['eth0', 'eth1', 'eth2']) for (const vi of ['a', 'b']) announce(`${vi}${ifname}`, ifname, `10.0.0.${vi === 'a' ? 1 : 2}`);
  clock.advance(1000);
  assert.deepEqual(sent.map((s) => `${s.t} ${s.ifname}`), ['0 eth0', '0 eth1', '0 eth2', '0 eth2', '30 eth0', '30 eth1']);
});

test('a queued announcement of an instance that left MASTER is dropped and takes no slot', () => {
  const { clock, sent, announce, leave } = setup([group({ garpIntervalMs: 100, interfaces: ['eth0'] })]);
  announce('vi1', 'eth0', '10.0.0.1');
  announce('vi2', 'eth0', '10.0.0.2');
  announce('vi3', 'eth0', '10.0.0.3');
  leave('vi2');
  clock.advance(1000);
  assert.deepEqual(sent.map((s) => `${s.t} ${s.address}`), ['0 10.0.0.1', '100 10.0.0.3']);
});

test('the pace counts from the last packet sent: a lone announcement after a quiet spell leaves at once', () => {
  const { clock, sent, announce } = setup([group({ garpIntervalMs: 100, interfaces: ['eth0'] })]);
  announce('vi1', 'eth0', '10.0.0.1');
  clock.advance(40);
  announce('vi2', 'eth0', '10.0.0.2');
  clock.advance(500);
  announce('vi3', 'eth0', '10.0.0.3');
  assert.deepEqual(sent.map((s) => s.t), [0, 100, 500]);
});

test('a reload keeps what waits and the time of the last packet; new intervals apply to the rest', () => {
  const { clock, pacer, sent, announce } = setup([group({ garpIntervalMs: 100, interfaces: ['eth0'] })]);
  for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) announce(a, 'eth0', a);
  clock.advance(10);
  pacer.configure([group({ garpIntervalMs: 300, interfaces: ['eth0'] })], NO_GLOBALS);
  clock.advance(2000);
  assert.deepEqual(sent.map((s) => s.t), [0, 100, 400]);
  pacer.configure([], NO_GLOBALS);
  announce('x', 'eth0', '10.0.0.9');
  announce('y', 'eth0', '10.0.0.8');
  assert.deepEqual(sent.map((s) => s.t).slice(3), [2000, 2000]);
});

test('close drops what waits and leaves no timer', () => {
  const { clock, pacer, sent, announce } = setup([group({ garpIntervalMs: 100, interfaces: ['eth0'] })]);
  announce('a', 'eth0', '10.0.0.1');
  announce('b', 'eth0', '10.0.0.2');
  pacer.close();
  assert.equal(clock.pending, 0);
  clock.advance(1000);
  assert.equal(sent.length, 1);
});
