// Script users by name, from /etc/passwd and /etc/group (Node has no getpwnam). Users that only exist in other
// NSS sources (LDAP, sssd) are not found and the script is refused with SCRIPT_USER.
import { readFileSync } from 'node:fs';
import type { ScriptUser } from '../config/model.ts';
import { CheckError } from './errors.ts';

export interface Credentials {
  readonly uid: number;
  readonly gid: number;
}

export function resolveUser(user: ScriptUser, files = { passwd: '/etc/passwd', group: '/etc/group' }): Credentials {
  const entry = findEntry(files.passwd, user.user);
  if (!entry) throw new CheckError('SCRIPT_USER', `script user ${user.user} not found in ${files.passwd}`);
  const uid = Number(entry[2]);
  let gid = Number(entry[3]);
  if (user.group !== undefined) {
    const group = findEntry(files.group, user.group);
    if (!group) throw new CheckError('SCRIPT_USER', `script group ${user.group} not found in ${files.group}`);
    gid = Number(group[2]);
  }
  return { uid, gid };
}

function findEntry(file: string, name: string): string[] | undefined {
  const numeric = /^\d+$/.test(name);
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const fields = line.split(':');
    if (fields.length >= 4 && (fields[0] === name || (numeric && fields[2] === name))) return fields;
  }
  return undefined;
}
