// Runs INSIDE the test VM; started by test/kernel/ecmp.vmtest.ts. Issue 16's multi-director lab: a router namespace
// runs BIRD 2 with ECMP (`merge paths`, L4 multipath hash), three director namespaces each run `ipvs-ts daemon` whose
// bgp_announcer starts its own BIRD and peers with the router, two DR real servers run a perl server that greets with
// its name and then echoes, and a client behind the router makes 300 short connections (spread) and keeps 30
// long-lived ones sending a line every 100 ms while directors fail, recover, leave (SIGTERM, then kill -9) and join.
// Twice in one lab: `mh` (mh-port, mh-fallback) with sloppy TCP, then, after a reload of every director, an `rr`
// control without it. Every figure goes out as a diagnostic; docs/benchmarks.md has them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CLI, haveCommand, Lab, sleep, waitFor, type Proc } from '../../vrrp/lab.ts';

const VIP = '10.72.0.100';
const ROUTER = '10.70.0.1';
const CLIENT_GW = '10.71.0.1';
const CLIENT = '10.71.0.2';
const DIRECTORS = { d1: '10.70.0.11', d2: '10.70.0.12', d3: '10.70.0.13' } as const;
const REAL = { s1: '10.70.0.21', s2: '10.70.0.22' } as const;
type Dir = keyof typeof DIRECTORS;
const SHORT_FLOWS = 300;
const LONG_FLOWS = 30;
/** A node start under TCG on a loaded host takes up to minutes (several at once share one emulated core). */
const START_S = 900;
/** Quiet time after each event, so that flows moved by it have shown whether they survive. */
const SETTLE_MS = 3000;

// One process per server: greets every connection with its name, then echoes what arrives (IO::Select, no fork).
const SERVER = `use IO::Socket::INET; use IO::Select; $SIG{PIPE} = 'IGNORE';
my $l = IO::Socket::INET->new(LocalPort => 80, Listen => 512, ReuseAddr => 1) or die "listen: $!";
my $sel = IO::Select->new($l);
while (1) { for my $h ($sel->can_read) {
  if ($h == $l) { my $c = $l->accept or next; syswrite($c, "$ARGV[0]\\n"); $sel->add($c); next }
  my $n = sysread($h, my $d, 4096);
  if (!$n) { $sel->remove($h); close $h; next }
  syswrite($h, $d);
} }`;

// n sequential short connections (distinct source ports): one greeting per line.
const SHORT = `use IO::Socket::INET; $| = 1; for (1 .. $ARGV[1]) {
  my $c = IO::Socket::INET->new(PeerAddr => $ARGV[0], PeerPort => 80, Timeout => 5);
  if (!$c) { print "FAILED\\n"; next } my $l = <$c>; print defined $l ? $l : "FAILED\\n"; close $c }`;

// n long-lived connections; every 100 ms each sends a numbered line and counts the echoes, until the stop file
// exists. A connection ends at a reset, an EOF or 30 s without an echo (the VM can be very slow); one line per connection at the end:
// index, greeting, lines sent, echoed, epoch seconds it ended (0: still up), why.
const LONG = `use IO::Socket::INET; use IO::Select; use Time::HiRes qw(time); $SIG{PIPE} = 'IGNORE'; $| = 1;
my ($vip, $n, $stop) = @ARGV; my (@c, %by); my $sel = IO::Select->new;
for my $i (0 .. $n - 1) {
  my $s = IO::Socket::INET->new(PeerAddr => $vip, PeerPort => 80, Timeout => 5);
  if (!$s) { push @c, { rs => '-', sent => 0, got => 0, t => time, why => 'connect failed' }; next }
  my $g = <$s>; chomp $g if defined $g;
  my $c = { s => $s, rs => $g // '-', sent => 0, got => 0, t => 0, why => 'up' };
  push @c, $c; $by{fileno $s} = $c; $sel->add($s);
}
print "connected\\n";
sub broke { my ($c, $why) = @_; return if $c->{t}; $c->{t} = time; $c->{why} = $why; $sel->remove($c->{s}); close $c->{s} }
my $next = time;
until (-e $stop) {
  if (time >= $next) {
    for my $c (grep { !$_->{t} } @c) { $c->{sent}++; defined syswrite($c->{s}, "$c->{sent}\\n") or broke($c, "write: $!") }
    $next += 0.1;
  }
  my $wait = $next - time; $wait = 0 if $wait < 0;
  for my $h ($sel->can_read($wait)) {
    my $c = $by{fileno $h}; my $r = sysread($h, my $d, 65536);
    if (!defined $r) { broke($c, "read: $!"); next } if ($r == 0) { broke($c, 'eof'); next }
    $c->{got} += ($d =~ tr/\\n//);
  }
  for my $c (grep { !$_->{t} } @c) { broke($c, 'no echo for 30 s') if $c->{sent} - $c->{got} > 300 }
}
printf "%d\\t%s\\t%d\\t%d\\t%.3f\\t%s\\n", $_, $c[$_]{rs}, $c[$_]{sent}, $c[$_]{got}, $c[$_]{t}, $c[$_]{why} for 0 .. $#c;`;

