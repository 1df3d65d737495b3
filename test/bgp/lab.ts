// The namespace lab of the backend tests (bird.test.ts, gobgp.test.ts): a router namespace runs its own BIRD, which
// puts the routes it learns into its kernel table, and a director namespace is where the backend's daemon runs;
// they peer over a veth, IPv4 and IPv6 (router 10.98.0.1 / fd98::1 AS 65000, director .2 / ::2 AS 65001).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const VS = 'TCP 192.0.2.10:80';
export const VS6 = 'TCP [2001:db8:10::10]:80';

export async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Dead or a zombie (this container's init may not reap the daemonized daemons' orphans). */
export function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Made with `new`, set up inside the test's try, closed in its finally: close() undoes a half-made lab too. */
export class RouterLab {
  readonly router: string;
  readonly director: string;
  /** Temporary: the router's files, and a place for the director's. */
  readonly dir: string;

  constructor(tag: string) {
    this.router = `ipvsts-${tag}r-${process.pid}`;
    this.director = `ipvsts-${tag}d-${process.pid}`;
    this.dir = mkdtempSync(join(tmpdir(), `ipvsts-${tag}-`));
  }

  get #routerCtl(): string {
    return join(this.dir, 'router.ctl');
  }

  get #routerPidFile(): string {
    return join(this.dir, 'router.pid');
  }

  /** The namespaces, the veth between them, and the router's BIRD (daemonized; its pid in the lab's dir). */
  setup(): void {
    const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
    const [nsR, nsD] = [this.router, this.director];
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
    writeFileSync(join(this.dir, 'router.conf'), `router id 10.98.0.1;
protocol device {}
protocol kernel { ipv4 { import none; export all; }; }
protocol kernel { ipv6 { import none; export all; }; }
protocol bgp director { local 10.98.0.1 as 65000; neighbor 10.98.0.2 as 65001; hold time 9; connect retry time 1; error wait time 1, 5; ipv4 { import all; export none; }; }
protocol bgp director6 { local fd98::1 as 65000; neighbor fd98::2 as 65001; hold time 9; connect retry time 1; error wait time 1, 5; ipv6 { import all; export none; }; }
`);
    ip('netns', 'exec', nsR, 'bird', '-c', join(this.dir, 'router.conf'), '-s', this.#routerCtl, '-P', this.#routerPidFile);
  }

  /**
   * The director's configuration: both neighbors, a VIP of each family (the IPv4 one with a MED) on a virtual
   * server, fast rise/fall; `backend` holds the backend's own lines (`bird_dir …`, `backend gobgp` …).
   */
  config(backend: string): string {
    return `
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
  ${backend}
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
  }

  /** Whether the router's kernel routes the IPv4 VIP to the director (a property: `until` takes it as it is). */
  readonly hasVip = (): boolean => execFileSync('ip', ['-n', this.router, 'route', 'show', '192.0.2.10'], { encoding: 'utf8' }).includes('via 10.98.0.2');

  readonly hasVip6 = (): boolean => execFileSync('ip', ['-n', this.router, '-6', 'route', 'show', '2001:db8:10::10'], { encoding: 'utf8' }).includes('via fd98::2');

  /** The router BIRD's view of the IPv4 VIP's route, with its attributes. */
  vipRoute(): string {
    return execFileSync('birdc', ['-s', this.#routerCtl, 'show', 'route', 'all', '192.0.2.10/32'], { encoding: 'utf8' });
  }

  close(): void {
    try {
      process.kill(Number(readFileSync(this.#routerPidFile, 'utf8').trim()), 'SIGTERM');
    } catch {
      // Not started.
    }
    spawnSync('ip', ['netns', 'del', this.router]);
    spawnSync('ip', ['netns', 'del', this.director]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
