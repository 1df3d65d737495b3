// File-system questions node:fs leaves out.
import { lstatSync } from 'node:fs';

/** Whether anything is at `path`, a dangling symbolic link included (lstat; existsSync follows the link and says no). */
export function lexists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
