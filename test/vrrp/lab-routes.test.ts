// virtual_routes / virtual_rules and static_* in the namespace lab, with Debian's keepalived 2.2.7 as the peer:
// the master holds the instance's routes and rules, the backup does not, they move with a failover, and a client
// whose default gateway is the VIP reaches a network behind the route through whichever router is master.
// static_* are there from start whatever the state, survive kill -9 (a restart adopts them) and go at stop; a
// route with the same key that ipvs-ts did not install is left alone.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { haveCommand, instanceConf, Lab, labUnavailable, START_MS, waitFor } from './lab.ts';

const skip = labUnavailable() ?? (haveCommand('keepalived') && haveCommand('ping') ? undefined : 'needs keepalived and ping (Debian packages)');

const ROUTES = [
  '  virtual_routes {',
  '    10.80.0.0/24 via 10.79.0.254 dev eth0',
  '    10.81.0.0/24 via 10.79.0.254 dev eth0 table 100',
  '  }',
  '  virtual_rules {',
  '    to 10.81.0.0/24 table 100 preference 1000',
  '  }',
].join('\n');

/** What a node's kernel holds of the instance's routes and rule, as `ip` prints it. */
function held(lab: Lab, node: string): { main: string; t100: string; rule: string } {
  const ns = lab.ns(node);
  return {
    main: lab.sh(ns, 'ip route show 10.80.0.0/24').trim(),
    // A table that never held a route does not exist: `ip` fails, which is "none".
    t100: lab.sh(ns, 'ip route show table 100 10.81.0.0/24 2>/dev/null || true').trim(),
    rule: lab.sh(ns, 'ip rule show pref 1000').trim(),
  };
}

function holds(lab: Lab, node: string): boolean {
  const h = held(lab, node);
  return h.main !== '' && h.t100 !== '' && h.rule !== '';
}

function holdsNone(lab: Lab, node: string): boolean {
  const h = held(lab, node);
  return h.main === '' && h.t100 === '' && h.rule === '';
}

/** The client reaches 10.80.0.1 and 10.81.0.1 (behind the routes) through its gateway, the VIP. */
function clientReaches(lab: Lab): boolean {
  const ping = (dst: string) => spawnSync('ip', ['netns', 'exec', lab.ns('c'), 'ping', '-n', '-c', '1', '-W', '1', dst], { encoding: 'utf8' }).status === 0;
  return ping('10.80.0.1') && ping('10.81.0.1');
}

