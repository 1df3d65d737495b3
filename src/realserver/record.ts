// What `ipvs-ts realserver up` changed on this host, so `down` undoes exactly that: the VIPs it added, the links it
// brought up and each sysctl it changed with the value it found. Settings that were already right are not
// recorded, so `down` never reverts what the admin set himself. The file lives in /run (a reboot undoes
// everything in it), is written whole through a rename, and is removed when nothing is owned any more.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { RealServerError } from './errors.ts';
import type { RealServerMode } from './needs.ts';

export const DEFAULT_RECORD_FILE = '/run/ipvs-ts/realserver.json';

export interface OwnedAddress {
  readonly address: string;
  readonly family: 4 | 6;
  readonly prefix: number;
  readonly device: string;
  readonly mode: RealServerMode;
}

export interface OwnedSysctl {
  readonly key: string;
  /** The value `up` found. */
  readonly before: string;
  /** The value `up` wrote. */
  readonly set: string;
}

export interface Owned {
  readonly addresses: readonly OwnedAddress[];
  readonly links: readonly string[];
  readonly sysctls: readonly OwnedSysctl[];
}

export const NOTHING_OWNED: Owned = { addresses: [], links: [], sysctls: [] };

export function readRecord(path: string): Owned {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return NOTHING_OWNED;
    throw new RealServerError('REALSERVER_RECORD', `${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const o = JSON.parse(text) as Partial<Owned>;
    if (!Array.isArray(o.addresses) || !Array.isArray(o.links) || !Array.isArray(o.sysctls)) throw new Error('missing addresses, links or sysctls');
    return { addresses: o.addresses, links: o.links, sysctls: o.sysctls };
  } catch (e) {
    throw new RealServerError('REALSERVER_RECORD', `${path} is damaged (${(e as Error).message}); undo by hand what it recorded, then remove it`, { cause: e });
  }
}

export function writeRecord(path: string, owned: Owned): void {
  if (owned.addresses.length === 0 && owned.links.length === 0 && owned.sysctls.length === 0) {
    rmSync(path, { force: true });
    return;
  }
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(owned, null, 2)}\n`, { mode: 0o644 });
  renameSync(tmp, path);
}

/** `owned` plus what `up` just did; a sysctl changed twice keeps the value found the first time. */
export function addToRecord(owned: Owned, done: { addresses: OwnedAddress[]; links: string[]; sysctls: OwnedSysctl[] }): Owned {
  const sysctls = [...owned.sysctls];
  for (const s of done.sysctls) {
    const i = sysctls.findIndex((o) => o.key === s.key);
    if (i < 0) sysctls.push(s);
    else sysctls[i] = { key: s.key, before: (sysctls[i] as OwnedSysctl).before, set: s.set };
  }
  return {
    addresses: [...owned.addresses, ...done.addresses.filter((a) => !owned.addresses.some((o) => o.address === a.address && o.device === a.device))],
    links: [...owned.links, ...done.links.filter((l) => !owned.links.includes(l))],
    sysctls,
  };
}
