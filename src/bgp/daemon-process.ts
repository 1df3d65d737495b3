// What both backends (bird.ts, gobgp.ts) check the same way: the prefixes they may send, and whether a daemon
// left by an earlier ipvs-ts is gone.
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { BgpError } from './errors.ts';

/** Only host routes: a VIP is one address. */
export function checkPrefix(prefix: string): void {
  const [addr = '', len] = prefix.split('/');
  if ((isIPv4(addr) && len === '32') || (isIPv6(addr) && len === '128')) return;
  throw new BgpError('BGP_PREFIX', `'${prefix}' is not ADDRESS/32 or ADDRESS/128`);
}

export function alive(pid: number): boolean {
  try {
    // The state follows the parenthesised command name: Z is a zombie, which holds no files or sockets.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
