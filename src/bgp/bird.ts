// The BIRD 2 backend: ipvs-ts writes BIRD's configuration, runs `bird -f` as its child and drives it over the
// control socket (bird-config.ts says why enable/disable per VIP). Supervision (DaemonSupervisor): a BIRD that
// exits on its own is reported and restarted after a back-off (1 s doubling to 30 s, reset after a minute up);
// until it is back every session reads `Down` and announce/withdraw only change what the next BIRD starts with.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Announcer, DaemonInfo, RouteAttrs, SessionState } from './announcer.ts';
import { birdConfig, neighborName, staticName, type BirdRoute, type BirdSettings } from './bird-config.ts';
import { BirdControl } from './bird-control.ts';
import { parseSessions } from './bird-reply.ts';
import { BgpError } from './errors.ts';
import { checkPrefix, DaemonSupervisor, stopLeftover } from './daemon-process.ts';

export type BirdEvent =
  | { readonly type: 'bird-started'; readonly pid: number }
  | { readonly type: 'bird-exited'; readonly pid: number; readonly code: number | null; readonly signal: string | null; readonly restartInMs: number }
  | { readonly type: 'bird-log'; readonly line: string }
  | { readonly type: 'bird-error'; readonly message: string };

export interface BirdOptions {
  readonly settings: BirdSettings;
  /** Holds bird.conf, bird.ctl (the control socket) and bird.pid. */
  readonly dir: string;
  /** The BIRD program and any wrapper before it (tests: `ip netns exec NS bird`); default `bird`. */
  readonly command?: readonly string[];
  readonly report?: (e: BirdEvent) => void;
  /** How long start() waits for the control socket. */
  readonly startTimeoutMs?: number;
}

export class BirdAnnouncer implements Announcer {
  readonly #opts: BirdOptions;
  readonly #routes = new Map<string, BirdRoute>();
  readonly #names: ReadonlyMap<string, string>;
  #control: BirdControl | undefined;
  /** Runs BIRD; commands go through its queue, one at a time with the restarts. */
  readonly #supervisor = new DaemonSupervisor({
    launch: () => this.#launch(),
    lost: () => {
      this.#control?.close();
      this.#control = undefined;
    },
    exited: (e) => this.#report({ type: 'bird-exited', ...e }),
    error: (message) => this.#report({ type: 'bird-error', message }),
  });

  constructor(opts: BirdOptions) {
    this.#opts = opts;
    this.#names = new Map(opts.settings.neighbors.map((n) => [neighborName(n.address), n.address]));
  }

  get paths(): { readonly config: string; readonly socket: string; readonly pidFile: string } {
    const d = this.#opts.dir;
    return { config: join(d, 'bird.conf'), socket: join(d, 'bird.ctl'), pidFile: join(d, 'bird.pid') };
  }

  daemon(): DaemonInfo {
    const pid = this.#control ? this.#supervisor.child?.pid : undefined;
    return { name: 'bird', running: pid !== undefined, ...(pid !== undefined ? { pid } : {}), restarts: this.#supervisor.restarts };
  }

  start(): Promise<void> {
    return this.#supervisor.start();
  }

  announce(prefix: string, attrs: RouteAttrs = {}): Promise<void> {
    checkPrefix(prefix);
    return this.#supervisor.run(async () => {
      const old = this.#routes.get(prefix);
      this.#routes.set(prefix, { prefix, attrs, enabled: true });
      if (old && old.attrs.med === attrs.med) {
        if (!old.enabled) await this.#command(`enable ${staticName(prefix)}`);
        return;
      }
      // A new route or new attributes: the file changes, and BIRD re-reads it.
      this.#writeConfig();
      await this.#command(`configure "${this.paths.config}"`, 'BGP_DAEMON_CONFIG');
    });
  }

  withdraw(prefix: string): Promise<void> {
    checkPrefix(prefix);
    return this.#supervisor.run(async () => {
      const old = this.#routes.get(prefix);
      if (!old?.enabled) return;
      this.#routes.set(prefix, { ...old, enabled: false });
      await this.#command(`disable ${staticName(prefix)}`);
    });
  }

  async sessions(): Promise<readonly SessionState[]> {
    const down = (info: string): SessionState[] => this.#opts.settings.neighbors.map((n) => ({ neighbor: n.address, state: 'Down', info }));
    const control = this.#control;
    if (!control) return down('BIRD is not running');
    try {
      const found = parseSessions(await control.command('show protocols all'), this.#names);
      const byNeighbor = new Map(found.map((s) => [s.neighbor, s]));
      return this.#opts.settings.neighbors.map((n) => byNeighbor.get(n.address) ?? { neighbor: n.address, state: 'Down', info: 'not in BIRD' });
    } catch (err) {
      return down((err as Error).message);
    }
  }

  /** BIRD closes its sessions with a Cease notification on SIGTERM; a BIRD that does not exit in time is killed. */
  close(): Promise<void> {
    return this.#supervisor.close();
  }

  /** A command to the running BIRD; with none running the change waits in the file for the next start. */
  async #command(line: string, code?: 'BGP_DAEMON_CONFIG'): Promise<void> {
    if (!this.#control) return;
    await this.#control.command(line, code);
  }

  #writeConfig(): void {
    mkdirSync(this.#opts.dir, { recursive: true, mode: 0o750 });
    writeFileSync(this.paths.config, birdConfig(this.#opts.settings, [...this.#routes.values()]), { mode: 0o640 });
  }

  async #launch(): Promise<void> {
    this.#writeConfig();
    // Ours only: a bird whose command line names our control socket.
    await stopLeftover('BIRD', this.paths.pidFile, (argv) => argv[0]?.endsWith('bird') === true && argv.includes(this.paths.socket), (line) => this.#report({ type: 'bird-log', line }));
    const { config, socket, pidFile } = this.paths;
    rmSync(socket, { force: true });
    const [program = 'bird', ...pre] = this.#opts.command ?? ['bird'];
    const { child, exited } = this.#supervisor.spawn(program, [...pre, '-f', '-c', config, '-s', socket, '-P', pidFile], ['ignore', 'ignore', 'pipe']);
    if (child.stderr) createInterface({ input: child.stderr }).on('line', (line) => this.#report({ type: 'bird-log', line }));
    const deadline = Date.now() + (this.#opts.startTimeoutMs ?? 5000);
    for (;;) {
      try {
        this.#control = await BirdControl.open(socket);
        break;
      } catch (err) {
        if (exited() || Date.now() > deadline) {
          if (!exited()) child.kill('SIGKILL');
          throw new BgpError('BGP_DAEMON_START', `BIRD did not answer on ${socket}${exited() ? ' (it exited; see its log lines)' : ''}: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    this.#report({ type: 'bird-started', pid: child.pid ?? 0 });
  }

  #report(e: BirdEvent): void {
    this.#opts.report?.(e);
  }
}
