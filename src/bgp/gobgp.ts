// The GoBGP backend: ipvs-ts runs its own gobgpd as its child (no configuration file: everything goes through the
// gRPC API, on a socket in gobgpd_dir or on 127.0.0.1:grpc_port) and tells it the global settings, the neighbors
// and the VIP paths. gobgpd keeps nothing across a restart, so the wanted routes live here and a restarted
// gobgpd is given them again. Supervision is BIRD's (DaemonSupervisor): an exit is reported, every session reads
// `Down`, and gobgpd is restarted after 1 s doubling to 30 s (back to 1 s after a minute up).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Announcer, DaemonInfo, RouteAttrs, SessionState } from './announcer.ts';
import { BgpError } from './errors.ts';
import { checkPrefix, DaemonSupervisor, stopLeftover } from './daemon-process.ts';
import {
  GobgpClient, addPathRequest, addPeerRequest, deletePathRequest, importLocalOnlyRequests, peerStates, startBgpRequest,
  type GobgpSettings, type PeerReply,
} from './gobgp-api.ts';

export type GobgpEvent =
  | { readonly type: 'gobgp-started'; readonly pid: number }
  | { readonly type: 'gobgp-exited'; readonly pid: number; readonly code: number | null; readonly signal: string | null; readonly restartInMs: number }
  | { readonly type: 'gobgp-log'; readonly line: string }
  | { readonly type: 'gobgp-error'; readonly message: string };

export interface GobgpOptions {
  readonly settings: GobgpSettings;
  /** Holds gobgpd.sock (the gRPC socket, unless grpcPort) and gobgpd.pid. */
  readonly dir: string;
  /** gRPC on 127.0.0.1:PORT instead of the socket. */
  readonly grpcPort?: number;
  /** The gobgpd program and any wrapper before it (tests: `ip netns exec NS gobgpd`); default `gobgpd`. */
  readonly command?: readonly string[];
  readonly report?: (e: GobgpEvent) => void;
  /** How long start() waits for the API to answer. */
  readonly startTimeoutMs?: number;
}

interface Route {
  readonly attrs: RouteAttrs;
  readonly enabled: boolean;
}

