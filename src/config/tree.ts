// Tokens → statements, fed one token at a time so a large file never exists as one token array: each top-level
// statement is handed on as soon as it is complete and its tokens become garbage young. A statement is a keyword,
// the rest of its line as arguments, and optionally a `{ … }` block, opened on the same line or alone on the next
// one. Brace errors are reported where the user can fix them: a `}` with nothing open, or the `{` never closed.
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

interface Frame {
  readonly open: Token;
  /** Undefined while skipping a block nobody will read (too deep, or without a keyword). */
  readonly owner: Mutable<Stmt> | undefined;
  /** Where this block's statements start on the shared stack of open blocks' statements. */
  readonly from: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A statement still collecting its arguments; placed as it is (no copy) once its line ends. */
interface Building {
  readonly key: Token;
  /** NO_ARGS, or a list of this statement's own. */
  args: readonly Token[];
}

/**
 * The arguments of a statement that has none yet: the first one makes a list of one, since a list grown by push
 * from empty takes room for 17, and most lines have one argument.
 */
const NO_ARGS: readonly Token[] = Object.freeze([]);
/** A block's statements until it closes (then replaced by a list of their exact number). */
const NO_STMTS: readonly Stmt[] = Object.freeze([]);

export class TreeBuilder {
  readonly #problems: Problems;
  readonly #emit: (s: Stmt) => void;
  readonly #frames: Frame[] = [];
  /**
   * The statements of every open block, innermost last: a block's are copied out when it closes, at their exact
   * number, rather than each block growing a list of its own by push (room for 17 from the first statement on).
   */
  readonly #stack: Stmt[] = [];
  /** The statement whose line is being read. */
  #current: Building | undefined;
  /** A finished line that may still get its `{` at the start of the next line. */
  #pending: Building | undefined;
  #tooDeepReported = false;
  /** The top-level statement whose block is open; emitted when that block closes. */
  #openTop: Stmt | undefined;

  constructor(problems: Problems, emit: (s: Stmt) => void) {
    this.#problems = problems;
    this.#emit = emit;
  }

  feed(t: Token): void {
    switch (t.kind) {
      case 'word':
      case 'string':
        if (this.#current) {
          if (this.#current.args === NO_ARGS) this.#current.args = [t];
          else (this.#current.args as Token[]).push(t);
        } else {
          this.#flushPending();
          this.#current = { key: t, args: NO_ARGS };
        }
        return;
      case 'eol':
        if (this.#current) {
          this.#pending = this.#current;
          this.#current = undefined;
        }
        return;
      case '{':
        this.#open(t);
        return;
      case '}':
        this.#close(t);
        return;
    }
  }

  end(): void {
    this.#flushCurrent();
    this.#flushPending();
    for (let f = this.#frames.pop(); f; f = this.#frames.pop()) {
      this.#problems.error('unbalanced-braces', `unbalanced braces: the '{' opened here is never closed (end of input reached)`, posOf(f.open));
      this.#closeBlock(f);
    }
    // What was read of an unclosed block is still checked, so a truncated file reports its other problems too.
    const top = this.#openTop;
    this.#openTop = undefined;
    if (top) this.#emit(top);
  }

  #open(t: Token): void {
    const owner = this.#current ?? this.#pending;
    this.#current = undefined;
    this.#pending = undefined;
    const parent = this.#frames[this.#frames.length - 1];
    const skipping = parent !== undefined && parent.owner === undefined;
    if (!owner) {
      if (!skipping) this.#problems.error('syntax', `'{' without a keyword before it`, posOf(t));
      this.#frames.push({ open: t, owner: undefined, from: this.#stack.length });
      return;
    }
    if (this.#frames.length >= MAX_DEPTH && !skipping) {
      if (!this.#tooDeepReported) this.#problems.error('syntax', `blocks nested deeper than ${MAX_DEPTH} levels`, posOf(t));
      this.#tooDeepReported = true;
      this.#place(owner);
      this.#frames.push({ open: t, owner: undefined, from: this.#stack.length });
      return;
    }
    if (skipping) {
      this.#frames.push({ open: t, owner: undefined, from: this.#stack.length });
      return;
    }
    const stmt: Mutable<Stmt> = { key: owner.key, args: owner.args, block: NO_STMTS };
    // The statement is placed in its parent now but emitted (at top level) only when its block closes.
    if (parent) this.#stack.push(stmt);
    else this.#openTop = stmt;
    this.#frames.push({ open: t, owner: stmt, from: this.#stack.length });
  }

  /** Gives a closing block its statements and takes them off the stack. */
  #closeBlock(f: Frame): void {
    const open = this.#stack;
    if (f.owner && open.length > f.from) f.owner.block = open.slice(f.from);
    // Emptied by pops, which keep the stack's room: a shorter length can give it back, and the next block regrow it.
    while (open.length > f.from) open.pop();
  }

  #close(t: Token): void {
    this.#flushCurrent();
    this.#flushPending();
    const f = this.#frames.pop();
    if (!f) {
      this.#problems.error('unbalanced-braces', `unbalanced braces: '}' without a matching '{'`, posOf(t));
      return;
    }
    this.#closeBlock(f);
    if (this.#frames.length === 0 && this.#openTop) {
      const top = this.#openTop;
      this.#openTop = undefined;
      this.#emit(top);
    }
  }

  #flushCurrent(): void {
    if (this.#current) {
      this.#flushPending();
      this.#pending = this.#current;
      this.#current = undefined;
    }
  }

  #flushPending(): void {
    const p = this.#pending;
    if (!p) return;
    this.#pending = undefined;
    this.#place(p);
  }

  #place(s: Stmt): void {
    const parent = this.#frames[this.#frames.length - 1];
    if (!parent) this.#emit(s);
    else if (parent.owner) this.#stack.push(s);
  }
}
