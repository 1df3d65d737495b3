// Token stream → statement tree. A statement is a keyword, the rest of its line as arguments, and optionally a
// `{ … }` block, opened on the same line or alone on the next one. Brace errors are reported where the user can
// fix them: a `}` with nothing open, or the `{` that is never closed.
import { posOf, type Token } from './lexer.ts';
import type { Problems } from './problems.ts';

export interface Stmt {
  readonly key: Token;
  readonly args: readonly Token[];
  /** Present when the statement opens a block (possibly empty). */
  readonly block?: readonly Stmt[];
}

/** keepalived's deepest real nesting is 4 (virtual_server → real_server → HTTP_GET → url). */
const MAX_DEPTH = 16;

export function buildTree(tokens: readonly Token[], problems: Problems): Stmt[] {
  let i = 0;

  function skipEols(): void {
    while (tokens[i]?.kind === 'eol') i++;
  }

  /** Skips a too-deeply nested block without recursing, so hostile input cannot overflow the stack. */
  function skipBlock(open: Token): void {
    problems.error('syntax', `blocks nested deeper than ${MAX_DEPTH} levels`, posOf(open));
    let depth = 1;
    while (depth > 0 && i < tokens.length) {
      const k = tokens[i++]?.kind;
      if (k === '{') depth++;
      else if (k === '}') depth--;
    }
    if (depth > 0) problems.error('unbalanced-braces', `unbalanced braces: the '{' opened here is never closed (end of input reached)`, posOf(open));
  }

  function parseList(open: Token | undefined, depth: number): Stmt[] {
    const list: Stmt[] = [];
    for (;;) {
      skipEols();
      const t = tokens[i];
      if (t === undefined) {
        if (open) problems.error('unbalanced-braces', `unbalanced braces: the '{' opened here is never closed (end of input reached)`, posOf(open));
        return list;
      }
      if (t.kind === '}') {
        i++;
        if (open) return list;
        problems.error('unbalanced-braces', `unbalanced braces: '}' without a matching '{'`, posOf(t));
        continue;
      }
      if (t.kind === '{') {
        i++;
        problems.error('syntax', `'{' without a keyword before it`, posOf(t));
        if (depth >= MAX_DEPTH) skipBlock(t);
        else parseList(t, depth + 1);
        continue;
      }
      i++;
      const args: Token[] = [];
      while (tokens[i]?.kind === 'word' || tokens[i]?.kind === 'string') args.push(tokens[i++] as Token);
      let next = tokens[i];
      if (next?.kind === 'eol') {
        // keepalived accepts the opening brace alone on the following line.
        let j = i;
        while (tokens[j]?.kind === 'eol') j++;
        if (tokens[j]?.kind === '{') {
          i = j;
          next = tokens[i];
        }
      }
      if (next?.kind === '{') {
        i++;
        if (depth >= MAX_DEPTH) {
          skipBlock(next);
          list.push({ key: t, args });
        } else {
          list.push({ key: t, args, block: parseList(next, depth + 1) });
        }
      } else {
        list.push({ key: t, args });
      }
    }
  }

  return parseList(undefined, 0);
}
