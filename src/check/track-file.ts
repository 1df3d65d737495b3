// Track files (top-level track_file blocks) as keepalived's trackers/track_file.c has them: the number a file holds,
// its init_file, and watching for changes. FILE_CHECK (file.ts) turns the number into a verdict.
import { existsSync, type FSWatcher, promises as fsp, constants as fsConstants, watch, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TrackFile } from '../config/model.ts';

export interface TrackFileValue {
  readonly value: number;
  /** The file held something out of range: `value` is then the last valid one (0 if none), as in keepalived. */
  readonly ignored?: string;
}

/** keepalived reads at most this much of a track file. */
const READ_BYTES = 127;
/** keepalived takes values from −2^31 to 2^31 (one past INT32_MAX, its own bound). */
const MIN_VALUE = -(2 ** 31);
const MAX_VALUE = 2 ** 31;

/** The last valid value of each file, which an invalid one leaves standing (keepalived's last_status). */
const lastValid = new Map<string, number>();

/**
 * The file's number, read as keepalived reads it: its first 127 bytes as a C long (strtol with base 0: leading
 * blanks and a sign, then 0x… hex, 0… octal or decimal, up to the first other character; no digits = 0). A missing,
 * unreadable or empty file is 0. Opened non-blocking, so a FIFO without a writer reads as empty.
 */
export async function readTrackFileValue(file: string): Promise<TrackFileValue> {
  let text = '';
  try {
    const handle = await fsp.open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    try {
      const { buffer, bytesRead } = await handle.read({ buffer: Buffer.alloc(READ_BYTES), position: 0 });
      text = buffer.toString('latin1', 0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    // Missing or unreadable: 0, as keepalived.
  }
  const value = parseCLong(text);
  if (value >= MIN_VALUE && value <= MAX_VALUE) {
    lastValid.set(file, value);
    return { value };
  }
  return { value: lastValid.get(file) ?? 0, ignored: text.trim().slice(0, 40) };
}

/** strtol(text, NULL, 0) without its range clamp. */
export function parseCLong(text: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text);
  if (!m) return 0;
  const digits = m[2]!;
  const magnitude = /^0[xX]/.test(digits) ? parseInt(digits.slice(2), 16) : digits.startsWith('0') ? parseInt(digits, 8) : parseInt(digits, 10);
  return m[1] === '-' ? -magnitude : magnitude;
}

/** Files initialised by this process: keepalived writes init_file at start-up and never on a reload. */
const initialised = new Set<string>();

/**
 * init_file: writes VALUE (default 0) when the file is missing, or always with `overwrite`; once per file per
 * process. A failure is returned for the caller to report; the checker then reads the file as it finds it.
 */
export function initTrackFile(file: TrackFile): string | undefined {
  if (!file.init || initialised.has(file.path)) return undefined;
  initialised.add(file.path);
  if (!file.init.overwrite && existsSync(file.path)) return undefined;
  try {
    writeFileSync(file.path, `${file.init.value}\n`);
    return undefined;
  } catch (err) {
    return `track_file ${file.name}: init_file cannot write ${file.path}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/**
 * Node's watcher reports writes, not closes (keepalived waits for IN_CLOSE_WRITE): a change is acted on once the
 * file has been quiet this long, so `echo 5 > file` is not seen half-way, truncated and empty.
 */
const SETTLE_MS = 50;

/**
 * Watches files through their directories, as keepalived's inotify does, so a file created, replaced by a rename
 * or deleted is seen too; one watcher per directory however many checkers follow its files. Nothing here keeps
 * the process alive.
 */
export class TrackFileWatcher {
  readonly #dirs = new Map<string, { readonly watcher: FSWatcher; readonly files: Map<string, Set<() => void>> }>();
  readonly #settling = new Map<string, NodeJS.Timeout>();

  /** Calls `onChange` after each change to `file`; false when its directory cannot be watched. */
  watch(file: string, onChange: () => void): boolean {
    const full = path.resolve(file);
    const dir = path.dirname(full);
    let entry = this.#dirs.get(dir);
    if (!entry) {
      const files = new Map<string, Set<() => void>>();
      let watcher: FSWatcher;
      try {
        watcher = watch(dir, { persistent: false }, (_event, name) => {
          if (name !== null) this.#changed(path.join(dir, name), files.get(name));
        });
      } catch {
        return false;
      }
      // A watched directory that goes away ends its watcher; the checkers' delay_loop still re-reads the files.
      watcher.on('error', () => {});
      entry = { watcher, files };
      this.#dirs.set(dir, entry);
    }
    const name = path.basename(full);
    const listeners = entry.files.get(name) ?? new Set();
    listeners.add(onChange);
    entry.files.set(name, listeners);
    return true;
  }

  #changed(file: string, listeners: ReadonlySet<() => void> | undefined): void {
    if (!listeners) return;
    clearTimeout(this.#settling.get(file));
    const timer = setTimeout(() => {
      this.#settling.delete(file);
      for (const listener of listeners) listener();
    }, SETTLE_MS);
    timer.unref();
    this.#settling.set(file, timer);
  }

  close(): void {
    for (const { watcher } of this.#dirs.values()) watcher.close();
    for (const timer of this.#settling.values()) clearTimeout(timer);
    this.#dirs.clear();
    this.#settling.clear();
  }
}
