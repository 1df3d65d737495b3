// Enough of sh to read the scripts admins program IPVS with: each simple command with its words as sh would pass
// them (quotes, backslashes, `\` line continuations, comments, `;` `&&` `||` `|` `&` separators, redirections set
// aside) and `$NAME`/`${NAME}` expanded from the script's own plain assignments (`VIP=10.0.0.1`, `export
// IPVSADM=/sbin/ipvsadm`), unquoted expansions split on white space. Nothing runs: a variable the script does not
// set, or sets from a command substitution, stays unresolved and the command says so. Control flow is not
// followed; each command is read once, in file order.

export interface ShellCommand {
  /** 1-based line the command starts on. */
  readonly line: number;
  readonly words: readonly string[];
  /** `$NAME`s (and `$(…)`s) whose value the script does not give; words hold them as written. */
  readonly unresolved: readonly string[];
  /** Targets of `>`/`>>`/`<` redirections, e.g. /proc/sys/net/ipv4/ip_forward. */
  readonly redirects: readonly string[];
  /** The command as written (one line even when continued), for messages. */
  readonly text: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=/;
const DECLARERS = new Set(['export', 'readonly', 'local', 'declare']);

export function readShell(text: string): ShellCommand[] {
  const vars = new Map<string, string | undefined>();
  const out: ShellCommand[] = [];
  // Commands are taken one at a time, so an assignment counts for the next command on the same line too.
  const take = (cmd: ShellCommand): void => {
    const first = cmd.words.findIndex((w, i) => !ASSIGNMENT.test(w) && !(i === 0 && DECLARERS.has(w)));
    if (first < 0) {
      // Only assignments: they set the script's variables (an unresolved part makes the variable unknown).
      for (const w of cmd.words) {
        const m = ASSIGNMENT.exec(w);
        if (m) vars.set(m[1] as string, cmd.unresolved.some((u) => w.includes(u)) ? undefined : w.slice(m[0].length));
      }
      return;
    }
    // `NAME=value command …` sets NAME for that command only; it is not part of the command.
    out.push({ ...cmd, words: cmd.words.slice(first) });
  };
  for (const { line, text: logical } of logicalLines(text)) new LineReader(logical, line, vars, take).read();
  return out;
}

/** Physical lines joined at `\`-newline, each with the number of its first line. */
function logicalLines(text: string): { line: number; text: string }[] {
  const lines = text.split(/\r?\n/);
  const out: { line: number; text: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let s = lines[i] as string;
    while (/(^|[^\\])(\\\\)*\\$/.test(s) && i + 1 < lines.length) s = s.slice(0, -1) + (lines[++i] as string);
    out.push({ line: start, text: s });
  }
  return out;
}

type Draft = { words: string[]; unresolved: string[]; redirects: string[] };

class LineReader {
  readonly #s: string;
  readonly #line: number;
  readonly #vars: ReadonlyMap<string, string | undefined>;
  #i = 0;
  #cur = '';
  #started = false;
  #redirect = false;
  #cmd: Draft = { words: [], unresolved: [], redirects: [] };
  #start = 0;
  readonly #take: (cmd: ShellCommand) => void;

  constructor(s: string, line: number, vars: ReadonlyMap<string, string | undefined>, take: (cmd: ShellCommand) => void) {
    this.#s = s;
    this.#line = line;
    this.#vars = vars;
    this.#take = take;
  }

  read(): void {
    const s = this.#s;
    while (this.#i < s.length) {
      const c = s[this.#i] as string;
      if (c === ' ' || c === '\t') {
        this.#flush();
        this.#i++;
      } else if (c === '#' && !this.#started) {
        this.#endCommand();
        return;
      } else if (c === "'") {
        const end = s.indexOf("'", this.#i + 1);
        this.#append(s.slice(this.#i + 1, end < 0 ? s.length : end));
        this.#i = end < 0 ? s.length : end + 1;
      } else if (c === '"') {
        this.#doubleQuoted();
      } else if (c === '\\') {
        this.#append(s[this.#i + 1] ?? '');
        this.#i += 2;
      } else if (c === '$' || c === '`') {
        this.#expand(false);
      } else if (c === '>' || c === '<' || (c === '&' && s[this.#i + 1] === '>')) {
        // An fd number written against the operator (2>) belongs to it.
        if (/^\d+$/.test(this.#cur)) [this.#cur, this.#started] = ['', false];
        this.#flush();
        this.#i += /^(>>|&>|>&|<<)/.test(s.slice(this.#i)) ? 2 : 1;
        this.#redirect = true;
      } else if (';&|()'.includes(c)) {
        this.#endCommand();
        this.#i += s[this.#i + 1] === c && c !== '(' && c !== ')' ? 2 : 1;
        this.#start = this.#i;
      } else {
        this.#append(c);
        this.#i++;
      }
    }
    this.#endCommand();
  }

  #append(text: string): void {
    this.#cur += text;
    this.#started = true;
  }

  #flush(): void {
    if (!this.#started) return;
    (this.#redirect ? this.#cmd.redirects : this.#cmd.words).push(this.#cur);
    this.#redirect = false;
    this.#cur = '';
    this.#started = false;
  }

  #endCommand(): void {
    this.#flush();
    if (this.#cmd.words.length > 0) this.#take({ line: this.#line, ...this.#cmd, text: this.#s.slice(this.#start, this.#i).trim().replace(/\s+/g, ' ') });
    this.#cmd = { words: [], unresolved: [], redirects: [] };
  }

  #doubleQuoted(): void {
    const s = this.#s;
    this.#started = true;
    this.#i++;
    while (this.#i < s.length && s[this.#i] !== '"') {
      const c = s[this.#i] as string;
      if (c === '\\' && '$`"\\'.includes(s[this.#i + 1] ?? '')) {
        this.#append(s[this.#i + 1] as string);
        this.#i += 2;
      } else if (c === '$' || c === '`') {
        this.#expand(true);
      } else {
        this.#append(c);
        this.#i++;
      }
    }
    this.#i++;
  }

  /** `$NAME`, `${NAME}`, `$(…)`, `` `…` `` at the cursor. */
  #expand(quoted: boolean): void {
    const s = this.#s;
    const rest = s.slice(this.#i);
    let name: string | undefined;
    let written: string;
    if (rest.startsWith('$(') || rest.startsWith('`')) {
      const end = rest.startsWith('`') ? rest.indexOf('`', 1) + 1 : closingParen(rest);
      written = end > 0 ? rest.slice(0, end) : rest;
    } else {
      const m = /^\$(?:\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-]))/.exec(rest);
      if (!m) {
        this.#append('$');
        this.#i++;
        return;
      }
      written = m[0];
      name = m[1] ?? m[2];
    }
    this.#i += written.length;
    const value = name !== undefined && NAME.test(name) ? this.#vars.get(name) : undefined;
    if (value === undefined) {
      this.#cmd.unresolved.push(written);
      this.#append(written);
    } else if (quoted || ASSIGNMENT.test(this.#cur)) {
      // Inside quotes and in an assignment's value sh does not split.
      this.#append(value);
    } else {
      value.split(/[ \t\n]+/).forEach((part, k) => {
        if (k > 0) this.#flush();
        if (part) this.#append(part);
      });
    }
  }
}

/** Index just past the `)` that closes the `$(` at the start of `s`; 0 when it does not close on this line. */
function closingParen(s: string): number {
  let depth = 0;
  for (let i = 1; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) return i + 1;
  }
  return 0;
}
