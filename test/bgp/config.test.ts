// The bgp_announcer block: defaults, both neighbor forms, and every mistake at its file:line:col.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { runCheckConfig } from '../../src/cli/check-config-run.ts';
import { parseConfigText, type Problem } from '../../src/config/index.ts';

const VS = `
virtual_server 192.0.2.10 80 {
  lb_algo mh
  lb_kind DR
}
virtual_server 2001:db8::10 80 {
  lb_algo mh
  lb_kind DR
}
`;
const parse = (text: string) => parseConfigText(text + VS, 'k.conf', { skipHostChecks: true });
const summary = (ps: Problem[]): string[] => ps.filter((p) => !p.message.includes('lb_')).map((p) => `${p.severity} ${p.code} ${p.pos?.line}:${p.pos?.col} ${p.message}`);

test('bgp_announcer: defaults, line and block neighbors', () => {
  const { config, problems } = parse(`bgp_announcer {
  router_id 10.0.0.2
  local_as 4200000001
  neighbor 10.0.0.1 remote_as 65000
  neighbor 2001:db8::1 {
    remote_as 65000 hold 30
    port 1179
    passive
  }
  vip 2001:db8::10 med 7
}`);
  assert.deepEqual(summary(problems), []);
  const b = config?.bgpAnnouncer;
  assert.ok(b);
  assert.deepEqual({ ...b, pos: undefined, neighbors: undefined, vips: undefined }, {
    routerId: '10.0.0.2', localAs: 4200000001, intervalMs: 1000, rise: 3, fall: 1, withdrawHoldMs: 5000, birdDir: '/run/ipvs-ts/bird',
    backend: 'bird', gobgpDir: '/run/ipvs-ts/gobgp', pos: undefined, neighbors: undefined, vips: undefined,
  });
  assert.deepEqual(b.neighbors.map(({ pos: _, ...n }) => n), [
    { address: '10.0.0.1', family: 4, remoteAs: 65000, holdS: 9, port: 179, passive: false },
    { address: '2001:db8::1', family: 6, remoteAs: 65000, holdS: 30, port: 1179, passive: true },
  ]);
  assert.deepEqual(b.vips.map(({ pos: _, ...v }) => v), [{ address: '2001:db8::10', family: 6, med: 7 }]);
});

test('bgp_announcer: mistakes at their positions', () => {
  const { config, problems } = parse(`bgp_announcer {
  router_id 2001:db8::2
  neighbor 10.0.0.1 hold 2 colour blue
  neighbor 10.0.0.1 remote_as 65000 source 2001:db8::2
  vip 192.0.2.99
  vip 192.0.2.10 weight 3
  rise 0
  withdraw_hold forever
  bird_dir run/bird
  fal 2
}
bgp_announcer {
  local_as 1
  neighbor 10.0.0.9 remote_as 2
}`);
  assert.equal(config, undefined);
  assert.deepEqual(summary(problems), [
    'error missing 1:1 bgp_announcer has no local_as line',
    "error bad-value 2:13 router_id: BGP router ids are IPv4 addresses, got '2001:db8::2'",
    'error range 3:26 hold: BGP allows 0 or 3-65535 seconds',
    "error unknown-keyword 3:28 neighbor: unknown option 'colour'; usage: neighbor ADDRESS remote_as N [hold SECONDS] [port N] [source ADDRESS] [multihop TTL] [passive]",
    'error missing 3:3 neighbor 10.0.0.1 has no remote_as; usage: neighbor ADDRESS remote_as N [hold SECONDS] [port N] [source ADDRESS] [multihop TTL] [passive]',
    "error bad-value 4:3 neighbor 10.0.0.1: source 2001:db8::2 is not of the neighbor's address family",
    'error duplicate 4:3 bgp_announcer: neighbor 10.0.0.1 is listed twice',
    'error reference 5:3 bgp_announcer: vip 192.0.2.99 is the address of no virtual_server (fwmark virtual servers are not announced yet)',
    "error unknown-keyword 6:18 vip: unknown option 'weight'; usage: vip ADDRESS [med N]",
    'error range 7:8 rise 0 is out of range 1-1000',
    "error bad-value 8:17 withdraw_hold: 'forever' is not a number of seconds",
    "error bad-value 9:12 bird_dir: 'run/bird' is not an absolute path",
    "error unknown-keyword 10:3 unknown keyword 'fal' in bgp_announcer; did you mean 'fall'?",
    'error duplicate 12:1 bgp_announcer is defined twice (first at k.conf:1:1)',
  ].sort(byLine));
});

test('bgp_announcer: backend gobgp with its directory and gRPC port', () => {
  const { config, problems } = parse(`bgp_announcer {
  backend gobgp
  router_id 10.0.0.2
  local_as 65001
  neighbor 10.0.0.1 remote_as 65000
  neighbor 2001:db8::1 remote_as 65000
  gobgpd_dir /run/lb/gobgp
  grpc_port 50052
}`);
  assert.deepEqual(summary(problems), []);
  const b = config?.bgpAnnouncer;
  assert.deepEqual([b?.backend, b?.gobgpDir, b?.grpcPort, b?.birdDir], ['gobgp', '/run/lb/gobgp', 50052, '/run/ipvs-ts/bird']);
});

