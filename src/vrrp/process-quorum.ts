// A vrrp_track_process's quorum as keepalived 2.2's track_process.c keeps it: the number of matching processes
// changes one process at a time; crossing into or out of quorum..quorum_max changes the verdict at once, or after
// fork_delay when a tracked process forked, or after terminate_delay when one exited. A process that appears by
// exec counts at once and cancels a pending terminate_delay. Pure, with the clock passed in.
import type { VrrpTrackProcess } from '../config/model.ts';

export type ProcessCause = 'fork' | 'exec' | 'exit';

export interface QuorumState {
  readonly count: number;
  /** The verdict VRRP sees: quorum ≤ count ≤ quorum_max, as of the last change that counted. */
  readonly up: boolean;
  /** A fork_delay or terminate_delay running: when it ends the verdict follows the count. */
  readonly pending?: { readonly kind: 'fork' | 'terminate'; readonly at: number };
}

type Limits = Pick<VrrpTrackProcess, 'quorum' | 'quorumMax' | 'forkDelayMs' | 'terminateDelayMs'>;

function inQuorum(p: Limits, count: number): boolean {
  return count >= p.quorum && count <= p.quorumMax;
}

/** At start-up (and for a tracker a reload makes new): the verdict is the count's, with no delay. */
export function initialQuorum(p: Limits, count: number): QuorumState {
  return { count, up: inQuorum(p, count) };
}

export function processEvent(p: Limits, s: QuorumState, cause: ProcessCause, now: number): QuorumState {
  if (cause === 'exit') {
    const count = Math.max(0, s.count - 1);
    // Leaving quorum (the count fell below it) or entering it again (the count fell back to quorum_max).
    if (s.count !== p.quorum && count !== p.quorumMax) return { ...s, count };
    if (s.pending?.kind === 'fork') return { count, up: count === p.quorumMax };
    if (p.terminateDelayMs > 0) return { count, up: s.up, pending: { kind: 'terminate', at: now + p.terminateDelayMs } };
    return { count, up: count === p.quorumMax, ...(s.pending ? { pending: s.pending } : {}) };
  }
  const count = s.count + 1;
  if (count !== p.quorum && count !== p.quorumMax + 1) return { ...s, count };
  if (s.pending?.kind === 'terminate') return { count, up: count === p.quorum };
  if (cause === 'fork' && p.forkDelayMs > 0) return { count, up: s.up, pending: { kind: 'fork', at: now + p.forkDelayMs } };
  return { count, up: count === p.quorum, ...(s.pending ? { pending: s.pending } : {}) };
}

/** A pending delay that has run out: the verdict follows the count as it is now. */
export function quorumTimer(p: Limits, s: QuorumState, now: number): QuorumState {
  if (s.pending === undefined || now < s.pending.at) return s;
  return { count: s.count, up: inQuorum(p, s.count) };
}
