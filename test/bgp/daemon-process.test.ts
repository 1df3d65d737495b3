// The supervisor both BGP backends run their daemon with, on a real child process (sleep) standing in for the
// daemon: an exit on its own is reported and restarted after the back-off, a stop is not.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { DaemonSupervisor, RestartBackoff, type SupervisorHooks } from '../../src/bgp/daemon-process.ts';

type Exit = Parameters<SupervisorHooks['exited']>[0];

test('supervisor: a daemon killed behind its back is reported and started again after the back-off; close stops it for good', async () => {
  const exits: Exit[] = [];
  const errors: string[] = [];
  let lost = 0;
  let launched: () => void = () => {};
  let exited: () => void = () => {};
  const sup: DaemonSupervisor = new DaemonSupervisor({
    launch: async () => {
      const { child } = sup.spawn('sleep', ['60'], 'ignore');
      await once(child, 'spawn');
      launched();
    },
    lost: () => lost++,
    exited: (e) => {
      exits.push(e);
      exited();
    },
    error: (m) => errors.push(m),
  });
  await sup.start();
  const first = sup.child?.pid ?? 0;
  assert.ok(first > 0);

  const noticed = new Promise<void>((r) => (exited = r));
  const again = new Promise<void>((r) => (launched = r));
  const t0 = performance.now();
  process.kill(first, 'SIGKILL');
  await noticed;
  assert.deepEqual(exits, [{ pid: first, code: null, signal: 'SIGKILL', restartInMs: RestartBackoff.FIRST_MS }]);
  assert.equal(lost, 1);
  await again;
  assert.ok(performance.now() - t0 >= RestartBackoff.FIRST_MS - 50, 'restarted after the back-off');
  assert.equal(sup.restarts, 1);
  const second = sup.child;
  assert.notEqual(second?.pid, first);

  // Changes run one at a time behind the restarts; close waits for them, then SIGTERMs the daemon.
  const order: string[] = [];
  const change = sup.run(async () => {
    await new Promise((r) => setTimeout(r, 50));
    order.push('change');
  });
  await sup.close();
  order.push('closed');
  await change;
  assert.deepEqual(order, ['change', 'closed']);
  assert.equal(second?.signalCode, 'SIGTERM');
  assert.equal(exits.length, 1, 'a stop is not reported as an exit, nor restarted');
  assert.deepEqual(errors, []);
});

test('supervisor: a program that cannot be run is reported, and start() fails as the launch does', async () => {
  const errors: string[] = [];
  const sup: DaemonSupervisor = new DaemonSupervisor({
    launch: async () => {
      const { exited } = sup.spawn('/nonexistent/bgpd', [], 'ignore');
      while (!exited()) await new Promise((r) => setTimeout(r, 10));
      throw new Error('it exited');
    },
    lost: () => {},
    exited: () => assert.fail('no exit to restart after'),
    error: (m) => errors.push(m),
  });
  await assert.rejects(sup.start(), /it exited/);
  assert.match(errors.join('\n'), /^cannot run \/nonexistent\/bgpd: spawn \/nonexistent\/bgpd ENOENT$/);
  await sup.close();
});
