// The track files VRRP instances follow: init_file once per process, the value of each file, and a change
// reported within moments. Node's directory watcher (keepalived uses inotify the same way) sees a file written,
// renamed in or deleted; a watcher can miss events (a directory created later, some network and overlay file
// systems), so every file is also re-read every second.
import type { TrackFile } from '../config/model.ts';
import { initTrackFile, readTrackFileValue, TrackFileWatcher } from '../check/track-file.ts';

const REREAD_MS = 1000;

interface Followed {
  cfg: TrackFile;
  value: number;
  /** What an out-of-range read last held, so it is logged once rather than every second. */
  bad?: string;
}

export class TrackFiles {
  readonly #files = new Map<string, Followed>();
  readonly #log: (line: string) => void;
  readonly #changed: () => void;
  #watcher = new TrackFileWatcher();
  #timer: NodeJS.Timeout | undefined;

  /** `changed` is called after any followed file's value changed. */
  constructor(log: (line: string) => void, changed: () => void) {
    this.#log = log;
    this.#changed = changed;
  }

  /** The value of the file `name` as last read; 0 for one not followed (as keepalived reads a missing file). */
  value(name: string): number {
    return this.#files.get(name)?.value ?? 0;
  }

  /**
   * Follows exactly `files` from now on: new ones (or one whose path changed) are initialised and read before this
   * resolves; the others keep their value. Resolves without calling `changed`.
   */
  async follow(files: readonly TrackFile[]): Promise<void> {
    const fresh: Followed[] = [];
    const next = new Map<string, Followed>();
    for (const cfg of files) {
      const had = this.#files.get(cfg.name);
      if (had !== undefined && had.cfg.path === cfg.path) {
        had.cfg = cfg;
        next.set(cfg.name, had);
        continue;
      }
      const f: Followed = { cfg, value: 0 };
      const failed = initTrackFile(cfg);
      if (failed !== undefined) this.#log(failed);
      fresh.push(f);
      next.set(cfg.name, f);
    }
    await Promise.all(fresh.map(async (f) => (f.value = (await readTrackFileValue(f.cfg.path)).value)));
    const rewatch = fresh.length > 0 || next.size !== this.#files.size;
    this.#files.clear();
    for (const [name, f] of next) this.#files.set(name, f);
    if (rewatch) this.#watch();
  }

  close(): void {
    this.#watcher.close();
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #watch(): void {
    this.close();
    this.#watcher = new TrackFileWatcher();
    for (const f of this.#files.values()) {
      if (!this.#watcher.watch(f.cfg.path, () => void this.#reread())) this.#log(`track_file ${f.cfg.name}: cannot watch ${f.cfg.path}; re-read every ${REREAD_MS / 1000} s`);
    }
    if (this.#files.size > 0) this.#timer = setInterval(() => void this.#reread(), REREAD_MS);
  }

  async #reread(): Promise<void> {
    let any = false;
    for (const f of [...this.#files.values()]) {
      const { value, ignored } = await readTrackFileValue(f.cfg.path);
      if (ignored !== undefined && ignored !== f.bad) this.#log(`Invalid number '${ignored}' read from ${f.cfg.path} - ignoring`);
      f.bad = ignored;
      if (value === f.value || this.#files.get(f.cfg.name) !== f) continue;
      this.#log(`track_file ${f.cfg.name}: ${f.cfg.path} now holds ${value} (was ${f.value})`);
      f.value = value;
      any = true;
    }
    if (any) this.#changed();
  }
}
