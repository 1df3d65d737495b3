// The ipvs_sysctl block applied to the kernel: net.ipv4.vs.* of the daemon's own network namespace (/proc/sys/net
// is per namespace of the process that opens it; the files exist once ip_vs is loaded, which the daemon has made
// sure of before). At start and at each reload only the settings whose kernel value differs from the wanted one
// are written, each logged with the value it replaced. Nothing is restored on stop, and a key dropped from the
// block keeps the kernel's current value: these are host settings the kernel keeps using for the table it goes on
// serving after the daemon is gone (and a daemon killed -9 could not restore them anyway), as keepalived leaves
// its lvs_timeouts; docs/ipvs.md.
import { readFile, writeFile } from 'node:fs/promises';
import type { IpvsSysctl, IpvsSysctls } from '../config/model.ts';
import { DirectorError } from './errors.ts';

export interface SysctlPort {
  /** The current value, whitespace as single spaces (sync_threshold prints "3\t50"). */
  read(key: string): Promise<string>;
  write(key: string, value: string): Promise<void>;
}

const DIR = '/proc/sys/net/ipv4/vs';

export const procSysctls: SysctlPort = {
  read: async (key) => (await readFile(`${DIR}/${key}`, 'utf8')).trim().split(/\s+/).join(' '),
  write: (key, value) => writeFile(`${DIR}/${key}`, `${value}\n`),
};

export interface SysctlChange {
  readonly key: string;
  readonly from: string;
  readonly to: string;
  /** file:line of the setting. */
  readonly origin: string;
}

/**
 * Writes what differs, in the block's order. A refused write (or an unreadable key) undoes the writes of this call,
 * newest first, and throws a DirectorError naming the setting, its line and the errno: a start fails before
 * anything runs, a reload is rejected with the kernel as it was.
 */
export async function applyIpvsSysctls(port: SysctlPort, wanted: IpvsSysctls | undefined): Promise<SysctlChange[]> {
  const done: SysctlChange[] = [];
  for (const s of wanted?.values ?? []) {
    const origin = `${s.pos.file}:${s.pos.line}`;
    try {
      const from = await port.read(s.key);
      if (from === s.value) continue;
      await port.write(s.key, s.value);
      done.push({ key: s.key, from, to: s.value, origin });
    } catch (err) {
      await undoIpvsSysctls(port, done);
      throw refused(s, origin, err);
    }
  }
  return done;
}

/** Puts back the values changes replaced, newest first; failures are ignored (the first one is already reported). */
export async function undoIpvsSysctls(port: SysctlPort, changes: readonly SysctlChange[]): Promise<void> {
  for (const c of [...changes].reverse()) await port.write(c.key, c.from).catch(() => undefined);
}

function refused(s: IpvsSysctl, origin: string, err: unknown): DirectorError {
  const e = err as NodeJS.ErrnoException;
  const why = e.code === 'ENOENT' ? 'ENOENT: this kernel has no such setting (or ip_vs is not loaded)' : `${e.code ?? 'error'}: ${e.message}`;
  return new DirectorError('DIRECTOR_SYSCTL', `ipvs_sysctl ${s.key} ${s.value} (${origin}): net.ipv4.vs.${s.key} could not be set: ${why}`, { cause: err });
}
