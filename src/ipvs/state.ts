// Which IPVS services are ours, kept across restarts: a small JSON file holding their keys and nothing else (the
// kernel table itself is adopted by a dump at start). A service listed there may be changed or deleted by us; any
// other service in the kernel is left alone unless the configuration asks for it. /run is emptied at boot, and so
// is the kernel's IPVS table, so they agree.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { IpvsError } from './errors.ts';

export const DEFAULT_STATE_FILE = '/run/ipvs-ts/ipvs-state.json';

interface StateFile {
  /** 1 also carried the applied table (ignored now); 2 holds the keys only. */
  readonly version: 1 | 2;
  /** serviceKey of every service we own, including ones whose deletion failed. */
  readonly owned: readonly string[];
}

export interface IpvsState {
  readonly owned: ReadonlySet<string>;
}

export function loadState(path: string): IpvsState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { owned: new Set() };
    throw new IpvsError('IPVS_STATE', `cannot read the IPVS state file ${path}: ${(err as Error).message}`);
  }
  try {
    const s = JSON.parse(text) as StateFile;
    if ((s.version !== 1 && s.version !== 2) || !Array.isArray(s.owned) || !s.owned.every((k) => typeof k === 'string')) throw new Error('unknown layout');
    return { owned: new Set(s.owned) };
  } catch (err) {
    throw new IpvsError('IPVS_STATE', `the IPVS state file ${path} is damaged (${(err as Error).message}); remove it to start over`);
  }
}

function body(owned: Iterable<string>): string {
  const s: StateFile = { version: 2, owned: [...owned].sort() };
  return JSON.stringify(s);
}

/** For one-shot commands: written to a temporary file and renamed, so a crash never leaves half a file. */
export function saveState(path: string, owned: Iterable<string>): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, body(owned));
  renameSync(`${path}.tmp`, path);
}

/** The daemon's write, off its event loop: temporary file, fsync, rename (atomic, and durable before it counts). */
export async function saveStateAsync(path: string, owned: Iterable<string>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  const f = await open(tmp, 'w');
  try {
    await f.writeFile(body(owned));
    await f.sync();
  } finally {
    await f.close();
  }
  await rename(tmp, path);
}
