// Turns a keepalived.conf and everything it includes into one token stream: physical lines → logical lines
// (trailing `\` continues), `$NAME=value` definitions and their `$NAME` / `${NAME}` uses, `~SEQ`/`~LST` lines
// repeated, `include GLOB` (and keepalived's stricter include variants) relative to the including file; loops are
// positioned errors. Lines end with an `eol` token because keepalived's grammar is line-based: a keyword's
// arguments are the rest of its line.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { matchInclude } from './include.ts';
import { detached, lexLine, lexRange, posOf, type Token } from './lexer.ts';
import type { Problems } from './problems.ts';
import type { SourcePos } from './model.ts';
import { isSequence, parseSequence } from './sequence.ts';

export type TokenSink = (t: Token) => void;

/** Reads a file and its includes, feeding every token to `sink`; returns the files read, the main one first. */
export function readConfigFile(path: string, problems: Problems, sink: TokenSink): string[] {
  const reader = new SourceReader(problems, sink);
  const text = reader.read(path);
  if (text !== undefined) reader.readText(text, path);
  return reader.files;
}

/** The same for text in memory; `file` names it in messages and anchors relative includes. */
export function readConfigText(text: string, file: string, problems: Problems, sink: TokenSink): string[] {
  const reader = new SourceReader(problems, sink);
  reader.readText(text, file);
  return reader.files;
}

const DEFINITION = /^\$([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;
const USE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;
const MAX_INCLUDE_DEPTH = 32;
const MAX_EXPANSION_DEPTH = 8;
/** Definitions that use definitions can grow exponentially; no real config comes near this. */
const MAX_EXPANSION_CHARS = 65_536;
/** The lines one `~SEQ`/`~LST` line may become, nested ones included (keepalived's own example makes 65,288). */
const MAX_SEQUENCE_LINES = 262_144;
const DOLLAR = 0x24;
const AT = 0x40;
const TILDE = 0x7e;
const LOWER_I = 0x69;
const BACKSLASH_CODE = 0x5c;

/** An include keyword starting a line; its patterns are the rest of the line, read before braces are tokens. */
const INCLUDE_LINE = /^include[rmwba]?(?=[ \t]|$)/;
/** One include pattern: a double-quoted string or a run of non-blanks. */
const INCLUDE_ARG = /"([^"]*)"|[^ \t"]+/g;
/** What each include keyword treats as an error rather than a warning (keepalived's include_t flags). */
const READABLE = 1; // a match that is a directory, unreadable, or not a regular non-executable file
const MATCH = 2; // nothing matches a pattern without wildcards, or a directory on its path is missing
const WILDCARD = 4; // nothing matches a pattern with wildcards
const BRACE = 8; // some brace alternative names nothing
const INCLUDES: ReadonlyMap<string, number> = new Map([
  ['include', 0],
  ['includer', READABLE],
  ['includem', READABLE | MATCH],
  ['includew', READABLE | MATCH | WILDCARD],
  ['includeb', READABLE | BRACE],
  ['includea', READABLE | MATCH | WILDCARD | BRACE],
]);
/** The variant that would make a failure of each kind an error, for the warning's hint. */
const STRICTER: Readonly<Record<number, string>> = { [READABLE]: 'includer', [MATCH]: 'includem', [WILDCARD]: 'includew', [BRACE]: 'includeb' };

/** Lines end with this one shared token: millions of lines, and nothing ever reports an end of line. */
const EOL: Token = { kind: 'eol', text: '', file: '', line: 0, col: 0 };

function isBlankCode(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0b || c === 0x0c;
}

function isInclude(t: Token): boolean {
  return t.kind === 'word' && t.text.startsWith('include') && INCLUDES.has(t.text);
}

class SourceReader {
  readonly files: string[] = [];
  readonly #problems: Problems;
  readonly #sink: TokenSink;
  /** Tokens of the logical line being read. */
  readonly #line: Token[] = [];
  readonly #defs = new Map<string, string>();
  /** Real paths of the files being read, outermost first: a repeat is an include loop. */
  readonly #stack: string[] = [];

  constructor(problems: Problems, sink: TokenSink) {
    this.#problems = problems;
    this.#sink = sink;
  }

