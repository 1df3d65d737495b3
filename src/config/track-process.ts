// Top-level `vrrp_track_process NAME { … }` → VrrpTrackProcess, as keepalived 2.2's vrrp_parser.c reads it,
// including its order-dependent quorum/quorum_max checks and what giving arguments implies.
import { posOf, type Token } from './lexer.ts';
import { walk, type Mutable } from './blocks.ts';
import type { VrrpTrackProcess } from './model.ts';
import type { Stmt } from './tree.ts';
import type { ArgReader } from './values.ts';

/** keepalived's quorum_max when none is given (UINT_MAX): no upper bound in practice. */
export const QUORUM_MAX_UNBOUNDED = 4_294_967_295;

export function readVrrpTrackProcess(s: Stmt, r: ArgReader): VrrpTrackProcess | undefined {
  const p = r.problems;
  const named = r.arity(s, 1, 1, (k) => `${k} NAME { process PROC [ARG…] … }`);
  const name = named ? (s.args[0] as Token).text : '';
  const d: Mutable<VrrpTrackProcess> & { params: string[] } = {
    name, process: '', params: [], paramMatch: 'none', fullCommand: false, weight: 0, weightReverse: false,
    quorum: 1, quorumMax: QUORUM_MAX_UNBOUNDED, forkDelayMs: 0, terminateDelayMs: 0, pos: posOf(s.key),
  };
  const where = `vrrp_track_process ${name}`;
  const delay = (t: Stmt, fork: boolean, terminate: boolean): void => {
    const v = r.seconds(t, 1, 3_600_000);
    if (v === undefined) return;
    if (fork) d.forkDelayMs = v;
    if (terminate) d.terminateDelayMs = v;
  };
  walk(r.needBlock(s), {
    name: where,
    keywords: {
      process: (t) => {
        r.noBlock(t);
        if (!r.arity(t, 1, Infinity, 'process NAME [ARG…]')) return;
        if (d.process) {
          p.warn('duplicate', `${where}: the process is already set to ${d.process}; this line is ignored (as keepalived does)`, posOf(t.key));
          return;
        }
        d.process = (t.args[0] as Token).text;
        d.params = t.args.slice(1).map((a) => a.text);
        // Arguments are only on the command line: they imply full_command and, unless given, an exact match.
        if (d.params.length > 0) {
          if (d.paramMatch === 'none') d.paramMatch = 'exact';
          d.fullCommand = true;
        }
      },
      param_match: (t) => {
        r.noBlock(t);
        if (!r.arity(t, 0, 1, 'param_match [initial|partial]')) return;
        const how = t.args[0] === undefined ? 'exact' : r.oneOf(t.args[0], 'param_match', ['initial', 'partial'] as const);
        if (how === undefined) return;
        d.paramMatch = how;
        d.fullCommand = true;
      },
      full_command: (t) => {
        d.fullCommand = r.flag(t);
      },
      weight: (t) => {
        r.noBlock(t);
        if (!r.arity(t, 1, 2, 'weight N [reverse]  (N in -254..254)')) return;
        const w = r.integer(t.args[0] as Token, 'weight', -254, 254);
        const rev = t.args[1];
        if (rev && rev.text !== 'reverse') p.error('bad-value', `weight: expected 'reverse' after the number, got '${rev.text}'`, posOf(rev));
        if (w === undefined) return;
        d.weight = w;
        d.weightReverse = rev?.text === 'reverse';
      },
      quorum: (t) => {
        const q = r.int(t, 1, 65535);
        if (q === undefined) return;
        if (q > d.quorumMax) p.error('range', `${where}: quorum ${q} is greater than quorum_max ${d.quorumMax}`, posOf(t.key));
        else d.quorum = q;
      },
      quorum_max: (t) => {
        const q = r.int(t, 0, 65535);
        if (q === undefined) return;
        // keepalived lets quorum_max 0 mean "none may run" while quorum was not raised.
        if ((q > 0 || d.quorum > 1) && q < d.quorum) {
          p.error('range', `${where}: quorum_max ${q} is less than quorum ${d.quorum}`, posOf(t.key));
          return;
        }
        d.quorumMax = q;
        if (q === 0) d.quorum = 0;
        else if (d.quorum === 0) d.quorum = 1;
      },
      delay: (t) => delay(t, true, true),
      fork_delay: (t) => delay(t, true, false),
      terminate_delay: (t) => delay(t, false, true),
    },
  }, undefined, r, s);
  if (!d.process) p.error('missing', `${where} has no process line`, posOf(s.key));
  return named && d.process ? d : undefined;
}
