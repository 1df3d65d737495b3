// Top-level `garp_group { … }` → GarpGroup, as keepalived 2.2.7's vrrp_parser.c reads it, and the checks that
// need every group (an interface belongs to one group at most).
import { posOf } from './lexer.ts';
import { walk, type Mutable } from './blocks.ts';
import type { GarpGroup } from './model.ts';
import type { Problems } from './problems.ts';
import type { Stmt } from './tree.ts';
import type { ArgReader } from './values.ts';

/** keepalived reads the intervals as microseconds up to INT_MAX. */
const MAX_INTERVAL_MS = 2_147_483;

export function readGarpGroup(s: Stmt, r: ArgReader): GarpGroup | undefined {
  const p = r.problems;
  r.arity(s, 0, 0, 'garp_group { garp_interval SECONDS  gna_interval SECONDS  interface IF | interfaces { IF … } }');
  const d: Mutable<GarpGroup> & { interfaces: string[] } = { interfaces: [], pos: posOf(s.key) };
  const interval = (t: Stmt): number | undefined => {
    const v = r.seconds(t, 0, MAX_INTERVAL_MS);
    // keepalived remarks on it too: a switch that needs a second between ARPs takes minutes to learn many VIPs.
    if (v !== undefined && v >= 1000) p.warn('lenient', `${t.key.text} ${v / 1000} s is very large: each address of a new master is announced at most once per interval on these interfaces`, posOf(t.key));
    return v;
  };
  walk(r.needBlock(s), {
    name: 'garp_group',
    keywords: {
      garp_interval: (t) => {
        d.garpIntervalMs = interval(t) ?? d.garpIntervalMs;
      },
      gna_interval: (t) => {
        d.gnaIntervalMs = interval(t) ?? d.gnaIntervalMs;
      },
      interface: (t) => {
        const name = r.word(t, 'interface IF');
        if (name !== undefined) d.interfaces.push(name);
      },
      interfaces: (t) => {
        r.arity(t, 0, 0, 'interfaces { IF … }');
        const block = r.needBlock(t);
        if (block.length === 0) p.warn('missing', 'garp_group: the interfaces block is empty', posOf(t.key));
        for (const e of block) {
          r.noBlock(e);
          for (const w of [e.key, ...e.args]) d.interfaces.push(w.text);
        }
      },
    },
  }, undefined, r, s);
  // keepalived drops such a group with an error; refusing it keeps a user from believing the switch is spared.
  if (d.garpIntervalMs === undefined && d.gnaIntervalMs === undefined) {
    p.error('missing', 'garp_group sets neither garp_interval nor gna_interval', d.pos);
    return undefined;
  }
  if (d.interfaces.length === 0) p.warn('missing', 'garp_group names no interface (interface IF or interfaces { IF … }), so it paces nothing', d.pos);
  return d;
}

/** An interface in two groups: keepalived keeps the first and reports the second; ipvs-ts refuses it. */
export function checkGarpGroups(groups: readonly GarpGroup[], p: Problems): void {
  const owner = new Map<string, GarpGroup>();
  for (const g of groups) {
    for (const name of g.interfaces) {
      const first = owner.get(name);
      if (first === undefined) owner.set(name, g);
      else if (first !== g) p.error('duplicate', `garp_group: interface ${name} is already in the garp_group at ${first.pos.file}:${first.pos.line}`, g.pos);
    }
  }
}
