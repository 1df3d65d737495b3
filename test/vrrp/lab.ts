// A namespace lab for the VRRP tests: one bridge namespace as the LAN (no STP, no forwarding delay, no multicast
// snooping, so VRRP multicast is flooded), and one namespace per node with eth0 on that LAN. Processes started
// here are tracked by PID and killed in cleanup(), which also deletes every namespace.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;
export const NODE = join(ROOT, 'node_modules/.bin/node');
export const CLI = join(ROOT, 'bin/ipvs-ts.js');

/** Why this host cannot run the lab, or undefined when it can. */
export function labUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for network namespaces';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch {
    return 'needs iproute2 with network namespace support';
  }
  try {
    execFileSync(join(ROOT, 'node_modules/.bin/node'), ['-e', `require(${JSON.stringify(join(ROOT, 'build/Release/ipvs_ts_sys.node'))})`], { stdio: 'ignore' });
  } catch {
    return 'the native socket shim is not built';
  }
  return undefined;
}

export function haveCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let labSeq = 0;

export interface Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly log: string;
  readonly exited: Promise<number | null>;
}

export class Lab {
  readonly prefix: string;
  readonly dir: string;
  readonly #namespaces: string[] = [];
  readonly #procs: Proc[] = [];

  constructor(tag: string) {
    this.prefix = `h5${tag}${process.pid % 1000}x${labSeq++}`;
    this.dir = mkdtempSync(join(tmpdir(), `${this.prefix}-`));
  }

  ns(node: string): string {
    return `${this.prefix}${node}`;
  }

  /** Creates the LAN and the nodes; `addrs` are CIDR addresses for each node's eth0. */
  setup(nodes: Record<string, readonly string[]>): void {
    const lan = this.ns('lan');
    this.#addNs(lan);
    this.sh(lan, 'ip link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0 && ip link set br0 up && ip link set lo up');
    let i = 0;
    for (const [node, addrs] of Object.entries(nodes)) {
      const ns = this.ns(node);
      this.#addNs(ns);
      const peer = `${this.prefix.slice(-6)}v${i++}`;
      execFileSync('ip', ['link', 'add', peer, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      execFileSync('ip', ['link', 'set', peer, 'netns', lan]);
      this.sh(lan, `ip link set ${peer} master br0 && ip link set ${peer} up`);
      this.sh(ns, [
        'sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.eth0.accept_dad=0',
        'ip link set lo up',
        ...addrs.map((a) => `ip addr add ${a} dev eth0`),
        'ip link set eth0 up',
      ].join(' && '));
    }
  }

  sh(ns: string, script: string): string {
    return execFileSync('ip', ['netns', 'exec', ns, 'sh', '-c', script], { encoding: 'utf8' });
  }

  /** Addresses on a node's eth0, without prefix lengths. */
  addresses(node: string): string[] {
    const out = this.sh(this.ns(node), 'ip -o addr show dev eth0');
    return [...out.matchAll(/inet6? ([0-9a-f.:]+)\//g)].map((m) => m[1] ?? '');
  }

  writeFile(name: string, text: string): string {
    const path = join(this.dir, name);
    writeFileSync(path, text);
    return path;
  }

  readLog(p: Proc): string {
    try {
      return readFileSync(p.log, 'utf8');
    } catch {
      return '';
    }
  }

  /** How many times the process logged entering `state` (ipvs-ts and keepalived both log "Entering X STATE"). */
  entered(p: Proc, state: string): number {
    return this.readLog(p).split(`Entering ${state} STATE`).length - 1;
  }

  start(node: string, argv: readonly string[], name: string): Proc {
    const log = join(this.dir, `${name}.log`);
    const fd = openLog(log);
    const child = spawn('ip', ['netns', 'exec', this.ns(node), ...argv], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    if (child.pid === undefined) throw new Error(`cannot start ${argv[0]}`);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const p = { child, pid: child.pid, log, exited };
    this.#procs.push(p);
    return p;
  }

  /** `ipvs-ts vrrp -f CONF` on a node. */
  ipvsTs(node: string, conf: string, name = `ipvs-ts-${node}`): Proc {
    const path = this.writeFile(`${name}.conf`, conf);
    return this.start(node, [NODE, CLI, 'vrrp', '-f', path, '--stats-file', join(this.dir, `${name}.stats.json`)], name);
  }

  /** Debian's keepalived, VRRP only, in the foreground, with its own pid files. */
  keepalived(node: string, conf: string, name = `keepalived-${node}`): Proc {
    const path = this.writeFile(`${name}.conf`, conf);
    const pid = join(this.dir, `${name}.pid`);
    return this.start(node, ['keepalived', '--vrrp', '-n', '-l', '-D', '-f', path, '-p', pid, '-r', join(this.dir, `${name}.vrrp.pid`)], name);
  }

  async stats(p: Proc, name: string): Promise<{ instances: { name: string; state: string; stats: Record<string, number> }[]; unmatched: Record<string, Record<string, number>> }> {
    const file = join(this.dir, `${name}.stats.json`);
    rmSync(file, { force: true });
    process.kill(p.pid, 'SIGUSR2');
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      try {
        return JSON.parse(readFileSync(file, 'utf8')) as never;
      } catch {
        await sleep(20);
      }
    }
    throw new Error(`no stats from ${name}`);
  }

  async stop(p: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
    return p.exited;
  }

  async cleanup(): Promise<void> {
    for (const p of this.#procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(this.#procs.map((p) => Promise.race([p.exited, sleep(2000)])));
    for (const ns of this.#namespaces.reverse()) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  #addNs(ns: string): void {
    execFileSync('ip', ['netns', 'add', ns]);
    this.#namespaces.push(ns);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every `everyMs` until true; resolves with the elapsed milliseconds or rejects after `timeoutMs`. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs: number, everyMs = 10): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (cond()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

function openLog(path: string): number {
  writeFileSync(path, '');
  return openSync(path, 'a');
}

/** A keepalived.conf vrrp_instance block that both keepalived and ipvs-ts read. */
export function instanceConf(o: {
  name?: string;
  state?: 'MASTER' | 'BACKUP';
  vrid: number;
  priority: number;
  version?: 2 | 3;
  advert?: number;
  vips: readonly string[];
  pass?: string;
  unicastSrc?: string;
  peers?: readonly string[];
  extra?: string;
}): string {
  return [
    `vrrp_instance ${o.name ?? 'VI_1'} {`,
    `  state ${o.state ?? 'BACKUP'}`,
    '  interface eth0',
    `  virtual_router_id ${o.vrid}`,
    `  priority ${o.priority}`,
    `  version ${o.version ?? 3}`,
    `  advert_int ${o.advert ?? 1}`,
    ...(o.pass !== undefined ? ['  authentication {', '    auth_type PASS', `    auth_pass ${o.pass}`, '  }'] : []),
    ...(o.unicastSrc !== undefined ? [`  unicast_src_ip ${o.unicastSrc}`] : []),
    ...(o.peers !== undefined ? ['  unicast_peer {', ...o.peers.map((p) => `    ${p}`), '  }'] : []),
    '  virtual_ipaddress {',
    ...o.vips.map((v) => `    ${v}`),
    '  }',
    ...(o.extra !== undefined ? [o.extra] : []),
    '}',
    '',
  ].join('\n');
}
