// Readers for keyword arguments: each validates one token and reports a positioned problem instead of throwing,
// returning undefined so the caller keeps its default and parsing carries on.
import { isIPv4, isIPv6 } from 'node:net';
import { posOf, type Token } from './lexer.ts';
import type { Stmt } from './tree.ts';
import type { Problems } from './problems.ts';
import type { Family, ScriptUser } from './model.ts';

export interface Address {
  readonly address: string;
  readonly family: Family;
}

/** Canonical text of an IP address (IPv6 compressed and lower case, RFC 5952), or undefined. */
export function canonicalAddress(text: string): Address | undefined {
  if (isIPv4(text)) return { address: text, family: 4 };
  if (isIPv6(text)) {
    // The WHATWG URL parser serialises IPv6 hosts in RFC 5952 form; zone ids are not allowed in URLs.
    if (text.includes('%')) return { address: text.toLowerCase(), family: 6 };
    return { address: new URL(`http://[${text}]/`).hostname.slice(1, -1), family: 6 };
  }
  return undefined;
}

const TEMPLATE = /[|<>@]|^num$|^string$|^alphanum$/;

/** Grammar templates in documentation (`lb_algo rr|wrr|lc`, `@IP`, `<ip>`) deserve a hint, not just "bad value". */
function templateHint(text: string): string {
  return TEMPLATE.test(text) ? ` ('${text}' looks like a placeholder from a grammar template, not a value)` : '';
}

/** Longest run of digits read without Number(): 15 digits stay below 2^53, so the sum is exact. */
const MAX_PLAIN_DIGITS = 15;

/**
 * The value of a short run of decimal digits, or -1 for anything else (signs, fractions, long numbers): nearly every
 * number in a large config is one, and a regular expression and Number() for each cost more than the loop.
 */
