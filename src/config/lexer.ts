// One logical line of keepalived.conf → tokens. keepalived's rules: `!` and `#` start a comment anywhere outside
// double quotes (`\#`, `\!` escape them), `{` and `}` are tokens of their own even when glued to a word
// (`real_server 1.2.3.4 80{`), and a double-quoted string is one token.
import type { SourcePos } from './model.ts';

export type TokenKind = 'word' | 'string' | '{' | '}' | 'eol';

/** Flat fields rather than a nested SourcePos: a large config has millions of tokens. */
export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export function posOf(t: Token): SourcePos {
  return { file: t.file, line: t.line, col: t.col };
}

export interface LexIssue {
  readonly message: string;
  readonly col: number;
}

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const BANG = 0x21;
const HASH = 0x23;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const DOLLAR = 0x24;
/** Longest `${NAME}` looked for, so a line of unclosed `${` stays linear. */
const MAX_NAME = 128;

/** 1 for ASCII characters that simply continue a word; blanks, braces, quote, comment starts, `$` and `\` are 0. */
const WORD_CHAR = new Uint8Array(128).map((_, c) =>
  isBlank(c) || c === OPEN || c === CLOSE || c === QUOTE || c === BANG || c === HASH || c === DOLLAR || c === BACKSLASH ? 0 : 1,
);

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB || c === CR || c === 0x0b || c === 0x0c;
}

/**
 * Splits one line. `col0` is the 1-based column of text[0]. Issues (an unterminated quote) are returned, not thrown:
 * the caller positions them.
 */
export function lexLine(text: string, file: string, line: number, out: Token[], col0 = 1): LexIssue | undefined {
  return lexRange(text, 0, text.length, file, line, out, col0);
}

/** Splits text[from, to), one line of a larger text, without cutting the line out first; text[from] is column 1. */
export function lexRange(text: string, from: number, n: number, file: string, line: number, out: Token[], col1 = 1): LexIssue | undefined {
  const col0 = col1 - from;
  let i = from;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isBlank(c)) {
      i++;
      continue;
    }
    if (c === BANG || c === HASH) return undefined;
    if (c === OPEN || c === CLOSE) {
      out.push({ kind: c === OPEN ? '{' : '}', text: c === OPEN ? '{' : '}', file, line, col: col0 + i });
      i++;
      continue;
    }
    if (c === QUOTE) {
      const end = indexWithin(text, QUOTE, i + 1, n);
      if (end < 0) return { message: 'unterminated quoted string (a closing " is missing on this line)', col: col0 + i };
      out.push({ kind: 'string', text: own(text.slice(i + 1, end), out), file, line, col: col0 + i });
      i = end + 1;
      continue;
    }
    const start = i;
    let escaped = false;
    while (i < n) {
      const d = text.charCodeAt(i);
      // One table lookup per character: most characters of a word are ordinary.
      if (d >= 128 || WORD_CHAR[d] === 1) {
        i++;
        continue;
      }
      if (d === DOLLAR && text.charCodeAt(i + 1) === OPEN) {
        // `${NAME}` is one piece of a word, not a block.
        const close = indexWithin(text, CLOSE, i + 2, Math.min(n, i + 2 + MAX_NAME));
        if (close > 0) {
          i = close + 1;
          continue;
        }
      }
      if (d === BACKSLASH && i + 1 < n) {
        const e = text.charCodeAt(i + 1);
        if (e === HASH || e === BANG) {
          escaped = true;
          i += 2;
          continue;
        }
      }
      if (d === DOLLAR || d === BACKSLASH) {
        i++;
        continue;
      }
      break;
    }
    if (i === start) i++; // never stall on a character no rule above consumes
    let word = text.slice(start, i);
    if (escaped) word = word.replace(/\\([#!])/g, '$1');
    out.push({ kind: 'word', text: own(word, out), file, line, col: col0 + start });
  }
  return undefined;
}

/**
 * V8 makes a substring of 13 characters or more a view into the whole text (a sliced string): one such value kept
 * in the model would keep a file of millions of lines alive. Arguments that long are copied out; keywords (the
 * first token of a line) are not, since only the dispatch and messages read them.
 */
const VIEW_MIN = 13;
/** Longer than this, a copy goes through a concatenation rather than one call with a char code per argument. */
const COPY_BY_CODES_MAX = 1024;
const codes: number[] = [];

function own(s: string, line: readonly Token[]): string {
  return line.length === 0 ? s : detached(s);
}

/** `s`, or a copy of it that is not a view into a larger string. */
export function detached(s: string): string {
  if (s.length < VIEW_MIN) return s;
  if (s.length > COPY_BY_CODES_MAX) return (` ${s}`).slice(1);
  codes.length = s.length;
  for (let i = 0; i < s.length; i++) codes[i] = s.charCodeAt(i);
  return String.fromCharCode.apply(null, codes);
}

/** indexOf bounded to the line: text is the whole file, and an unbounded search per token would be quadratic. */
function indexWithin(text: string, code: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === code) return i;
  return -1;
}