const ROUTER_BIRD = `router id ${ROUTER};
protocol device {}
# merge paths: BGP routes that tie (same AS path length, MED, origin) become one multipath route in the kernel.
protocol kernel { ipv4 { import none; export all; }; merge paths on; }
template bgp director { local ${ROUTER} as 65000; hold time 30; connect retry time 1; error wait time 1, 5; ipv4 { import all; export none; }; }
${Object.entries(DIRECTORS).map(([d, ip]) => `protocol bgp ${d} from director { neighbor ${ip} as 65001; }`).join('\n')}
`;

interface Scenario {
  readonly name: 'mh' | 'rr';
  /** The virtual server's scheduler lines. */
  readonly sched: string;
  /** net.ipv4.vs sysctls set in each director namespace before its daemon starts. */
  readonly sysctls: string;
}

const SCENARIOS: readonly Scenario[] = [
  { name: 'mh', sched: 'lb_algo mh\n  mh-port\n  mh-fallback', sysctls: 'net.ipv4.vs.sloppy_tcp=1 net.ipv4.vs.expire_nodest_conn=1 net.ipv4.vs.conntrack=0' },
  { name: 'rr', sched: 'lb_algo rr', sysctls: 'net.ipv4.vs.sloppy_tcp=0 net.ipv4.vs.expire_nodest_conn=1 net.ipv4.vs.conntrack=0' },
];

function directorConf(lab: Lab, d: Dir, s: Scenario): string {
  // The real servers are listed in a different order on d2: mh's canonical order must make the tables equal anyway.
  const order = d === 'd2' ? (['s2', 's1'] as const) : (['s1', 's2'] as const);
  const rs = order.map((r) => `  real_server ${REAL[r]} 80 {\n    weight 1\n    TCP_CHECK {\n      connect_timeout 1\n      retry 0\n    }\n  }`).join('\n');
  return `virtual_server ${VIP} 80 {
  delay_loop 1
  ${s.sched}
  lb_kind DR
  protocol TCP
${rs}
}
bgp_announcer {
  router_id ${DIRECTORS[d]}
  local_as 65001
  neighbor ${ROUTER} remote_as 65000 hold 30
  vip ${VIP}
  interval 0.2
  rise 2
  fall 1
  withdraw_hold 1
  bird_dir ${join(lab.dir, `${d}.bird`)}
}
`;
}

/** Runs a shell script in the VM's root namespace. */
function sh(script: string): string {
  return execFileSync('sh', ['-c', script], { encoding: 'utf8' });
}

const DIRS = Object.keys(DIRECTORS) as Dir[];
const lab = new Lab('ec');
const daemons = new Map<Dir, Proc>();
const files = { server: '', short: '', long: '' };
let starts = 0;

/** The router's next hops for the VIP. */
function hops(): string[] {
  return [...sh(`ip -n ${lab.ns('r')} route show ${VIP}`).matchAll(/via (\S+)/g)].map((m) => m[1]!).sort();
}

/**
 * Runs `event` (shell, root namespace), then polls the router's route every `everyS` until it has `n` next hops;
 * returns the epoch ms when the event's command returned and when the route had changed. One shell loop, not a
 * spawn per poll from node (forking node is slow under TCG).
 */