function plainDigits(text: string): number {
  const n = text.length;
  if (n === 0 || n > MAX_PLAIN_DIGITS) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

export class ArgReader {
  readonly problems: Problems;
  /**
   * Each address once per load, by the text written and by its canonical text: the same real servers behind many
   * virtual servers (one pool for ports 80 and 443, or for many VIPs) is the usual large configuration, and each
   * would otherwise hold its own copy of the string and parse it again.
   */
  readonly #addresses = new Map<string, Address>();

  constructor(problems: Problems) {
    this.problems = problems;
  }

  /** Checks the argument count; `usage` (text, or a function building it only when needed) shows the expected form. */
  arity(s: Stmt, min: number, max: number, usage: string | ((key: string) => string)): boolean {
    const n = s.args.length;
    if (n < min || n > max) {
      const what = n < min ? 'is missing an argument' : 'has too many arguments';
      const text = typeof usage === 'string' ? usage : usage(s.key.text);
      this.problems.error('arguments', `${s.key.text} ${what}; usage: ${text}`, posOf(n < min ? s.key : (s.args[max] ?? s.key)));
      return false;
    }
    return true;
  }

  noBlock(s: Stmt): void {
    if (s.block) this.problems.error('arguments', `${s.key.text} does not take a { } block`, posOf(s.key));
  }

  needBlock(s: Stmt): readonly Stmt[] {
    if (!s.block) {
      this.problems.error('arguments', `${s.key.text} needs a { } block`, posOf(s.key));
      return [];
    }
    return s.block;
  }

  /** A flag keyword: bare means on; keepalived also accepts an explicit on/off word after some of them. */
  flag(s: Stmt): boolean {
    this.noBlock(s);
    const arg = s.args[0];
    if (!arg) return true;
    const v = arg.text.toLowerCase();
    if (['on', 'true', 'yes', '1'].includes(v)) return true;
    if (['off', 'false', 'no', '0'].includes(v)) return false;
    this.problems.error('bad-value', `${s.key.text} takes no argument (or on/off), got '${arg.text}'`, posOf(arg));
    return true;
  }

  /** `what` names the value in messages; `suffix` is appended to it, so callers need not build strings up front. */
  integer(t: Token, what: string, min: number, max: number, suffix = ''): number | undefined {
    let v = plainDigits(t.text);
    if (v < 0) {
      if (!/^[+-]?\d+$/.test(t.text)) {
        this.problems.error('bad-value', `${what}${suffix}: '${t.text}' is not a whole number${templateHint(t.text)}`, posOf(t));
        return undefined;
      }
      v = Number(t.text);
    }
    if (v < min || v > max) {
      this.problems.error('range', `${what}${suffix} ${t.text} is out of range ${min}-${max}`, posOf(t));
      return undefined;
    }
    return v;
  }

  /** The single integer argument of a keyword. */
  int(s: Stmt, min: number, max: number): number | undefined {
    this.noBlock(s);
    if (s.args.length !== 1 && !this.arity(s, 1, 1, `${s.key.text} N (${min}-${max})`)) return undefined;
    return this.integer(s.args[0] as Token, s.key.text, min, max);
  }

  /** Seconds, possibly fractional (keepalived reads up to microseconds), as milliseconds. */
  secondsToken(t: Token, what: string, minMs: number, maxMs: number): number | undefined {
    const whole = plainDigits(t.text);
    let ms = whole * 1000;
    if (whole < 0) {
      if (!/^(\d+(\.\d*)?|\.\d+)$/.test(t.text)) {
        this.problems.error('bad-value', `${what}: '${t.text}' is not a number of seconds${templateHint(t.text)}`, posOf(t));
        return undefined;
      }
      ms = Math.round(Number(t.text) * 1000);
    }
    if (ms < minMs || ms > maxMs) {
      this.problems.error('range', `${what} ${t.text} is out of range ${minMs / 1000}-${maxMs / 1000} seconds`, posOf(t));
      return undefined;
    }
    return ms;
  }

  seconds(s: Stmt, minMs = 0, maxMs = 31 * 86_400_000): number | undefined {
    this.noBlock(s);
    if (s.args.length !== 1 && !this.arity(s, 1, 1, `${s.key.text} SECONDS`)) return undefined;
    return this.secondsToken(s.args[0] as Token, s.key.text, minMs, maxMs);
  }

  addressToken(t: Token, what: string): Address | undefined {
    const seen = this.#addresses.get(t.text);
    if (seen !== undefined) return seen;
    const a = canonicalAddress(t.text);
    if (!a) {
      this.problems.error('bad-value', `${what}: '${t.text}' is not an IPv4 or IPv6 address${templateHint(t.text)}`, posOf(t));
      return undefined;
    }
    // Another spelling of an address already read (IPv6 in upper case, uncompressed) shares its canonical text.
    const known = a.address === t.text ? undefined : this.#addresses.get(a.address);
    const shared = known ?? a;
    if (!known) this.#addresses.set(a.address, shared);
    this.#addresses.set(t.text, shared);
    return shared;
  }

  address(s: Stmt): Address | undefined {
    this.noBlock(s);
    if (!this.arity(s, 1, 1, (k) => `${k} ADDRESS`)) return undefined;
    return this.addressToken(s.args[0] as Token, s.key.text);
  }

  portToken(t: Token, what: string): number | undefined {
    return this.integer(t, what, 0, 65535, ' port');
  }

  oneOf<T extends string>(t: Token, what: string, allowed: readonly T[], caseless = false): T | undefined {
    const found = allowed.find((a) => (caseless ? a.toLowerCase() === t.text.toLowerCase() : a === t.text));
    if (found === undefined) {
      this.problems.error('bad-value', `unknown ${what} '${t.text}'${templateHint(t.text)}; expected one of: ${allowed.join(' ')}`, posOf(t));
    }
    return found;
  }

  word(s: Stmt, usage?: string): string | undefined {
    this.noBlock(s);
    if (!this.arity(s, 1, 1, usage ?? ((k) => `${k} VALUE`))) return undefined;
    return (s.args[0] as Token).text;
  }

  /** A command line: one quoted argument, or the rest of the line (keepalived joins unquoted words). */
  command(s: Stmt): string | undefined {
    this.noBlock(s);
    if (!this.arity(s, 1, Infinity, (k) => `${k} "/path/to/script [args]"`)) return undefined;
    return s.args.map((a) => (a.kind === 'string' && s.args.length > 1 ? `"${a.text}"` : a.text)).join(' ');
  }

  /**
   * A notify script as keepalived reads one (notify_script_init): the first argument is the command line (quote it
   * to give arguments), the next two are the user and group to run it as.
   */
  notifyScript(s: Stmt): { command: string; user?: ScriptUser } | undefined {
    this.noBlock(s);
    if (!this.arity(s, 1, 3, (k) => `${k} "/path/to/script [args]" [USERNAME [GROUPNAME]]`)) return undefined;
    const [command, user, group] = s.args as [Token, Token | undefined, Token | undefined];
    if (!user) return { command: command.text };
    if (command.kind === 'word') {
      const line = s.args.map((a) => a.text).join(' ');
      this.problems.warn('lenient', `${s.key.text} ${line}: keepalived reads the words after an unquoted script as USERNAME [GROUPNAME], so ${command.text} runs as user ${user.text}; write "${line}" if they are arguments`, posOf(user));
    }
    return { command: command.text, user: scriptUser(user, group) };
  }

  user(s: Stmt): ScriptUser | undefined {
    this.noBlock(s);
    if (!this.arity(s, 1, 2, (k) => `${k} USERNAME [GROUPNAME]`)) return undefined;
    const [user, group] = s.args;
    return scriptUser(user as Token, group);
  }
}

/** `USERNAME [GROUPNAME]`, wherever keepalived takes one (script_user, user, notify scripts, notify_fifo). */
export function scriptUser(user: Token, group: Token | undefined): ScriptUser {
  return group ? { user: user.text, group: group.text } : { user: user.text };
}
