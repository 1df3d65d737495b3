// Settings that flow down virtual_server → real_server → checker, and the keywords that set them at each level.
import type { Handler } from './blocks.ts';
import { posOf } from './lexer.ts';
import type { Stmt } from './tree.ts';
import type { ArgReader } from './values.ts';

export const MAX_SECONDS_MS = 31 * 86_400_000;

/** Settings that flow down virtual_server → real_server → checker; absent = not set at this level. */
export interface Inherited {
  delayLoopMs?: number;
  connectTimeoutMs?: number;
  retry?: number;
  delayBeforeRetryMs?: number;
  warmupMs?: number;
  alpha?: boolean;
  inhibitOnFailure?: boolean;
  virtualhost?: string;
}

export function inheritedKeywords<D extends { inh: Inherited }>(r: ArgReader): Record<string, Handler<D>> {
  const secs = (field: 'delayLoopMs' | 'connectTimeoutMs' | 'delayBeforeRetryMs' | 'warmupMs', min = 0) => (s: Stmt, d: D) => {
    d.inh[field] = r.seconds(s, min, MAX_SECONDS_MS) ?? d.inh[field];
  };
  return {
    delay_loop: secs('delayLoopMs', 1),
    connect_timeout: secs('connectTimeoutMs', 1),
    delay_before_retry: secs('delayBeforeRetryMs'),
    warmup: secs('warmupMs'),
    retry: (s, d) => {
      d.inh.retry = r.int(s, 0, 1_000_000) ?? d.inh.retry;
    },
    nb_get_retry: (s, d) => {
      r.problems.warn('deprecated', `nb_get_retry is the old name of retry; taken as retry`, posOf(s.key));
      d.inh.retry = r.int(s, 0, 1_000_000) ?? d.inh.retry;
    },
    alpha: (s, d) => {
      d.inh.alpha = r.flag(s);
    },
    inhibit_on_failure: (s, d) => {
      d.inh.inhibitOnFailure = r.flag(s);
    },
    virtualhost: (s, d) => {
      d.inh.virtualhost = r.word(s, 'virtualhost NAME') ?? d.inh.virtualhost;
    },
  };
}


/** The lower level's settings override the upper level's. */
export function inherit(upper: Inherited, lower: Inherited): Inherited {
  let empty = true;
  for (const _ in lower) {
    empty = false;
    break;
  }
  if (empty) return upper;
  const out: Inherited = { ...upper };
  if (lower.delayLoopMs !== undefined) out.delayLoopMs = lower.delayLoopMs;
  if (lower.connectTimeoutMs !== undefined) out.connectTimeoutMs = lower.connectTimeoutMs;
  if (lower.retry !== undefined) out.retry = lower.retry;
  if (lower.delayBeforeRetryMs !== undefined) out.delayBeforeRetryMs = lower.delayBeforeRetryMs;
  if (lower.warmupMs !== undefined) out.warmupMs = lower.warmupMs;
  if (lower.alpha !== undefined) out.alpha = lower.alpha;
  if (lower.inhibitOnFailure !== undefined) out.inhibitOnFailure = lower.inhibitOnFailure;
  if (lower.virtualhost !== undefined) out.virtualhost = lower.virtualhost;
  return out;
}