function eventUntilHops(event: string, n: number, timeoutS: number, everyS = 0.02): { at: number; routed: number } {
  const out = sh(`${event}
t0=$(date +%s%3N); end=$(( $(date +%s) + ${timeoutS} ))
until [ "$(ip -n ${lab.ns('r')} route show ${VIP} | grep -c via)" = ${n} ]; do [ $(date +%s) -lt $end ] || { echo "timeout $t0"; exit 0; }; sleep ${everyS}; done
echo "$t0 $(date +%s%3N)"`).trim().split(/\s+/);
  if (out[0] === 'timeout') throw new Error(`the router did not get ${n} next hop(s) within ${timeoutS} s (has ${hops().join(', ') || 'none'})\n${lab.logTails(20)}`);
  return { at: Number(out[0]), routed: Number(out[1]) };
}

/** Total connections IPVS scheduled in a namespace (/proc/net/ip_vs_stats, hex). */
function ipvsConns(d: Dir): number {
  const line = sh(`ip netns exec ${lab.ns(d)} cat /proc/net/ip_vs_stats`).split('\n')[2] ?? '';
  return parseInt(line.trim().split(/\s+/)[0] ?? '0', 16);
}

/** The client's source ports in a director's IPVS connection entries (`ipvsadm -Lnc`). */
function clientPorts(d: Dir): Set<string> {
  const out = lab.sh(lab.ns(d), 'ipvsadm -Lnc');
  return new Set([...out.matchAll(new RegExp(`${CLIENT.replaceAll('.', '\\.')}:(\\d+)`, 'g'))].map((m) => m[1]!));
}

function startDaemon(d: Dir): Proc {
  const p = lab.start(d, [process.execPath, CLI, 'daemon', '-f', join(lab.dir, `${d}.conf`), '--control', join(lab.dir, `${d}.sock`), '--metrics', 'off',
    '--state', join(lab.dir, `${d}.state.json`), '--run-dir', join(lab.dir, `${d}.run`), '--data-file', join(lab.dir, `${d}.data`)], `daemon-${d}-${starts++}`);
  daemons.set(d, p);
  return p;
}

const running = (d: Dir): boolean => {
  const c = daemons.get(d)?.child;
  return c !== undefined && c.exitCode === null && c.signalCode === null;
};

/** Writes every director's configuration and sysctls for `s`. */
function configure(s: Scenario): void {
  for (const d of DIRS) {
    writeFileSync(join(lab.dir, `${d}.conf`), directorConf(lab, d, s));
    lab.sh(lab.ns(d), `sysctl -qw ${s.sysctls}`);
  }
}

const unavailable = !haveCommand('bird') ? 'needs BIRD 2 (bird2) in the guest' : !haveCommand('perl') ? 'needs perl' : false;

before(async () => {
  if (unavailable) return;
  execFileSync('modprobe', ['-a', 'ip_vs', 'ip_vs_mh', 'ip_vs_rr', 'veth', 'bridge']);
  lab.setup({
    r: [`${ROUTER}/24`, `${CLIENT_GW}/24`],
    d1: [`${DIRECTORS.d1}/24`], d2: [`${DIRECTORS.d2}/24`], d3: [`${DIRECTORS.d3}/24`],
    s1: [`${REAL.s1}/24`], s2: [`${REAL.s2}/24`],
    c: [`${CLIENT}/24`],
  });
  Object.assign(files, { server: lab.writeFile('server.pl', SERVER), short: lab.writeFile('short.pl', SHORT), long: lab.writeFile('long.pl', LONG) });
  const noRp = 'net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0';
  // The client shares the LAN: the router must not redirect it to a director, nor may it accept a redirect.
  lab.sh(lab.ns('r'), `sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1 net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0 ${noRp}`);
  lab.sh(lab.ns('c'), `ip route add default via ${CLIENT_GW} && sysctl -qw net.ipv4.conf.all.accept_redirects=0 net.ipv4.conf.eth0.accept_redirects=0`);
  for (const r of ['s1', 's2'] as const) {
    lab.sh(lab.ns(r), `ip addr add ${VIP}/32 dev lo && ip route add default via ${ROUTER} && sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 ${noRp}`);
    lab.start(r, ['perl', files.server, r], `server-${r}`);
  }
  for (const d of DIRS) {
    mkdirSync(join(lab.dir, `${d}.bird`));
    // The VIP is local on every director (IPVS takes it at LOCAL_IN); the router reaches it through BGP only. The
    // default route lets a director's own stack answer a flow IPVS does not take (a reset) as a real director would.
    lab.sh(lab.ns(d), `ip addr add ${VIP}/32 dev lo && ip route add default via ${ROUTER} && sysctl -qw ${noRp}`);
  }
  lab.writeFile('router.conf', ROUTER_BIRD);
  lab.start('r', ['bird', '-f', '-c', join(lab.dir, 'router.conf'), '-s', join(lab.dir, 'router.ctl'), '-P', join(lab.dir, 'router.pid')], 'bird-router');
  await waitFor('the real servers to listen', () => (['s1', 's2'] as const).every((r) => lab.sh(lab.ns(r), "ss -Hltn 'sport = :80'").includes(':80')), 60_000, 500);
});