async function until(lab: Lab, what: string, cond: () => boolean): Promise<void> {
  await waitFor(what, cond, START_MS, 50).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails()}`);
  });
}

test('virtual routes and rules follow the master between ipvs-ts and keepalived; the client reaches the network behind them', { skip }, async (t: TestContext) => {
  const lab = new Lab('rt');
  t.after(() => lab.cleanup());
  lab.setup({ k: ['10.79.0.1/24'], i: ['10.79.0.2/24'], c: ['10.79.0.10/24'], g: ['10.79.0.254/24'] });
  for (const n of ['k', 'i']) lab.sh(lab.ns(n), 'sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0');
  // The networks behind the routes live on g; the client's only way there is its gateway, the VIP.
  lab.sh(lab.ns('g'), 'ip addr add 10.80.0.1/32 dev lo && ip addr add 10.81.0.1/32 dev lo');
  lab.sh(lab.ns('c'), 'ip route add default via 10.79.0.100');
  const conf = (priority: number) => instanceConf({ vrid: 79, priority, version: 3, advert: 0.1, vips: ['10.79.0.100/24'], extra: ROUTES });

  const ipvs = lab.ipvsTs('i', conf(150));
  await until(lab, 'ipvs-ts master with its routes', () => lab.entered(ipvs, 'MASTER') > 0 && holds(lab, 'i'));
  const ka = lab.keepalived('k', conf(100));
  await until(lab, 'keepalived backup', () => lab.entered(ka, 'BACKUP') > 0);
  assert.ok(holdsNone(lab, 'k'), 'the keepalived backup has none of the routes');
  const mine = held(lab, 'i');
  assert.match(mine.main, /^10\.80\.0\.0\/24 via 10\.79\.0\.254 dev eth0 proto keepalived/);
  assert.match(mine.t100, /^10\.81\.0\.0\/24 via 10\.79\.0\.254 dev eth0 proto keepalived/);
  assert.match(mine.rule, /^1000:\s+from all to 10\.81\.0\.0\/24 lookup 100 proto keepalived/);
  await until(lab, 'the client reaching through ipvs-ts', () => clientReaches(lab));

  // A graceful stop hands over: ipvs-ts removes its routes and rule, keepalived adds the same ones.
  await lab.stop(ipvs);
  assert.ok(holdsNone(lab, 'i'), `ipvs-ts removed its routes at stop: ${JSON.stringify(held(lab, 'i'))}`);
  await until(lab, 'keepalived master with the routes', () => lab.entered(ka, 'MASTER') > 0 && holds(lab, 'k'));
  assert.deepEqual(held(lab, 'k'), mine, 'keepalived installs the same routes and rule (protocol included)');
  await until(lab, 'the client reaching through keepalived', () => clientReaches(lab));

  // ipvs-ts comes back at a higher priority and preempts: the routes move back.
  const again = lab.ipvsTs('i', conf(150), 'ipvs-ts-i-again');
  await until(lab, 'ipvs-ts master again with the routes', () => lab.entered(again, 'MASTER') > 0 && holds(lab, 'i') && holdsNone(lab, 'k'));
  await until(lab, 'the client reaching through ipvs-ts again', () => clientReaches(lab));
  await lab.stop(again);
  await lab.stop(ka);
});

test('static_ipaddress/routes/rules: there from start as BACKUP, adopted after kill -9, gone at stop; a foreign route is left alone', { skip }, async (t: TestContext) => {
  const lab = new Lab('st');
  t.after(() => lab.cleanup());
  lab.setup({ i: ['10.79.0.2/24', 'fd79::2/64'] });
  const ns = lab.ns('i');
  // Someone else's route with the key of one of ours.
  lab.sh(ns, 'ip route add 10.84.0.0/24 via 10.79.0.254 proto static');
  const statics = [
    'static_ipaddress {', '  10.79.1.2/24 dev eth0', '}',
    'static_routes {', '  10.83.0.0/24 via 10.79.0.254 dev eth0', '  10.84.0.0/24 via 10.79.0.254 dev eth0', '  fd80::/64 via fd79::254 dev eth0', '  10.87.0.0/24 via 192.0.2.1', '}',
    'static_rules {', '  from 10.79.1.0/24 table 200 preference 2000', '}', '',
  ].join('\n');
  // No peer: the instance becomes master only after its master-down interval (3 s and more); the statics are in before.
  const conf = statics + instanceConf({ vrid: 80, priority: 100, version: 3, advert: 1, vips: ['10.79.0.100/24'] });
  const state = () => ({
    addr: lab.addresses('i').includes('10.79.1.2'),
    route: lab.sh(ns, 'ip route show 10.83.0.0/24').trim(),
    route6: lab.sh(ns, 'ip -6 route show fd80::/64').trim(),
    rule: lab.sh(ns, 'ip rule show pref 2000').trim(),
    foreign: lab.sh(ns, 'ip route show 10.84.0.0/24').trim(),
  });
  const present = () => {
    const s = state();
    return s.addr && s.route !== '' && s.route6 !== '' && s.rule !== '';
  };

  const first = lab.ipvsTs('i', conf, 'ipvs-ts-1');
  await until(lab, 'statics installed', present);
  assert.equal(lab.entered(first, 'MASTER'), 0, 'installed before the instance became master');
  assert.match(state().route, /proto keepalived/);
  assert.match(state().foreign, /proto static/);
  await until(lab, 'the foreign route reported', () => /10\.84\.0\.0\/24.*did not install.*left alone/.test(lab.readLog(first)));
  // A kernel refusal names the route, its line, the request and the errno.
  await until(lab, 'the unreachable gateway reported', () => /cannot add route 10\.87\.0\.0\/24 via 192\.0\.2\.1 \(\S+ipvs-ts-1\.conf:\d+\): RTM_NEWROUTE failed: .*\(ENETUNREACH\)/.test(lab.readLog(first)));

  first.child.kill('SIGKILL');
  await first.exited;
  assert.ok(present(), 'kill -9 leaves the statics in place');
  const second = lab.ipvsTs('i', conf, 'ipvs-ts-2');
  await until(lab, 'the restart adopting the routes', () => /adopted route 10\.83\.0\.0\/24/.test(lab.readLog(second)) && /adopted route fd80::\/64/.test(lab.readLog(second)));
  assert.ok(present());
  assert.doesNotMatch(lab.readLog(second), /cannot add (address|route 10\.83|rule)/);

  // A reload changes only what changed: one route added, the foreign one's line removed; nothing else moves.
  const monitor = lab.start('i', ['ip', 'monitor', 'route', 'rule', 'address'], 'monitor');
  // A marker change of our own, repeated until the monitor reports it, shows that it is listening.
  await until(lab, 'ip monitor listening', () => {
    lab.sh(ns, 'ip route replace 10.86.0.0/24 via 10.79.0.254 proto static');
    return lab.readLog(monitor).includes('10.86.0.0/24');
  });
  lab.reload(second, 'ipvs-ts-2', conf.replace('  10.84.0.0/24 via 10.79.0.254 dev eth0', '  10.85.0.0/24 via 10.79.0.254 dev eth0'));
  await until(lab, 'the reload adding 10.85.0.0/24', () => lab.sh(ns, 'ip route show 10.85.0.0/24').trim() !== '');
  await until(lab, 'ip monitor seeing it', () => lab.readLog(monitor).includes('10.85.0.0/24'));
  await lab.stop(monitor);
  const seen = lab.readLog(monitor);
  assert.doesNotMatch(seen, /10\.83\.0\.0|2000:|10\.79\.1\.2|10\.84\.0\.0|fd80::/, `the reload touched only the new route:\n${seen}`);

  await lab.stop(second);
  const after = state();
  assert.deepEqual({ ...after, foreign: after.foreign !== '' }, { addr: false, route: '', route6: '', rule: '', foreign: true }, 'statics removed at stop, the foreign route kept');
});
