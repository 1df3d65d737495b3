// Which IPVS services are ours, kept across restarts: a small JSON file holding the table we last applied.
// A service listed there may be changed or deleted by us; any other service in the kernel is left alone unless
// the configuration asks for it. /run is emptied at boot, and so is the kernel's IPVS table, so they agree.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { IpvsError } from './errors.ts';
import { serviceKey } from './identity.ts';
import type { IpvsTable } from './types.ts';

export const DEFAULT_STATE_FILE = '/run/ipvs-ts/ipvs-state.json';

interface StateFile {
  readonly version: 1;
  /** The table as we last applied it (desired, not read back): drift is the kernel differing from this. */
  readonly applied: IpvsTable;
  /** serviceKey of every service we own; a superset of `applied` while deletions are still pending. */
  readonly owned: readonly string[];
}

export interface IpvsState {
  readonly applied: IpvsTable;
  readonly owned: ReadonlySet<string>;
}

export function loadState(path: string): IpvsState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { applied: { services: [] }, owned: new Set() };
    throw new IpvsError('IPVS_STATE', `cannot read the IPVS state file ${path}: ${(err as Error).message}`);
  }
  try {
    const s = JSON.parse(text) as StateFile;
    if (s.version !== 1 || !Array.isArray(s.owned) || !Array.isArray(s.applied?.services)) throw new Error('unknown layout');
    return { applied: s.applied, owned: new Set(s.owned) };
  } catch (err) {
    throw new IpvsError('IPVS_STATE', `the IPVS state file ${path} is damaged (${(err as Error).message}); remove it to start over`);
  }
}

/** Written to a temporary file and renamed, so a crash never leaves half a file. */
export function saveState(path: string, applied: IpvsTable, stillOwned: Iterable<string> = []): void {
  const owned = new Set([...applied.services.map((s) => serviceKey(s.service.id)), ...stillOwned]);
  const body: StateFile = { version: 1, applied, owned: [...owned].sort() };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, JSON.stringify(body));
  renameSync(`${path}.tmp`, path);
}
