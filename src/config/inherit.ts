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
  // One handler per field, each storing to its field by name: a store through a field name held in a variable is
  // a keyed store that adds a property, which V8 does in its runtime, for every checker of a large config.
  return {
    delay_loop: (s, d) => {
      d.inh.delayLoopMs = r.seconds(s, 1, MAX_SECONDS_MS) ?? d.inh.delayLoopMs;
    },
    connect_timeout: (s, d) => {
      d.inh.connectTimeoutMs = r.seconds(s, 1, MAX_SECONDS_MS) ?? d.inh.connectTimeoutMs;
    },
    delay_before_retry: (s, d) => {
      d.inh.delayBeforeRetryMs = r.seconds(s, 0, MAX_SECONDS_MS) ?? d.inh.delayBeforeRetryMs;
    },
    warmup: (s, d) => {
      d.inh.warmupMs = r.seconds(s, 0, MAX_SECONDS_MS) ?? d.inh.warmupMs;
    },
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
  if (isEmpty(lower)) return upper;
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

/** Field by field rather than for…in, which sets up an enumeration for every real server. */
function isEmpty(i: Inherited): boolean {
  return i.delayLoopMs === undefined && i.connectTimeoutMs === undefined && i.retry === undefined && i.delayBeforeRetryMs === undefined &&
    i.warmupMs === undefined && i.alpha === undefined && i.inhibitOnFailure === undefined && i.virtualhost === undefined;
}
