// Which processes a vrrp_track_process counts, as keepalived 2.2's track_process.c decides: the name (comm) or,
// with full_command, argv[0] must equal `process`; with param_match the remaining arguments must then match too.
import type { VrrpTrackProcess } from '../config/model.ts';

/** One process as /proc shows it. */
export interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
  /** The kernel's name for it (/proc/PID/stat, at most 15 characters). */
  readonly comm: string;
  /** /proc/PID/cmdline split at its NULs; empty for kernel threads and zombies. */
  readonly argv: readonly string[];
  readonly zombie: boolean;
}

export function matchesProcess(p: VrrpTrackProcess, e: ProcessEntry): boolean {
  if (e.zombie) return false;
  const name = p.fullCommand ? e.argv[0] : e.comm;
  if (name !== p.process) return false;
  return p.paramMatch === 'none' || paramsMatch(p, e.argv.slice(1));
}

/**
 * keepalived compares the arguments as the NUL-terminated bytes of the command line: `exact` all of them, `partial`
 * the configured ones as the first whole arguments, `initial` the same but the last configured one may be the start
 * of the process's argument.
 */
function paramsMatch(p: VrrpTrackProcess, args: readonly string[]): boolean {
  const actual = args.map((a) => `${a}\0`).join('');
  const wanted = p.params.map((a) => `${a}\0`).join('');
  if (p.paramMatch === 'exact') return actual === wanted;
  if (p.paramMatch === 'partial') return actual.startsWith(wanted);
  return actual.startsWith(wanted.slice(0, -1));
}
