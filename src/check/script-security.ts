// enable_script_security: a script that will run as root must not be replaceable by anyone else, so every
// component of its resolved path (the file and each directory above it) must be owned by root and writable by
// nobody else (no world write; group write only for group root). keepalived applies the same rule.
import { statSync, realpathSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { CheckError } from './errors.ts';

export function assertScriptSecure(program: string, env: NodeJS.ProcessEnv = process.env): void {
  const path = realpathSync(findProgram(program, env));
  for (let p = path; ; p = dirname(p)) {
    const st = statSync(p);
    const why =
      st.uid !== 0 ? `is owned by uid ${st.uid}` : st.mode & 0o002 ? 'is world-writable' : st.mode & 0o020 && st.gid !== 0 ? `is writable by group ${st.gid}` : undefined;
    if (why) throw new CheckError('SCRIPT_INSECURE', `refusing ${program}: ${p} ${why} (enable_script_security)`);
    if (p === dirname(p)) return;
  }
}

/** The file execvp would run: as given when it contains a slash, else the first match on PATH. */
export function findProgram(program: string, env: NodeJS.ProcessEnv = process.env): string {
  if (program.includes('/')) return isAbsolute(program) ? program : resolve(program);
  for (const dir of (env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    const candidate = join(dir, program);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new CheckError('SCRIPT_SPAWN', `${program}: not found on PATH`);
}