  read(path: string): string | undefined {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      this.#problems.error('io', `cannot read ${path}: ${readError(err)}`);
      return undefined;
    }
  }

  readText(text: string, file: string): void {
    const real = realPath(file);
    this.files.push(file);
    this.#stack.push(real);
    try {
      this.#readLines(text, file);
    } finally {
      this.#stack.pop();
    }
  }

  #readLines(text: string, file: string): void {
    const nul = text.indexOf('\0');
    if (nul >= 0) {
      const before = text.slice(0, nul);
      const line = before.split('\n').length;
      const col = nul - before.lastIndexOf('\n');
      this.#problems.error('syntax', 'binary data (a NUL byte): this is not a keepalived.conf text file', { file, line, col });
      return;
    }
    // Lines are lexed in place, by offsets, rather than split or cut out: a large file has millions of them.
    let at = 0;
    let lineNo = 0;
    let nextDollar = text.indexOf('$');
    const line = this.#line;
    let dollar = false;
    while (at <= text.length) {
      const from = at;
      let end = text.indexOf('\n', at);
      if (end < 0) end = text.length;
      at = end + 1;
      lineNo++;
      if (end > from && text.charCodeAt(end - 1) === 13) end--;
      let first = from;
      while (first < end && isBlankCode(text.charCodeAt(first))) first++;
      const c0 = first < end ? text.charCodeAt(first) : -1;

      if (c0 === DOLLAR && line.length === 0) {
        const def = DEFINITION.exec(text.slice(first, end));
        if (def) {
          let value = stripComment(def[2] ?? '').trimEnd();
          while (value.endsWith('\\') && at <= text.length) {
            let next = text.indexOf('\n', at);
            if (next < 0) next = text.length;
            value = `${value.slice(0, -1).trimEnd()}\n${stripComment(text.slice(at, next).replace(/\r$/, '')).trim()}`;
            at = next + 1;
            lineNo++;
          }
          this.#defs.set(def[1] ?? '', value.endsWith('\\') ? value.slice(0, -1) : value);
          continue;
        }
      }
      if (c0 === AT && line.length === 0) {
        this.#problems.warn('unsupported', `not supported: @config_id conditional lines (${file}:${lineNo}); line ignored`, { file, line: lineNo, col: first - from + 1 });
        continue;
      }
      if (c0 === TILDE && line.length === 0 && isSequence(text.slice(first, first + 4))) {
        this.#sequence(text.slice(first, end), file, lineNo, first - from + 1, { left: MAX_SEQUENCE_LINES });
        continue;
      }
      // (An include line continued with `\` is left to the lexer: the patterns must be on their line.)
      if (c0 === LOWER_I && line.length === 0 && !endsWithBackslash(text, first, end)) {
        const keyword = INCLUDE_LINE.exec(text.slice(first, Math.min(end, first + 9)))?.[0];
        if (keyword !== undefined) {
          this.#includeLine(keyword, text.slice(first, end), file, lineNo, first - from + 1);
          continue;
        }
      }

      let last = end - 1;
      while (last >= first && isBlankCode(text.charCodeAt(last))) last--;
      const continued = last >= first && text.charCodeAt(last) === BACKSLASH_CODE;
      // From the first non-blank: the indentation was just skipped, and every line of a large file has some.
      const issue = lexRange(text, first, continued ? last : end, file, lineNo, line, first - from + 1);
      if (issue) this.#problems.error('syntax', issue.message, { file, line: lineNo, col: issue.col });
      if (nextDollar >= 0 && nextDollar < from) nextDollar = text.indexOf('$', from);
      dollar ||= nextDollar >= 0 && nextDollar < end;
      if (continued && at <= text.length) continue;
      this.#endLine(dollar);
      dollar = false;
    }
  }

  /** Hands on the logical line just read: plain lines directly, lines with an include or a `$` expanded first. */
  #endLine(dollar: boolean): void {
    const line = this.#line;
    if (line.length === 0) return;
    const first = line[0] as Token;
    if (dollar || isInclude(first)) {
      this.#emitLine(line.splice(0));
      return;
    }
    const sink = this.#sink;
    for (let j = 0; j < line.length; j++) sink(line[j] as Token);
    sink(EOL);
    // Emptied by pops, which keep the array's room: `length = 0` frees it, and every line would grow it anew.
    while (line.length > 0) line.pop();
  }

  #emitLine(line: Token[]): void {
    const expanded = line.some(hasDollar) ? this.#substitute(line, 0) : [line];
    for (const tokens of expanded) {
      const first = tokens[0];
      if (!first) continue;
      if (isInclude(first)) this.#include(first, tokens.slice(1));
      else {
        for (const t of tokens) this.#sink(t);
        this.#sink(EOL);
      }
    }
  }

  /**
   * Repeats the rest of a `~SEQ`/`~LST` line with its variables set to each value in turn; the rest may itself be
   * such a line (nested loops), a definition, or any line using them. `budget` bounds the lines made in all.
   */
  #sequence(text: string, file: string, lineNo: number, col: number, budget: { left: number }): void {
    const pos = { file, line: lineNo, col };
    const seq = parseSequence(text, (s) => this.#expand(s));
    if (typeof seq === 'string') {
      this.#problems.error('syntax', seq, pos);
      return;
    }
    const rest = text.slice(seq.rest);
    for (const row of seq.rows) {
      if (budget.left-- <= 0) {
        if (budget.left === -1) this.#problems.error('syntax', `this ~SEQ/~LST line makes more than ${MAX_SEQUENCE_LINES} lines; the rest are not made`, pos);
        return;
      }
      seq.names.forEach((name, i) => this.#defs.set(name, row[i] ?? ''));
      this.#repeat(rest, file, lineNo, col + seq.rest, budget);
    }
  }

  #repeat(text: string, file: string, lineNo: number, col: number, budget: { left: number }): void {
    if (isSequence(text)) return this.#sequence(text, file, lineNo, col, budget);
    const def = DEFINITION.exec(text);
    if (def) {
      this.#defs.set(def[1] ?? '', stripComment(def[2] ?? '').trimEnd());
      return;
    }
    const issue = lexLine(text, file, lineNo, this.#line, col);
    if (issue) this.#problems.error('syntax', issue.message, { file, line: lineNo, col: issue.col });
    this.#endLine(true);
  }

  /** `$NAME` and `${NAME}` replaced in a piece of text that is not lexed (an include pattern, a ~SEQ number). */
  #expand(text: string): string {
    if (!text.includes('$')) return text;
    return text.replace(USE, (whole, braced?: string, bare?: string) => this.#defs.get(braced ?? bare ?? '') ?? whole);
  }

  /** Replaces `$NAME` uses; a multi-line definition turns one line into several. */
  #substitute(line: Token[], depth: number): Token[][] {
    const lines: Token[][] = [[]];
    let changed = false;
    for (const t of line) {
      const current = lines[lines.length - 1] ?? [];
      if ((t.kind !== 'word' && t.kind !== 'string') || !t.text.includes('$')) {
        current.push(t);
        continue;
      }
      let undefinedName: string | undefined;
      const text = t.text.replace(USE, (whole, braced: string | undefined, bare: string | undefined) => {
        const name = braced ?? bare ?? '';
        const value = this.#defs.get(name);
        if (value === undefined) {
          undefinedName ??= name;
          return whole;
        }
        return value;
      });
      if (undefinedName !== undefined && t.kind === 'word' && depth === 0) {
        this.#problems.warn('undefined-variable', `$${undefinedName} is not defined (define it with a line "$${undefinedName}=value" before use); kept as written`, posOf(t));
      }
      if (text === t.text) {
        current.push(t);
        continue;
      }
      if (text.length > MAX_EXPANSION_CHARS) {
        this.#problems.error('syntax', `$definitions here expand to more than ${MAX_EXPANSION_CHARS} characters; not expanded`, posOf(t));
        current.push(t);
        continue;
      }
      changed = true;
      // What a $definition gives can be a view into the file (its value cut from the definition's line): copied.
      if (t.kind === 'string' || depth >= MAX_EXPANSION_DEPTH) {
        current.push({ ...t, text: detached(text) });
      } else {
        const parts = text.split('\n');
        parts.forEach((part, k) => {
          if (k > 0) lines.push([]);
          const target = lines[lines.length - 1] ?? [];
          const relexed: Token[] = [];
          const issue = lexLine(part, t.file, t.line, relexed, t.col);
          if (issue) this.#problems.error('syntax', `in the value of a $definition: ${issue.message}`, posOf(t));
          for (const r of relexed) target.push({ ...r, text: detached(r.text), col: t.col });
        });
      }
    }
    // Many small words can blow up as surely as one long one.
    let size = 0;
    for (const l of lines) for (const t of l) size += t.text.length + 1;
    if (size > MAX_EXPANSION_CHARS) {
      this.#problems.error('syntax', `$definitions here expand to more than ${MAX_EXPANSION_CHARS} characters; not expanded`, posOf(line[0] as Token));
      return [line];
    }
    // A definition's value may itself use definitions.
    if (changed && depth < MAX_EXPANSION_DEPTH && lines.some((l) => l.some(hasDollar))) {
      return lines.flatMap((l) => this.#substitute(l, depth + 1));
    }
    return lines;
  }

  /**
   * An include line as keepalived reads it, from the raw text: `{a,b}` in a pattern is a glob brace there, not a
   * block, so the line is split on blanks (and quotes) rather than lexed. $definitions are replaced first.
   */
  #includeLine(keyword: string, text: string, file: string, lineNo: number, col: number): void {
    const rest = stripComment(text);
    const quotes = [...rest.matchAll(/"/g)];
    if (quotes.length % 2 === 1) {
      const at = quotes[quotes.length - 1]?.index ?? 0;
      this.#problems.error('syntax', 'unterminated quoted string (a closing " is missing on this line)', { file, line: lineNo, col: col + at });
      return;
    }
    const args: Token[] = [];
    for (const m of rest.slice(keyword.length).matchAll(INCLUDE_ARG)) {
      const written = m[1] ?? m[0];
      args.push({ kind: m[1] !== undefined ? 'string' : 'word', text: this.#expand(written), file, line: lineNo, col: col + keyword.length + (m.index ?? 0) });
    }
    this.#include({ kind: 'word', text: keyword, file, line: lineNo, col }, args);
  }

  #include(at: Token, args: Token[]): void {
    const pos = posOf(at);
    if (args.length === 0) {
      this.#problems.error('arguments', `${at.text} needs a file name or glob pattern`, pos);
      return;
    }
    if (this.#stack.length >= MAX_INCLUDE_DEPTH) {
      this.#problems.error('include-loop', `includes nested deeper than ${MAX_INCLUDE_DEPTH} levels`, pos);
      return;
    }
    const strict = INCLUDES.get(at.text) ?? 0;
    // keepalived's plain include logs what it cannot read and carries on; its variants make some of that an error.
    const report = (kind: number, message: string, where: SourcePos): void => {
      if (strict & kind) this.#problems.error('include-missing', message, where);
      else this.#problems.warn('include-missing', `${message} (${at.text} accepts this, as keepalived does; ${STRICTER[kind]} makes it an error)`, where);
    };
    const baseDir = dirname(at.file);
    for (const arg of args) {
      const where = posOf(arg);
      if (arg.kind !== 'word' && arg.kind !== 'string') {
        this.#problems.error('syntax', `${at.text}: unexpected '${arg.text}'`, where);
        continue;
      }
      // glob(3), which keepalived uses, has no recursive `**`: it means `*` here too, so an include cannot walk a tree.
      const found = matchInclude(arg.text.replace(/\*{2,}/g, '*'), baseDir);
      if (!found) {
        this.#problems.error('syntax', `${at.text} ${arg.text}: the pattern is too long or its braces make too many patterns`, where);
        continue;
      }
      for (const path of found.missing) report(found.braces ? BRACE : MATCH, `cannot read ${path}: no such file or directory`, where);
      if (found.paths.length === 0 && found.missing.length === 0) report(WILDCARD, `${at.text} ${arg.text}: no file matches (looked in ${baseDir})`, where);
      for (const path of found.paths) {
        const real = realPath(path);
        if (this.#stack.includes(real)) {
          this.#problems.error('include-loop', `include loop: ${path} is already being read (${this.#stack.join(' → ')} → ${real})`, where);
          continue;
        }
        const text = readText(path);
        if (typeof text === 'string') this.readText(text, path);
        else report(READABLE, `cannot read ${path}: ${text.why}; skipped`, where);
      }
    }
  }
}

/** A config file's text, or why keepalived would not read it: it takes only regular, non-executable files. */
function readText(path: string): string | { why: string } {
  try {
    const st = statSync(path);
    if (st.isDirectory()) return { why: 'is a directory' };
    if (!st.isFile() || (st.mode & 0o111) !== 0) return { why: 'not a regular, non-executable file (keepalived reads only those)' };
    return readFileSync(path, 'utf8');
  } catch (err) {
    return { why: readError(err) };
  }
}

function readError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : String(code ?? err);
}

function endsWithBackslash(text: string, from: number, end: number): boolean {
  let last = end - 1;
  while (last >= from && isBlankCode(text.charCodeAt(last))) last--;
  return last >= from && text.charCodeAt(last) === BACKSLASH_CODE;
}

function hasDollar(t: Token): boolean {
  return t.text.includes('$');
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** A definition's value ends at a comment outside quotes, as every other line does. */
function stripComment(s: string): string {
  let quote = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') quote = !quote;
    else if (!quote && (c === '#' || c === '!') && s[i - 1] !== '\\') return s.slice(0, i);
  }
  return s;
}
