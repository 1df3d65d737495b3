// What an include pattern names, as keepalived's glob(3) call (GLOB_BRACE, lib/parser.c) sees it: csh braces
// expanded first, each alternative globbed (or, without wildcards, looked up), and which alternatives named
// nothing because a file or directory on their path is missing. source.ts decides what of that is an error.
import { globSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { lexists } from '../sys/files.ts';

export interface IncludeMatch {
  /** What matched, in glob's order: the brace alternatives in turn, each one's matches sorted. */
  readonly paths: readonly string[];
  /** Alternatives that named nothing because a file, or the directory a wildcard looks in, does not exist. */
  readonly missing: readonly string[];
  readonly braces: boolean;
}

const WILDCARD = /[*?[]/;
/** `{a,b}{c,d}…` multiplies; no real include comes near this. */
const MAX_ALTERNATIVES = 256;
/** PATH_MAX: glob(3) takes nothing longer, and brace scanning stays cheap. */
const MAX_PATTERN = 4096;

/** Undefined when the pattern is longer than PATH_MAX or its braces expand to more than MAX_ALTERNATIVES patterns. */
export function matchInclude(pattern: string, baseDir: string): IncludeMatch | undefined {
  const alternatives = pattern.length > MAX_PATTERN ? undefined : expandBraces(pattern);
  if (!alternatives) return undefined;
  const paths: string[] = [];
  const missing: string[] = [];
  for (const alt of alternatives) {
    const abs = isAbsolute(alt) ? alt : resolve(baseDir, alt);
    if (!WILDCARD.test(alt)) {
      if (lexists(abs)) paths.push(abs);
      else missing.push(abs);
      continue;
    }
    const found = globSync(abs).sort();
    paths.push(...found);
    if (found.length === 0 && !lexists(literalDir(abs))) missing.push(abs);
  }
  return { paths, missing, braces: alternatives.length > 1 || alternatives[0] !== pattern };
}

/** The directory a wildcard pattern starts looking in: its path up to the first segment with a wildcard. */
function literalDir(pattern: string): string {
  let dir = dirname(pattern);
  while (WILDCARD.test(dir)) dir = dirname(dir);
  return dir;
}

/** csh brace expansion: `a{b,c{d,e}}f` → abf acdf acef; a brace without a comma inside is literal, as in glob(3). */
function expandBraces(pattern: string): string[] | undefined {
  const out: string[] = [];
  const pending = [pattern];
  for (let p = pending.pop(); p !== undefined; p = pending.pop()) {
    const group = firstGroup(p);
    if (!group) {
      out.push(p);
      continue;
    }
    const { open, close, commas } = group;
    const cuts = [open, ...commas, close];
    const parts = cuts.slice(1).map((end, i) => p.slice((cuts[i] ?? 0) + 1, end));
    // Pushed in reverse so they come off the stack, and so out of it, in written order.
    for (const part of parts.reverse()) pending.push(p.slice(0, open) + part + p.slice(close + 1));
    if (out.length + pending.length > MAX_ALTERNATIVES) return undefined;
  }
  return out;
}

/** The first `{…}` holding a comma at its own level, with that level's commas. */
function firstGroup(p: string): { open: number; close: number; commas: number[] } | undefined {
  for (let open = p.indexOf('{'); open >= 0; open = p.indexOf('{', open + 1)) {
    if (p[open - 1] === '\\') continue;
    let depth = 0;
    const commas: number[] = [];
    for (let i = open; i < p.length; i++) {
      const c = p[i];
      if (p[i - 1] === '\\') continue;
      if (c === '{') depth++;
      else if (c === ',' && depth === 1) commas.push(i);
      else if (c === '}' && --depth === 0) {
        if (commas.length > 0) return { open, close: i, commas };
        break;
      }
    }
  }
  return undefined;
}
