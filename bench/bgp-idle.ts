// The BGP backends at rest (root, bird2, gobgpd): a router BIRD and the director's daemon in two namespaces, an
// IPv4 and an IPv6 session Established, two VIPs announced, then 30 s of nothing. Prints the daemon's CPU time
// (from /proc, 10 ms ticks), its RSS, and this process's CPU time (the service's observations and its session
// polls every 2 s: a `show protocols all` over BIRD's socket, a ListPeer over gRPC). Run it for each backend,
// alternately, on the same host: node bench/bgp-idle.ts gobgp; node bench/bgp-idle.ts bird
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../src/config/index.ts';
import { createBgpService } from '../src/bgp/service.ts';
const backend = process.argv[2];
if (backend !== 'bird' && backend !== 'gobgp') throw new Error('usage: node bench/bgp-idle.ts bird|gobgp');
const nsR = `cpur-${process.pid}`, nsD = `cpud-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'ipvsts-bgp-idle-'));
const ip = (...a: string[]) => execFileSync('ip', a);
/** utime + stime in clock ticks (fields 14 and 15 of /proc/PID/stat, counted after the command name). */
const ticks = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
};
let svc: ReturnType<typeof createBgpService>;
try {
  ip('netns', 'add', nsR); ip('netns', 'add', nsD);
  ip('link', 'add', 'c0', 'netns', nsR, 'type', 'veth', 'peer', 'name', 'c1', 'netns', nsD);
  ip('-n', nsR, 'addr', 'add', '10.96.0.1/24', 'dev', 'c0'); ip('-n', nsD, 'addr', 'add', '10.96.0.2/24', 'dev', 'c1');
  ip('-n', nsR, 'addr', 'add', 'fd96::1/64', 'dev', 'c0', 'nodad'); ip('-n', nsD, 'addr', 'add', 'fd96::2/64', 'dev', 'c1', 'nodad');
  for (const [ns, d] of [[nsR, 'c0'], [nsD, 'c1']]) { ip('-n', ns!, 'link', 'set', 'lo', 'up'); ip('-n', ns!, 'link', 'set', d!, 'up'); }
  writeFileSync(join(dir, 'r.conf'), `router id 10.96.0.1;\nprotocol device {}\nprotocol bgp a { local 10.96.0.1 as 65000; neighbor 10.96.0.2 as 65001; hold time 9; ipv4 { import all; export none; }; }\nprotocol bgp b { local fd96::1 as 65000; neighbor fd96::2 as 65001; hold time 9; ipv6 { import all; export none; }; }\n`);
  ip('netns', 'exec', nsR, 'bird', '-c', join(dir, 'r.conf'), '-s', join(dir, 'r.ctl'), '-P', join(dir, 'r.pid'));
  const text = `bgp_announcer {\n backend ${backend}\n router_id 10.96.0.2\n local_as 65001\n neighbor 10.96.0.1 remote_as 65000 hold 9\n neighbor fd96::1 remote_as 65000 hold 9\n interval 1\n rise 1\n bird_dir ${dir}/b\n gobgpd_dir ${dir}/g\n}\nvirtual_server 192.0.2.10 80 {\n lb_algo mh\n lb_kind DR\n protocol TCP\n}\nvirtual_server 2001:db8:10::10 80 {\n lb_algo mh\n lb_kind DR\n protocol TCP\n}\n`;
  const { config } = parseConfigText(text, 'c.conf', { skipHostChecks: true });
  svc = createBgpService(config!, { birdCommand: ['ip', 'netns', 'exec', nsD, 'bird'], gobgpCommand: ['ip', 'netns', 'exec', nsD, 'gobgpd'] })!;
  await svc.start();
  const now = Date.now();
  svc.onEvent({ type: 'started', at: now, virtualServers: 2, instances: 0 } as never);
  svc.onEvent({ type: 'quorum', at: now, virtualServer: 'TCP 192.0.2.10:80', up: true, liveWeight: 1 } as never);
  svc.onEvent({ type: 'quorum', at: now, virtualServer: 'TCP [2001:db8:10::10]:80', up: true, liveWeight: 1 } as never);
  for (let i = 0; i < 300 && !(svc.status().sessions.every((s) => s.up) && svc.status().vips.every((v) => v.announced)); i++) { await new Promise((r) => setTimeout(r, 100)); await svc.pollSessions(); }
  const pid = svc.status().daemon.pid!;
  const rss = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1];
  const t0 = ticks(pid), c0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, 30_000));
  const c1 = process.cpuUsage(c0);
  console.log(`${backend}: sessions ${svc.status().sessions.map((s) => s.state)}, daemon CPU ${((ticks(pid) - t0) * 10)} ms in 30 s, RSS ${rss} kB; ipvs-ts process CPU ${((c1.user + c1.system) / 1000).toFixed(0)} ms`);
} finally {
  await svc?.stop();
  try {
    process.kill(Number(readFileSync(join(dir, 'r.pid'), 'utf8')), 'SIGTERM');
  } catch {
    // The router never started.
  }
  spawnSync('ip', ['netns', 'del', nsR]);
  spawnSync('ip', ['netns', 'del', nsD]);
  rmSync(dir, { recursive: true, force: true });
}
