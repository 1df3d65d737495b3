// Dispatch of a block's statements to keyword handlers. Anything not handled is never dropped silently: a known
// keepalived keyword we do not implement is a warning "not supported", anything else an error with a hint.
import { posOf } from './lexer.ts';
import { closest } from './suggest.ts';
import type { Stmt } from './tree.ts';
import type { ArgReader } from './values.ts';

export type Handler<D> = (s: Stmt, draft: D) => void;

export interface BlockSpec<D> {
  /** How messages name the block, e.g. "vrrp_instance". */
  readonly name: string;
  readonly keywords: Readonly<Record<string, Handler<D>>>;
  /** keepalived keywords of this block that ipvs-ts accepts but does not implement. */
  readonly unsupported?: ReadonlySet<string>;
}

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** `owner` is the statement that opened the block; its arguments name the block in messages. */
export function walk<D>(stmts: readonly Stmt[], spec: BlockSpec<D>, draft: D, r: ArgReader, owner?: Stmt): void {
  const handlers = handlerMap(spec);
  for (const s of stmts) {
    const key = s.key.text;
    const handler = handlers.get(key);
    if (handler) {
      handler(s, draft);
    } else if (spec.unsupported?.has(key)) {
      unsupported(s, r);
    } else {
      const hint = r.problems.full ? undefined : closest(key, [...Object.keys(spec.keywords), ...(spec.unsupported ?? [])]);
      const shown = key.length > 40 ? `${key.slice(0, 40)}…` : key;
      const template = key.includes('|') ? ` ('${printable(shown)}' looks like a grammar template: pick one)` : '';
      const where = owner && owner.args.length > 0 ? `${spec.name} ${owner.args.map((a) => a.text).join(' ')}` : spec.name;
      r.problems.error('unknown-keyword', `unknown keyword '${printable(shown)}' in ${where}${template}${hint ? `; did you mean '${hint}'?` : ''}`, posOf(s.key));
    }
  }
}

/** Keyword tables are plain objects for readability; lookups go through a Map built once per table. */
const maps = new WeakMap<object, Map<string, Handler<never>>>();

function handlerMap<D>(spec: BlockSpec<D>): Map<string, Handler<D>> {
  let m = maps.get(spec.keywords);
  if (!m) {
    m = new Map(Object.entries(spec.keywords));
    maps.set(spec.keywords, m);
  }
  return m as Map<string, Handler<D>>;
}

export function unsupported(s: Stmt, r: ArgReader): void {
  r.problems.warn('unsupported', `not supported: ${s.key.text} (${s.key.file}:${s.key.line}); ignored`, posOf(s.key));
}

/** A keyword that is modelled but that nothing acts on yet: said at its line, with what that means for the user. */
export function notApplied(s: Stmt, r: ArgReader, consequence: string): void {
  r.problems.warn('unsupported', `not applied: ${s.key.text} (${s.key.file}:${s.key.line}) is read but ipvs-ts does not act on it yet; ${consequence}`, posOf(s.key));
}

/** Control characters from binary garbage would garble the terminal. */
function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