test('bgp_announcer: backend gobgp mistakes at their positions', () => {
  const { config, problems } = parse(`bgp_announcer {
  backend gobgp
  local_as 65001
  neighbor 10.0.0.1 remote_as 65000 hold 0
  neighbor 2001:db8::1 remote_as 65000
  gobgpd_dir gobgp
  grpc_port 70000
}
`);
  assert.equal(config, undefined);
  const second = parse(`bgp_announcer {
  backend frr
  local_as 65001
  neighbor 10.0.0.1 remote_as 65000
  neighbor 2001:db8::1 remote_as 65000
}`);
  assert.deepEqual([...summary(problems), ...summary(second.problems)], [
    'error missing 1:1 bgp_announcer: backend gobgp needs a router_id (GoBGP does not pick one)',
    'error bad-value 4:3 neighbor 10.0.0.1: hold 0 is not supported with backend gobgp (GoBGP reads it as 90 s)',
    "error bad-value 6:14 gobgpd_dir: 'gobgp' is not an absolute path",
    'error range 7:13 grpc_port 70000 is out of range 1-65535',
    "error bad-value 2:11 unknown backend 'frr'; expected one of: bird gobgp",
  ]);
});

function byLine(a: string, b: string): number {
  const pos = (s: string) => (s.split(' ')[2] ?? '').split(':').map(Number);
  const [al = 0, ac = 0] = pos(a);
  const [bl = 0, bc = 0] = pos(b);
  return al - bl || ac - bc;
}

test('bgp_announcer: IPv6 VIPs without an IPv6 neighbor are said to go nowhere', () => {
  const { config, problems } = parse(`bgp_announcer {
  local_as 65001
  neighbor 10.0.0.1 remote_as 65000
}`);
  assert.ok(config);
  assert.deepEqual(summary(problems), ['warning missing 1:1 bgp_announcer: IPv6 VIPs are announced only to IPv6 neighbors, and there is none']);
});

test('check-config accepts the block (even --strict) and --json carries it; keepalived -t names every line unknown and exits 5', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ipvsts-bgpconf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'keepalived.conf');
  writeFileSync(file, `bgp_announcer {
    local_as 65001
    neighbor 10.99.0.1 {
        remote_as 65000
        hold 9
    }
    neighbor 2001:db8::1 remote_as 65000
    vip 192.0.2.10 med 20
}
virtual_server 192.0.2.10 80 {
    lb_algo mh
    mh-fallback
    lb_kind DR
    protocol TCP
}
`);
  let text = '';
  const sink = new Writable({ write: (c: Buffer, _e, done) => { text += c.toString(); done(); } });
  assert.equal(runCheckConfig({ file, json: true, strict: true }, sink, sink), 0, text);
  const model = JSON.parse(text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1)) as { bgpAnnouncer: { localAs: number; vips: { med: number }[] } };
  assert.equal(model.bgpAnnouncer.localAs, 65001);
  assert.equal(model.bgpAnnouncer.vips[0]?.med, 20);
  const k = spawnSync('keepalived', ['-t', '-f', file], { encoding: 'utf8' });
  if (k.error) return t.skip('keepalived is not installed');
  assert.equal(k.status, 5, k.stderr);
  for (const [line, word] of [[1, 'bgp_announcer'], [2, 'local_as'], [3, 'neighbor'], [4, 'remote_as'], [5, 'hold'], [7, 'neighbor'], [8, 'vip']] as const) {
    assert.match(k.stderr, new RegExp(`\\(Line ${line}\\) Unknown keyword '${word}'`));
  }
  assert.match(k.stderr, /\(Line 1\) Unexpected '\{' - ignoring/);
});

test('bgp_announcer: announced virtual servers that several directors cannot share are warned (NAT, mh without mh-fallback)', () => {
  const { problems } = parseConfigText(`bgp_announcer {
  local_as 65001
  neighbor 10.0.0.1 remote_as 65000
  vip 192.0.2.10
}
virtual_server 192.0.2.10 80 {
  lb_algo mh
  lb_kind NAT
}
virtual_server 192.0.2.10 443 {
  lb_algo mh
  mh-fallback
  lb_kind DR
}
virtual_server 192.0.2.99 80 {
  lb_algo mh
  lb_kind NAT
}
`, 'k.conf', { skipHostChecks: true });
  const multi = problems.filter((p) => p.code === 'multi-director').map((p) => `${p.pos?.line} ${p.message.slice(0, 40)}`);
  // Only the announced 192.0.2.10:80 is warned, twice; the unannounced 192.0.2.99 is nobody's ECMP business.
  assert.deepEqual(multi, ['6 lb_kind NAT on an announced VIP: with se', '6 lb_algo mh on an announced VIP without m']);
});
