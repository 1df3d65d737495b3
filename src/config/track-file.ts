// Top-level `track_file NAME { … }` (and its old name `vrrp_track_file`) → TrackFile, as keepalived's
// trackers/track_file.c reads it. FILE_CHECKs and VRRP's track_file entries watch the files; a block nothing
// uses says so, once.
import { posOf, type Token } from './lexer.ts';
import { walk, type Mutable } from './blocks.ts';
import type { Config, TrackFile } from './model.ts';
import type { Stmt } from './tree.ts';
import type { ArgReader } from './values.ts';

/** keepalived's bounds for a track_file weight and for the value init_file writes. */
const MAX_WEIGHT = 254;

export function readTrackFile(s: Stmt, r: ArgReader): TrackFile | undefined {
  const p = r.problems;
  if (s.key.text === 'vrrp_track_file') p.warn('deprecated', 'vrrp_track_file is the old name of track_file; taken as track_file', posOf(s.key));
  const named = r.arity(s, 1, 1, (k) => `${k} NAME { file PATH [weight N [reverse]] [init_file [VALUE] [overwrite]] }`);
  const d: Mutable<TrackFile> = { name: named ? (s.args[0] as Token).text : '', path: '', weight: 1, weightReverse: false, pos: posOf(s.key) };
  walk(r.needBlock(s), {
    name: 'track_file',
    keywords: {
      file: (t) => {
        d.path = r.word(t, 'file PATH') ?? d.path;
      },
      weight: (t) => {
        r.noBlock(t);
        if (!r.arity(t, 1, 2, `weight N [reverse]  (N in -${MAX_WEIGHT}..${MAX_WEIGHT})`)) return;
        d.weight = r.integer(t.args[0] as Token, 'track_file weight', -MAX_WEIGHT, MAX_WEIGHT) ?? d.weight;
        const rev = t.args[1];
        if (rev && rev.text !== 'reverse') p.error('bad-value', `weight: expected 'reverse' after the number, got '${rev.text}'`, posOf(rev));
        else d.weightReverse = rev !== undefined;
      },
      init_file: (t) => {
        r.noBlock(t);
        if (!r.arity(t, 0, 2, 'init_file [VALUE] [overwrite]')) return;
        const init = { value: 0, overwrite: false };
        for (const a of t.args) {
          if (a.text === 'overwrite') init.overwrite = true;
          else init.value = r.integer(a, 'init_file value', -MAX_WEIGHT, MAX_WEIGHT) ?? init.value;
        }
        d.init = init;
      },
    },
  }, undefined, r, s);
  if (!d.path) p.error('missing', `track_file ${d.name} has no file line`, posOf(s.key));
  return named ? d : undefined;
}

/**
 * A block that no FILE_CHECK and no VRRP track_file names is said to do nothing (keepalived does not watch it
 * either). Runs on the whole config, as the users may come later in the file.
 */
export function warnUnwatchedTrackFiles(c: Config, r: ArgReader): void {
  if (c.trackFiles.length === 0) return;
  const watched = new Set<string>();
  for (const vs of c.virtualServers) {
    for (const rs of vs.realServers) for (const ch of rs.checkers) if (ch.type === 'FILE_CHECK') watched.add(ch.trackFile.name);
  }
  for (const x of [...c.vrrpInstances, ...c.vrrpSyncGroups]) for (const t of x.trackFiles) watched.add(t.name);
  for (const f of c.trackFiles) {
    if (watched.has(f.name)) continue;
    r.problems.warn('unsupported', `not applied: track_file ${f.name} (${f.pos.file}:${f.pos.line}) is read but no FILE_CHECK, vrrp_instance or vrrp_sync_group tracks it; its file is not watched`, f.pos);
  }
}
