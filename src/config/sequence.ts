// keepalived's sequence and list lines (lib/parser.c add_seq/add_lst): `~SEQ(VAR, START, STEP, END) TEXT` and
// `~LST(VAR, V1, V2…) TEXT` or `~LST({A, B}, {1, 2}, {3, 4}) TEXT` repeat TEXT with $VAR (or $A, $B) set to each
// value in turn; `~SEQx` writes the numbers in hex. This module reads the head; source.ts repeats the text.

export interface Sequence {
  /** The definitions each repetition sets. */
  readonly names: readonly string[];
  /** Their values, one row per repetition, in order (lazy: a sequence can be long). */
  readonly rows: Iterable<readonly string[]>;
  /** Where the repeated text starts in the line. */
  readonly rest: number;
}

/** True for a line (from its first non-blank character) that is a sequence or list line. */
export function isSequence(line: string): boolean {
  return line.startsWith('~SEQ') || line.startsWith('~LST');
}

/**
 * Reads the head of a `~SEQ`/`~LST` line; a string is the reason it is invalid. `expand` replaces $definitions,
 * which keepalived allows in the numbers of a ~SEQ.
 */
export function parseSequence(line: string, expand: (text: string) => string): Sequence | string {
  return line.startsWith('~SEQ') ? parseSeq(line, expand) : parseLst(line);
}

const BLANK = /[ \t]*/y;

function skipBlanks(s: string, at: number): number {
  BLANK.lastIndex = at;
  BLANK.exec(s);
  return BLANK.lastIndex;
}

function parseSeq(line: string, expand: (text: string) => string): Sequence | string {
  const invalid = 'invalid ~SEQ: expected ~SEQ(VAR, [START,] [STEP,] END) TEXT';
  let at = 4;
  const hex = line[at] === 'x';
  if (hex) at++;
  at = skipBlanks(line, at);
  if (line[at++] !== '(') return invalid;
  const close = line.indexOf(')', at);
  if (close < 0) return invalid;
  const [name = '', ...numbers] = line.slice(at, close).split(',').map((f) => f.trim());
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || numbers.length < 1 || numbers.length > 3) return invalid;
  const values = numbers.map((n) => cLong(expand(n).trim()));
  if (values.some((v) => v === undefined)) return `${invalid} (the numbers are C integers: 12, -3, 0x1f, 017)`;
  const [one = 0, two = 0, three = 0] = values as number[];
  let start: number;
  let step: number;
  let end: number;
  if (values.length === 1) {
    // keepalived: one number is the end; the start is 1 (or -1 towards a negative end).
    end = one;
    step = end < 1 ? -1 : 1;
    start = end < 0 ? -1 : 1;
  } else if (values.length === 2) {
    [start, end] = [one, two];
    step = start <= end ? 1 : -1;
  } else {
    [start, step, end] = [one, two, three];
    if (step === 0 || (start < end && step < 0) || (start > end && step > 0)) return `invalid ~SEQ: the step ${step} never gets from ${start} to ${end}`;
  }
  if (hex && (start < 0 || end < 0)) return 'invalid ~SEQx: hexadecimal sequences take only positive numbers';
  return { names: [name], rows: count(start, step, end, hex), rest: skipBlanks(line, close + 1) };
}

function* count(start: number, step: number, end: number, hex: boolean): Generator<readonly string[]> {
  for (let n = start; step > 0 ? n <= end : n >= end; n += step) yield [hex ? n.toString(16) : String(n)];
}

/** strtol(s, &end, 0) that must consume all of s; an empty field is 0, as strtol leaves it. */
function cLong(s: string): number | undefined {
  if (s === '') return 0;
  const m = /^([+-]?)(?:0[xX]([0-9a-fA-F]+)|(0[0-7]*)|([1-9][0-9]*))$/.exec(s);
  if (!m) return undefined;
  const v = m[2] !== undefined ? parseInt(m[2], 16) : m[3] !== undefined ? parseInt(m[3], 8) : Number(m[4]);
  return m[1] === '-' ? -v : v;
}

/** A value ends at a blank, a comma, a brace or the closing parenthesis (values cannot hold them). */
const VALUE = /[^ \t,{}()]*/y;

function parseLst(line: string): Sequence | string {
  const invalid = 'invalid ~LST: expected ~LST(VAR, V1, V2…) TEXT or ~LST({VAR1, VAR2}, {V1, V2}, …) TEXT';
  let at = skipBlanks(line, 4);
  if (line[at++] !== '(') return invalid;
  const head = group(line, skipBlanks(line, at));
  if (!head || head.items.length === 0 || head.items.some((n) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n))) return invalid;
  const names = head.items;
  at = skipBlanks(line, head.end);
  const rows: string[][] = [];
  while (line[at] === ',') {
    const row = group(line, skipBlanks(line, at + 1));
    if (!row) return invalid;
    if (row.items.length > names.length) return `invalid ~LST: {${row.items.join(', ')}} has more values than there are variables (${names.length})`;
    // Missing values are empty, as keepalived has them.
    rows.push(names.map((_, i) => row.items[i] ?? ''));
    at = skipBlanks(line, row.end);
  }
  if (line[at] !== ')' || rows.length === 0) return invalid;
  return { names, rows, rest: skipBlanks(line, at + 1) };
}

/** `{A, B}` or a single item; where it ends. */
function group(line: string, at: number): { items: string[]; end: number } | undefined {
  if (line[at] !== '{') {
    const item = value(line, at);
    return item.text === '' ? undefined : { items: [item.text], end: item.end };
  }
  const items: string[] = [];
  let i = at + 1;
  for (;;) {
    const item = value(line, skipBlanks(line, i));
    items.push(item.text);
    i = skipBlanks(line, item.end);
    if (line[i] === '}') return { items, end: i + 1 };
    if (line[i] !== ',') return undefined;
    i++;
  }
}

function value(line: string, at: number): { text: string; end: number } {
  VALUE.lastIndex = at;
  const text = VALUE.exec(line)?.[0] ?? '';
  return { text, end: at + text.length };
}
