// A namespace lab for the VRRP tests: one bridge namespace as the LAN (no STP, no forwarding delay, no multicast
// snooping, so VRRP multicast is flooded), and one namespace per node with eth0 on that LAN. Processes started
// here are tracked by PID and killed in cleanup(), which also deletes every namespace.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToAddr } from '../../src/vrrp/addr.ts';

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

/**
 * How long a director may take to start and settle: a node process start plus its worker is ~0.5 s idle but
 * several seconds when the shared machine is loaded. Protocol timing is asserted separately, never with this.
 */
export const START_MS = 20_000;

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

  linkLocal(node: string): string {
    const out = this.sh(this.ns(node), 'ip -6 -o addr show dev eth0 scope link');
    const m = /inet6 (fe80[0-9a-f:]+)\//.exec(out);
    if (m?.[1] === undefined) throw new Error(`${node} has no link-local address`);
    return m[1];
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

  /** The states one instance logged entering, in order (ipvs-ts and keepalived both log "(NAME) Entering X STATE"). */
  states(p: Proc, instance: string): string[] {
    return [...this.readLog(p).matchAll(/\((\S+)\) Entering (\w+) STATE/g)].flatMap((m) => (m[1] === instance ? [m[2]!] : []));
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

  /**
   * Starts tcpdump on the LAN bridge (immediate mode, so nothing waits in a ring buffer); stop() returns the adverts.
   * A wider `filter` (`… or arp`) keeps more in `pcap`, for readPcap().
   */
  async capture(name = 'lan', filter = 'ip proto 112 or ip6 proto 112'): Promise<{ pcap: string; stop: () => Promise<AdvertFields[]> }> {
    const pcap = join(this.dir, `${name}.pcap`);
    const dump = this.start('lan', ['tcpdump', '-i', 'br0', '-n', '-U', '--immediate-mode', '-w', pcap, filter], `tcpdump-${name}`);
    await waitFor('tcpdump', () => this.readLog(dump).includes('listening on'), START_MS);
    return {
      pcap,
      stop: async () => {
        await this.stop(dump);
        return readPcap(pcap).flatMap((p) => advertFields(p.frame, p.timeMs) ?? []);
      },
    };
  }

  /**
   * SIGKILLs keepalived's VRRP child, then its parent. Killing only the parent is a graceful stop in effect: the
   * child gets SIGTERM from PR_SET_PDEATHSIG and sends priority-0 adverts.
   */
  killKeepalived(p: Proc, name: string): void {
    const child = Number(readFileSync(join(this.dir, `${name}.vrrp.pid`), 'utf8').trim());
    if (child > 0) process.kill(child, 'SIGKILL');
    p.child.kill('SIGKILL');
  }

  /** Rewrites the config a process was started with (`name` as given to ipvsTs/keepalived) and sends it SIGHUP. */
  reload(p: Proc, name: string, conf: string): void {
    this.writeFile(`${name}.conf`, conf);
    process.kill(p.pid, 'SIGHUP');
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

  /** The last lines of every log this lab wrote, for a failing test's message. */
  logTails(lines = 15): string {
    return this.#procs.map((p) => `--- ${p.log}\n${this.readLog(p).trimEnd().split('\n').slice(-lines).join('\n')}`).join('\n');
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

/** Packets of a classic pcap file (what `tcpdump -w` writes): capture time in ms and the Ethernet frame. */
export function readPcap(path: string): { timeMs: number; frame: Buffer }[] {
  const b = readFileSync(path);
  const out: { timeMs: number; frame: Buffer }[] = [];
  if (b.length < 24) return out;
  const nano = b.readUInt32LE(0) === 0xa1b23c4d;
  for (let off = 24; off + 16 <= b.length; ) {
    const sec = b.readUInt32LE(off);
    const frac = b.readUInt32LE(off + 4);
    const len = b.readUInt32LE(off + 8);
    if (off + 16 + len > b.length) break;
    out.push({ timeMs: sec * 1000 + (nano ? frac / 1e6 : frac / 1e3), frame: b.subarray(off + 16, off + 16 + len) });
    off += 16 + len;
  }
  return out;
}

/**
 * Handovers on the wire: each time the sender of the adverts changes, the gap between the last advert of the old
 * sender and the first of the new one. Priority-0 adverts count (a graceful stop ends with one).
 */
export function handovers(ads: readonly AdvertFields[], vrid: number): { from: string; to: string; gapMs: number; lastPriority: number }[] {
  const seq = ads.filter((a) => a.vrid === vrid);
  const out: { from: string; to: string; gapMs: number; lastPriority: number }[] = [];
  for (let i = 1; i < seq.length; i++) {
    const a = seq[i - 1]!;
    const b = seq[i]!;
    if (a.src !== b.src) out.push({ from: a.src, to: b.src, gapMs: b.timeMs - a.timeMs, lastPriority: a.priority });
  }
  return out;
}

/** Capture times of the gratuitous ARPs for `address` (sender and target address both it) among captured frames. */
export function gratuitousArps(frames: readonly { timeMs: number; frame: Buffer }[], address: string): number[] {
  return frames.flatMap(({ timeMs, frame }) => {
    if (frame.length < 42 || frame.readUInt16BE(12) !== 0x0806) return [];
    const arp = frame.subarray(14);
    return bytesToAddr(arp.subarray(14, 18)) === address && bytesToAddr(arp.subarray(24, 28)) === address ? [timeMs] : [];
  });
}

/** The header fields of a VRRP advert frame that two implementations must agree on (not source, id, priority). */
export interface AdvertFields {
  readonly src: string;
  readonly dst: string;
  readonly family: 4 | 6;
  /** Capture time, ms. */
  readonly timeMs: number;
  readonly tos: number;
  readonly ttl: number;
  readonly df: boolean;
  readonly version: number;
  readonly type: number;
  readonly vrid: number;
  readonly priority: number;
  readonly naddr: number;
  readonly authType: number;
  readonly interval: number;
  readonly payload: Buffer;
}

export function advertFields(frame: Buffer, timeMs = 0): AdvertFields | undefined {
  const etype = frame.readUInt16BE(12);
  let ip = frame.subarray(14);
  let base: Pick<AdvertFields, 'src' | 'dst' | 'family' | 'tos' | 'ttl' | 'df'> & { timeMs: number };
  if (etype === 0x0800 && ip[9] === 112) {
    const ihl = (ip[0]! & 0x0f) * 4;
    base = { timeMs, src: bytesToAddr(ip.subarray(12, 16)), dst: bytesToAddr(ip.subarray(16, 20)), family: 4, tos: ip[1]!, ttl: ip[8]!, df: (ip.readUInt16BE(6) & 0x4000) !== 0 };
    ip = ip.subarray(ihl, ip.readUInt16BE(2));
  } else if (etype === 0x86dd && ip[6] === 112) {
    base = { timeMs, src: bytesToAddr(ip.subarray(8, 24)), dst: bytesToAddr(ip.subarray(24, 40)), family: 6, tos: (ip.readUInt16BE(0) >> 4) & 0xff, ttl: ip[7]!, df: false };
    ip = ip.subarray(40, 40 + ip.readUInt16BE(4));
  } else return undefined;
  const version = ip[0]! >> 4;
  return {
    ...base,
    version,
    type: ip[0]! & 0x0f,
    vrid: ip[1]!,
    priority: ip[2]!,
    naddr: ip[3]!,
    authType: version === 2 ? ip[4]! : 0,
    interval: version === 2 ? ip[5]! : ip.readUInt16BE(4) & 0x0fff,
    payload: Buffer.from(ip),
  };
}