after(async () => {
  // BIRDs of killed daemons outlive them; the lab's cleanup only knows the processes it started.
  for (const d of DIRS) {
    const f = join(lab.dir, `${d}.bird`, 'bird.pid');
    const pid = existsSync(f) ? Number(readFileSync(f, 'utf8').trim()) : 0;
    try {
      if (pid > 0) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await lab.cleanup();
});

async function runScenario(s: Scenario, diag: (line: string) => void): Promise<void> {
  const t0 = Date.now();
  const missing = DIRS.filter((d) => !running(d));
  for (const d of missing) startDaemon(d);
  const reloaded = DIRS.filter((d) => !missing.includes(d));
  for (const d of reloaded) process.kill(daemons.get(d)!.pid, 'SIGHUP');
  if (reloaded.length) {
    const want = s.name === 'mh' ? / mh( |$)/m : / rr( |$)/m;
    await waitFor(`${s.name} on every director`, () => reloaded.every((d) => want.test(lab.sh(lab.ns(d), 'ipvsadm -Ln'))), 120_000, 1000);
  }
  const ready = eventUntilHops('true', 3, START_S, 0.5);
  diag(`${s.name}: three directors announced ${((ready.routed - t0) / 1000).toFixed(1)} s after ${missing.length ? `starting ${missing.join(', ')}` : 'the reload'}; router: ${hops().join(', ')}`);
  const conns0 = DIRS.map(ipvsConns);
  const tables = DIRS.map((d) => lab.sh(lab.ns(d), 'ipvsadm -Ln').split('\n').filter((l) => l.includes('->') && !l.includes('RemoteAddress')).map((l) => l.trim().split(/\s+/)[1]).join(' '));
  diag(`${s.name}: destination list order (ipvsadm -Ln) on d1/d2/d3: ${tables.join(' | ')} (d2's configuration lists them the other way round)`);
  if (s.name === 'mh') assert.ok(tables.every((t) => t === tables[0]), 'mh: every director holds its real servers in the same order');

  // 300 short connections, each from a new source port, counted by the IPVS connection entries they left on each
  // director (a flow seen by two directors counts on both; with sloppy TCP one director may hold two entries).
  const before = DIRS.map(clientPorts);
  const answers = lab.sh(lab.ns('c'), `perl ${files.short} ${VIP} ${SHORT_FLOWS}`).split('\n').filter(Boolean);
  const seen = DIRS.map((d, i) => new Set([...clientPorts(d)].filter((p) => !before[i]!.has(p))));
  const spread = seen.map((x) => x.size);
  const union = new Set(seen.flatMap((x) => [...x]));
  const entries = DIRS.map((d, i) => ipvsConns(d) - conns0[i]!);
  diag(`${s.name}: ${SHORT_FLOWS} short flows: per director d1/d2/d3 ${spread.join('/')} (${union.size} distinct, ${spread.reduce((a, b) => a + b, 0) - union.size} seen by two directors; IPVS entries created ${entries.join('/')}), per real server ${JSON.stringify(countBy(answers))}`);
  assert.equal(answers.filter((a) => a === 'FAILED').length, 0, 'every short flow answered');
  assert.ok(spread.every((n) => n > 0), `every director got flows (${spread.join('/')})`);
  assert.equal(union.size, SHORT_FLOWS, 'every flow went through a director');

  // Long-lived flows through a sequence of events.
  const stopFile = join(lab.dir, `long-${s.name}.stop`);
  const client = lab.start('c', ['perl', files.long, VIP, String(LONG_FLOWS), stopFile], `long-client-${s.name}`);
  await waitFor('the long-lived flows', () => lab.readLog(client).includes('connected'), 120_000, 200);
  await sleep(SETTLE_MS);
  const events: { name: string; at: number; routed: number }[] = [];
  const event = async (name: string, script: string, n: number, timeoutS = 120, everyS = 0.02): Promise<void> => {
    const e = eventUntilHops(script, n, timeoutS, everyS);
    events.push({ name, ...e });
    diag(`${s.name}: ${name}: router at ${n} next hop(s) ${e.routed - e.at} ms after the event`);
    await sleep(SETTLE_MS);
  };
  const d3 = lab.ns('d3');
  await event('d3 real servers fail (unreachable from d3)', `ip -n ${d3} route add unreachable ${REAL.s1}/32 && ip -n ${d3} route add unreachable ${REAL.s2}/32`, 2);
  await event('d3 real servers recover', `ip -n ${d3} route del unreachable ${REAL.s1}/32 && ip -n ${d3} route del unreachable ${REAL.s2}/32`, 3);
  await event('d1 leaves (SIGTERM)', `kill -TERM ${daemons.get('d1')!.pid}`, 2);
  await daemons.get('d1')!.exited;
  const d2Bird = Number(readFileSync(join(lab.dir, 'd2.bird', 'bird.pid'), 'utf8').trim());
  await event('d2 dies (kill -9 of ipvs-ts and its BIRD)', `kill -KILL ${daemons.get('d2')!.pid} ${d2Bird}`, 1);
  await daemons.get('d2')!.exited;
  startDaemon('d1');
  startDaemon('d2');
  await event('d1 and d2 join (started again)', 'true', 3, START_S, 0.1);
  writeFileSync(stopFile, '');
  await client.exited;
  const flows = lab.readLog(client).split('\n').filter((l) => /^\d+\t/.test(l)).map((l) => {
    const [, rs, sent, got, t, why] = l.split('\t');
    return { rs: rs!, sent: Number(sent), got: Number(got), t: Number(t) * 1000, why: why! };
  });
  assert.equal(flows.length, LONG_FLOWS, `the long client reported every flow:\n${lab.readLog(client)}`);
  const windows = events.map((e, i) => {
    const broken = flows.filter((f) => f.t > 0 && f.t >= e.at && f.t < (events[i + 1]?.at ?? Infinity));
    return { name: e.name, broken: broken.length, why: [...new Set(broken.map((f) => f.why))] };
  });
  const early = flows.filter((f) => f.t > 0 && f.t < (events[0]?.at ?? 0)).length;
  const sent = flows.reduce((a, f) => a + f.sent, 0);
  diag(`${s.name}: ${LONG_FLOWS} long-lived flows (a line every 100 ms, ${sent} lines sent over ${((Date.now() - (events[0]?.at ?? 0)) / 1000).toFixed(0)} s of events), per real server ${JSON.stringify(countBy(flows.map((f) => f.rs)))}; ` +
    `broken before any event: ${early}; ${windows.map((w) => `${w.name}: ${w.broken} broken${w.why.length ? ` (${w.why.join(', ')})` : ''}`).join('; ')}`);
  if (s.name === 'mh') {
    assert.equal(early, 0);
    assert.deepEqual(windows.filter((w) => w.broken > 0), [], 'mh + sloppy TCP: no long-lived flow broken by any event');
  }
}

function countBy(xs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

// ECMP_ONLY=mh (what npm test runs) or rr runs one scenario; unset or `all`, both in one boot.
const only = process.env.ECMP_ONLY ?? 'all';
for (const s of SCENARIOS.filter((x) => only === 'all' || x.name === only)) {
  test(`ECMP across three ipvs-ts directors with ${s.name}${s.name === 'mh' ? ' + sloppy TCP' : ' (control, no sloppy TCP)'}: spread, withdrawal, leave and join`, { skip: unavailable }, async (t) => {
    configure(s);
    await runScenario(s, (line) => t.diagnostic(line));
  });
}