export class GobgpAnnouncer implements Announcer {
  readonly #opts: GobgpOptions;
  /** What should be announced: gobgpd forgets its paths when it dies, this does not. */
  readonly #routes = new Map<string, Route>();
  /** Set once gobgpd has taken its settings, neighbors and paths; unset when it exits. */
  #client: GobgpClient | undefined;
  /** Runs gobgpd; API calls go through its queue, one at a time with the restarts. */
  readonly #supervisor = new DaemonSupervisor({
    launch: () => this.#launch(),
    lost: () => {
      this.#client?.close();
      this.#client = undefined;
    },
    exited: (e) => this.#report({ type: 'gobgp-exited', ...e }),
    error: (message) => this.#report({ type: 'gobgp-error', message }),
  });

  constructor(opts: GobgpOptions) {
    this.#opts = opts;
  }

  get paths(): { readonly socket: string; readonly pidFile: string; readonly target: string; readonly apiHosts: string } {
    const socket = join(this.#opts.dir, 'gobgpd.sock');
    const port = this.#opts.grpcPort;
    return {
      socket, pidFile: join(this.#opts.dir, 'gobgpd.pid'),
      target: port !== undefined ? `ipv4:127.0.0.1:${port}` : `unix://${socket}`,
      apiHosts: port !== undefined ? `127.0.0.1:${port}` : `unix://${socket}`,
    };
  }

  daemon(): DaemonInfo {
    const pid = this.#client ? this.#supervisor.child?.pid : undefined;
    return { name: 'gobgp', running: pid !== undefined, ...(pid !== undefined ? { pid } : {}), restarts: this.#supervisor.restarts };
  }

  start(): Promise<void> {
    return this.#supervisor.start();
  }

  announce(prefix: string, attrs: RouteAttrs = {}): Promise<void> {
    checkPrefix(prefix);
    return this.#supervisor.run(async () => {
      const old = this.#routes.get(prefix);
      if (old?.enabled && old.attrs.med === attrs.med) return;
      // A path with the same prefix replaces the one gobgpd has (a new MED goes out as one UPDATE).
      await this.#change(prefix, { attrs, enabled: true }, () => this.#client?.call('AddPath', addPathRequest(prefix, attrs)));
    });
  }

  withdraw(prefix: string): Promise<void> {
    checkPrefix(prefix);
    return this.#supervisor.run(async () => {
      const old = this.#routes.get(prefix);
      if (!old?.enabled) return;
      await this.#change(prefix, { ...old, enabled: false }, () => this.#client?.call('DeletePath', deletePathRequest(prefix)));
    });
  }

  /**
   * Records the wanted route, then tells a running gobgpd. A refused call puts the old route back, so the
   * service's retry at its next observation makes the call again instead of finding nothing to do.
   */
  async #change(prefix: string, next: Route, call: () => Promise<unknown> | undefined): Promise<void> {
    const old = this.#routes.get(prefix);
    this.#routes.set(prefix, next);
    try {
      await call();
    } catch (err) {
      if (old) this.#routes.set(prefix, old);
      else this.#routes.delete(prefix);
      throw err;
    }
  }

  async sessions(): Promise<readonly SessionState[]> {
    const neighbors = this.#opts.settings.neighbors;
    const down = (info: string): SessionState[] => neighbors.map((n) => ({ neighbor: n.address, state: 'Down', info }));
    const client = this.#client;
    if (!client) return down('gobgpd is not running');
    try {
      const found = peerStates((await client.list('ListPeer', {})) as PeerReply[]);
      return neighbors.map((n) => {
        const s = found.get(n.address);
        return s ? { neighbor: n.address, ...s } : { neighbor: n.address, state: 'Down', info: 'not in gobgpd' };
      });
    } catch (err) {
      return down((err as Error).message);
    }
  }

  /** gobgpd stops BGP on SIGTERM (a Cease notification to each neighbor); one that does not exit in time is killed. */
  async close(): Promise<void> {
    await this.#supervisor.close();
    rmSync(this.paths.pidFile, { force: true });
  }

  async #launch(): Promise<void> {
    mkdirSync(this.#opts.dir, { recursive: true, mode: 0o750 });
    // Ours only: a gobgpd serving our API address.
    await stopLeftover('gobgpd', this.paths.pidFile, (argv) => argv[0]?.endsWith('gobgpd') === true && argv.includes(this.paths.apiHosts), (line) => this.#report({ type: 'gobgp-log', line }));
    const { socket, pidFile, target, apiHosts } = this.paths;
    rmSync(socket, { force: true });
    const [program = 'gobgpd', ...pre] = this.#opts.command ?? ['gobgpd'];
    // No -f: gobgpd then waits for StartBgp over the API. Its log (stdout) is plain text at info level at least.
    const { child, exited } = this.#supervisor.spawn(program, [...pre, '--api-hosts', apiHosts, '--pprof-disable', '--log-plain'], ['ignore', 'pipe', 'pipe']);
    for (const out of [child.stdout, child.stderr]) {
      if (out) createInterface({ input: out }).on('line', (line) => worthReporting(line) && this.#report({ type: 'gobgp-log', line }));
    }
    if (child.pid !== undefined) writeFileSync(pidFile, `${child.pid}\n`, { mode: 0o640 });
    const client = new GobgpClient(target);
    const deadline = Date.now() + (this.#opts.startTimeoutMs ?? 5000);
    try {
      // Short waits, so a gobgpd that exits at once fails start() at once.
      for (;;) {
        try {
          await client.ready(Math.min(Date.now() + 200, deadline));
          break;
        } catch (err) {
          if (exited()) throw new Error('it exited; see its log lines');
          if (Date.now() >= deadline) throw err;
        }
      }
      await this.#configure(client);
    } catch (err) {
      client.close();
      if (!exited()) child.kill('SIGKILL');
      throw new BgpError('BGP_DAEMON_START', `gobgpd did not take its settings on ${target}: ${(err as Error).message}`);
    }
    this.#client = client;
    this.#report({ type: 'gobgp-started', pid: child.pid ?? 0 });
  }

  /** Settings, the import policy before any neighbor (so nothing is ever learned), neighbors, then the wanted paths. */
  async #configure(client: GobgpClient): Promise<void> {
    const s = this.#opts.settings;
    await client.call('StartBgp', startBgpRequest(s));
    const importPolicy = importLocalOnlyRequests();
    await client.call('AddPolicy', importPolicy.policy);
    await client.call('SetPolicyAssignment', importPolicy.assignment);
    for (const n of s.neighbors) await client.call('AddPeer', addPeerRequest(n, s.localAs));
    for (const [prefix, r] of this.#routes) if (r.enabled) await client.call('AddPath', addPathRequest(prefix, r.attrs));
  }

  #report(e: GobgpEvent): void {
    this.#opts.report?.(e);
  }
}

/**
 * Warnings, errors and anything not in logrus's format (a Go panic's trace), as BIRD's stderr is: the info lines
 * (each peer added, each state change) repeat what the service reports from the sessions itself.
 */
export function worthReporting(line: string): boolean {
  return !/^time="[^"]*" level=(info|debug|trace) /.test(line);
}
