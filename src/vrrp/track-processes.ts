// The vrrp_track_process blocks the instances follow, counted from /proc. keepalived is told of forks, execs and
// exits by the kernel's process connector (NETLINK_CONNECTOR, CN_IDX_PROC); that socket exists only in the initial
// network namespace (in any other, sendmsg to it fails with ECONNREFUSED, tried here), and a director in a network
// namespace is a common setup and this project's lab. So /proc is read every 100 ms instead: a process that dies
// is seen within that, and a child whose parent is a counted process is taken as a fork (fork_delay applies),
// any other newcomer as an exec, as the connector would have reported them.
import { promises as fsp } from 'node:fs';
import type { VrrpTrackProcess } from '../config/model.ts';
import { matchesProcess, type ProcessEntry } from './process-match.ts';
import { initialQuorum, processEvent, quorumTimer, type QuorumState } from './process-quorum.ts';

const SCAN_MS = 100;

interface Followed {
  cfg: VrrpTrackProcess;
  pids: Set<number>;
  q: QuorumState;
  timer: NodeJS.Timeout | undefined;
}

export class TrackProcesses {
  readonly #tracked = new Map<string, Followed>();
  readonly #log: (line: string) => void;
  readonly #changed: () => void;
  readonly #now: () => number;
  #interval: NodeJS.Timeout | undefined;
  #scanning = false;

  /** `changed` is called after any followed process's verdict changed. */
  constructor(log: (line: string) => void, changed: () => void, now: () => number) {
    this.#log = log;
    this.#changed = changed;
    this.#now = now;
  }

  /** Whether the process's quorum holds; false for one not followed. */
  up(name: string): boolean {
    return this.#tracked.get(name)?.q.up ?? false;
  }

  /**
   * Follows exactly `processes` from now on, counted before this resolves. One whose matching rule is unchanged
   * keeps its processes and verdict (quorum and delays apply from the next change); the others start afresh.
   */
  async follow(processes: readonly VrrpTrackProcess[]): Promise<void> {
    const entries = processes.length > 0 ? await readProcesses(processes.some((p) => p.fullCommand)) : [];
    const next = new Map<string, Followed>();
    for (const cfg of processes) {
      const had = this.#tracked.get(cfg.name);
      if (had !== undefined && sameMatching(had.cfg, cfg)) {
        had.cfg = cfg;
        next.set(cfg.name, had);
        continue;
      }
      clearTimeout(had?.timer);
      const pids = new Set(entries.filter((e) => matchesProcess(cfg, e)).map((e) => e.pid));
      next.set(cfg.name, { cfg, pids, q: initialQuorum(cfg, pids.size), timer: undefined });
    }
    for (const [name, f] of this.#tracked) if (next.get(name) !== f) clearTimeout(f.timer);
    this.#tracked.clear();
    for (const [name, f] of next) this.#tracked.set(name, f);
    clearInterval(this.#interval);
    this.#interval = this.#tracked.size > 0 ? setInterval(() => void this.#scan(), SCAN_MS) : undefined;
  }

  close(): void {
    clearInterval(this.#interval);
    this.#interval = undefined;
    for (const f of this.#tracked.values()) clearTimeout(f.timer);
  }

  async #scan(): Promise<void> {
    if (this.#scanning) return;
    this.#scanning = true;
    try {
      const followed = [...this.#tracked.values()];
      const entries = await readProcesses(followed.some((f) => f.cfg.fullCommand));
      let changed = false;
      for (const f of followed) {
        if (this.#tracked.get(f.cfg.name) !== f) continue;
        const now = new Map(entries.filter((e) => matchesProcess(f.cfg, e)).map((e) => [e.pid, e]));
        const before = f.q.up;
        // Exits first: a restarted daemon is seen dying before its successor, as the kernel reports them.
        for (const pid of f.pids) if (!now.has(pid)) f.q = processEvent(f.cfg, f.q, 'exit', this.#now());
        for (const [pid, e] of now) if (!f.pids.has(pid)) f.q = processEvent(f.cfg, f.q, now.has(e.ppid) ? 'fork' : 'exec', this.#now());
        f.pids = new Set(now.keys());
        this.#arm(f);
        if (f.q.up !== before) {
          this.#log(`Quorum ${f.q.up ? 'gained' : 'lost'} for tracked process ${f.cfg.name} (${f.q.count} running)`);
          changed = true;
        }
      }
      if (changed) this.#changed();
    } finally {
      this.#scanning = false;
    }
  }

  /** Runs a pending fork_delay or terminate_delay to its end. */
  #arm(f: Followed): void {
    clearTimeout(f.timer);
    f.timer = undefined;
    const at = f.q.pending?.at;
    if (at === undefined) return;
    f.timer = setTimeout(() => {
      f.timer = undefined;
      const before = f.q.up;
      f.q = quorumTimer(f.cfg, f.q, this.#now());
      if (f.q.pending !== undefined) return this.#arm(f);
      if (f.q.up === before) return;
      this.#log(`Quorum ${f.q.up ? 'gained' : 'lost'} for tracked process ${f.cfg.name} (${f.q.count} running)`);
      this.#changed();
    }, Math.max(0, at - this.#now()));
  }
}

function sameMatching(a: VrrpTrackProcess, b: VrrpTrackProcess): boolean {
  return a.process === b.process && a.fullCommand === b.fullCommand && a.paramMatch === b.paramMatch && a.params.join('\0') === b.params.join('\0');
}

/** Every process in /proc; its command line only when some tracker matches on it. Processes that vanish midway are skipped. */
async function readProcesses(withCmdline: boolean): Promise<ProcessEntry[]> {
  const pids = (await fsp.readdir('/proc')).filter((n) => /^\d+$/.test(n));
  const read = await Promise.all(pids.map(async (pid): Promise<ProcessEntry | undefined> => {
    try {
      const stat = await fsp.readFile(`/proc/${pid}/stat`, 'latin1');
      // "PID (COMM) STATE PPID …": the name may itself hold ") ", so it ends at the last one.
      const open = stat.indexOf('(');
      const close = stat.lastIndexOf(')');
      const [state, ppid] = stat.slice(close + 2).split(' ');
      const argv = withCmdline ? (await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').slice(0, -1) : [];
      return { pid: Number(pid), ppid: Number(ppid), comm: stat.slice(open + 1, close), argv, zombie: state === 'Z' };
    } catch {
      return undefined;
    }
  }));
  return read.filter((e): e is ProcessEntry => e !== undefined);
}
