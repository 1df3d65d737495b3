// What `ipvs-ts import heartbeat DIR` runs (src/cli/import.ts defines the command): read ha.cf, haresources and
// authkeys, print the node's keepalived.conf, and with --scripts-dir write the resource wrappers it calls.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { planHeartbeat } from '../import/heartbeat.ts';
import { readAuthkeys, readHaCf, readHaresources } from '../import/heartbeat-files.ts';
import { Notes } from '../import/notes.ts';
import { wrapperPath, wrapperScript } from '../import/resource-wrapper.ts';
import { writeVrrpConfig } from '../import/write-vrrp.ts';
import { finish, plural, readInput } from './import-run.ts';

export interface ImportHeartbeatOptions {
  node?: string;
  vrid: number;
  scriptsDir?: string;
}

const DEFAULT_SCRIPTS_DIR = '/etc/keepalived/heartbeat';

export async function runImportHeartbeat(dir: string, opts: ImportHeartbeatOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const notes = new Notes();
  const haCf = join(dir, 'ha.cf');
  const haresources = join(dir, 'haresources');
  const authkeys = join(dir, 'authkeys');
  const resources = readHaresources(readInput(haresources));
  for (const e of resources.errors) notes.error(haresources, e.line, e.message);
  let keys: string | undefined;
  try {
    keys = readInput(authkeys);
  } catch {
    // heartbeat refuses to start without it; VRRP can run without authentication
    notes.warn(authkeys, undefined, 'cannot be read: no authentication');
  }
  // heartbeat knows a node by `uname -n`, which is what hostname() returns.
  const plan = planHeartbeat(
    {
      haCf: { name: haCf, directives: readHaCf(readInput(haCf)) },
      haresources: { name: haresources, groups: resources.groups },
      ...(keys !== undefined ? { authkeys: { name: authkeys, ...readAuthkeys(keys) } } : {}),
    },
    { node: opts.node ?? hostname(), vrid: opts.vrid },
    notes,
  );
  const scriptsDir = opts.scriptsDir ?? DEFAULT_SCRIPTS_DIR;
  const text = writeVrrpConfig(plan, { source: dir, haresources, scriptsDir, scriptsWritten: opts.scriptsDir !== undefined });
  const summary = `${plural(plan.instances.length, 'vrrp instance')} for node ${plan.node}`;
  const code = finish(text, notes, dir, summary, out, err);
  if (code !== 0 || opts.scriptsDir === undefined) return code;
  for (const inst of plan.instances.filter((i) => i.scripts.length)) {
    mkdirSync(scriptsDir, { recursive: true });
    const path = wrapperPath(scriptsDir, inst.name);
    writeFileSync(path, wrapperScript(inst, haresources));
    chmodSync(path, 0o755);
    err.write(`wrote ${path}\n`);
  }
  return 0;
}
