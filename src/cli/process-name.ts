// The process is called ipvs-ts, not node, so `pidof ipvs-ts`, `killall`, `pgrep` and monitoring by process name
// find it. Two names matter on Linux: the command line (ps, systemctl status) carries the sub-command and its
// arguments, and comm (what pidof, killall and pgrep match, at most 15 bytes) is exactly "ipvs-ts".
import { writeFileSync } from 'node:fs';

const PROCESS_NAME = 'ipvs-ts';

export function nameProcess(args: readonly string[]): void {
  // Node writes the title over its original argv (so it fits: `node …/ipvs-ts.js` is longer than `ipvs-ts`) and
  // sets comm to its first 15 bytes, which would be `ipvs-ts daemon `: comm is set again on its own below.
  process.title = [PROCESS_NAME, ...args].join(' ');
  try {
    writeFileSync('/proc/self/comm', PROCESS_NAME);
  } catch {
    // not Linux: the title is all there is
  }
}
