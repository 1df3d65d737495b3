// Problems are the config front end's only output channel besides the model: every message the user sees,
// positioned in their files. Parsing never throws for bad input; it records a Problem and carries on, so one run
// reports everything that is wrong.
import type { SourcePos } from './model.ts';

export type Severity = 'error' | 'warning';

/** Stable codes, so tests and tools can match on meaning rather than wording. */
export const PROBLEM_CODES = [
  'io',                 // a file cannot be read
  'include-missing',    // include names nothing readable (an error or a warning, by include keyword)
  'include-loop',       // a file includes itself, directly or not
  'syntax',             // quotes, braces, stray tokens
  'unbalanced-braces',
  'undefined-variable', // $NAME used but never defined
  'unknown-keyword',    // not a keyword of this block (typo)
  'unsupported',        // a keepalived keyword ipvs-ts does not implement
  'arguments',          // wrong number of arguments, block where none belongs and the reverse
  'bad-value',          // number, address, port, enum out of its domain
  'range',              // well-formed number outside its range
  'duplicate',          // the same thing defined twice
  'reference',          // names something that is not defined
  'deprecated',         // accepted old spelling; the message gives the modern one
  'lenient',            // accepted with a stated meaning keepalived -t would reject
  'missing',            // a required setting is absent
  'strict',             // refused or rewritten by vrrp_strict / strict_mode (RFC 5798 compliance), as keepalived does
  'host',               // a fact about this machine (interface, address) does not hold
  'multi-director',     // an announced VIP (bgp_announcer) set up in a way several directors cannot share
] as const;
export type ProblemCode = (typeof PROBLEM_CODES)[number];

export interface Problem {
  readonly severity: Severity;
  readonly code: ProblemCode;
  readonly message: string;
  readonly pos?: SourcePos;
}

/** `file:line:col: error|warning: message`, the format compilers use so editors can jump to it. */
export function formatProblem(p: Problem): string {
  const where = p.pos ? `${p.pos.file}:${p.pos.line}:${p.pos.col}: ` : '';
  return `${where}${p.severity}: ${p.message}`;
}

/** Garbage input can produce a problem per token; past this many the rest are only counted. */
const MAX_PROBLEMS = 500;

/** Collects problems during one load; `strict` turns every warning into an error. */
export class Problems {
  readonly #list: Problem[] = [];
  readonly #strict: boolean;
  #dropped = 0;
  #errors = 0;

  constructor(strict = false) {
    this.#strict = strict;
  }

  error(code: ProblemCode, message: string, pos?: SourcePos): void {
    this.#add('error', code, message, pos);
  }

  warn(code: ProblemCode, message: string, pos?: SourcePos): void {
    this.#add(this.#strict ? 'error' : 'warning', code, message, pos);
  }

  #add(severity: Severity, code: ProblemCode, message: string, pos: SourcePos | undefined): void {
    if (severity === 'error') this.#errors++;
    if (this.#list.length >= MAX_PROBLEMS) {
      this.#dropped++;
      return;
    }
    this.#list.push(pos ? { severity, code, message, pos } : { severity, code, message });
  }

  /** True once further problems are only counted: callers can skip work that only improves a message. */
  get full(): boolean {
    return this.#list.length >= MAX_PROBLEMS;
  }

  get hasErrors(): boolean {
    return this.#errors > 0;
  }

  /** The problems in the order found, ending with a count of those not listed. */
  toArray(): Problem[] {
    if (this.#dropped === 0) return [...this.#list];
    const severity: Severity = this.#errors > 0 ? 'error' : 'warning';
    return [...this.#list, { severity, code: 'syntax', message: `${this.#dropped} more problems not shown (is this a keepalived.conf?)` }];
  }
}
