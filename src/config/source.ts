// Turns a keepalived.conf and everything it includes into one token stream: physical lines → logical lines
// (trailing `\` continues), `$NAME=value` definitions and their `$NAME` / `${NAME}` uses, `include GLOB` relative to
// the including file (missing files and loops are positioned errors). Lines end with an `eol` token because
// keepalived's grammar is line-based: a keyword's arguments are the rest of its line.
import { readFileSync, realpathSync, globSync } from 'node:fs';
import { dirname, resolve, isAbsolute } from 'node:path';
import { lexLine, lexRange, posOf, type Token } from './lexer.ts';
import type { Problems } from './problems.ts';
import type { SourcePos } from './model.ts';

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
const GLOB_CHARS = /[*?[{]/;
const MAX_INCLUDE_DEPTH = 32;
const MAX_EXPANSION_DEPTH = 8;
/** Definitions that use definitions can grow exponentially; no real config comes near this. */
const MAX_EXPANSION_CHARS = 65_536;
const DOLLAR = 0x24;
const AT = 0x40;
const BACKSLASH_CODE = 0x5c;

/** Lines end with this one shared token: millions of lines, and nothing ever reports an end of line. */
const EOL: Token = { kind: 'eol', text: '', file: '', line: 0, col: 0 };

function isBlankCode(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0b || c === 0x0c;
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

  read(path: string, from?: SourcePos): string | undefined {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : String(code ?? err);
      this.#problems.error(from ? 'include-missing' : 'io', `cannot read ${path}: ${why}`, from);
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

      let last = end - 1;
      while (last >= first && isBlankCode(text.charCodeAt(last))) last--;
      const continued = last >= first && text.charCodeAt(last) === BACKSLASH_CODE;
      const issue = lexRange(text, from, continued ? last : end, file, lineNo, line);
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
    if (dollar || (first.kind === 'word' && first.text === 'include')) {
      this.#emitLine(line.splice(0));
      return;
    }
    const sink = this.#sink;
    for (let j = 0; j < line.length; j++) sink(line[j] as Token);
    sink(EOL);
    line.length = 0;
  }

  #emitLine(line: Token[]): void {
    const expanded = line.some(hasDollar) ? this.#substitute(line, 0) : [line];
    for (const tokens of expanded) {
      const first = tokens[0];
      if (!first) continue;
      if (first.kind === 'word' && first.text === 'include') this.#include(first, tokens.slice(1));
      else {
        for (const t of tokens) this.#sink(t);
        this.#sink(EOL);
      }
    }
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
      if (t.kind === 'string' || depth >= MAX_EXPANSION_DEPTH) {
        current.push({ ...t, text });
      } else {
        const parts = text.split('\n');
        parts.forEach((part, k) => {
          if (k > 0) lines.push([]);
          const target = lines[lines.length - 1] ?? [];
          const relexed: Token[] = [];
          const issue = lexLine(part, t.file, t.line, relexed, t.col);
          if (issue) this.#problems.error('syntax', `in the value of a $definition: ${issue.message}`, posOf(t));
          for (const r of relexed) target.push({ ...r, col: t.col });
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

  #include(at: Token, args: Token[]): void {
    const pos = posOf(at);
    if (args.length === 0) {
      this.#problems.error('arguments', 'include needs a file name or glob pattern', pos);
      return;
    }
    if (this.#stack.length >= MAX_INCLUDE_DEPTH) {
      this.#problems.error('include-loop', `includes nested deeper than ${MAX_INCLUDE_DEPTH} levels`, pos);
      return;
    }
    const baseDir = dirname(at.file);
    for (const arg of args) {
      if (arg.kind !== 'word' && arg.kind !== 'string') {
        this.#problems.error('syntax', `include: unexpected '${arg.text}'`, posOf(arg));
        continue;
      }
      // glob(3), which keepalived uses, has no recursive `**`: it means `*` here too, so an include cannot walk a tree.
      const written = arg.text.replace(/\*{2,}/g, '*');
      const pattern = isAbsolute(written) ? written : resolve(baseDir, written);
      const matches = GLOB_CHARS.test(arg.text) ? globSync(pattern).sort() : [pattern];
      if (matches.length === 0) {
        this.#problems.error('include-missing', `include ${arg.text}: no file matches (looked in ${baseDir})`, posOf(arg));
        continue;
      }
      for (const path of matches) {
        const real = realPath(path);
        if (this.#stack.includes(real)) {
          this.#problems.error('include-loop', `include loop: ${path} is already being read (${this.#stack.join(' → ')} → ${real})`, posOf(arg));
          continue;
        }
        const text = this.read(path, posOf(arg));
        if (text !== undefined) this.readText(text, path);
      }
    }
  }
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
