// BIRD's control-socket protocol (doc/reply_codes in BIRD's source): every reply line starts with a four-digit
// code and '-' (more lines follow) or ' ' (the last line), or with a space alone (continuing the previous
// code's text). 0xxx ends a command successfully, 8xxx (run time) and 9xxx (parse time) end it with an error;
// 1xxx are table rows and 2xxx table headings. Lines starting with '+' are spontaneous and belong to no command.
import type { SessionState, SessionStateName } from './announcer.ts';

export interface ReplyLine {
  readonly code: number;
  readonly text: string;
}

export interface Reply {
  /** The final line's code: 0-999 success, 8000-9999 error. */
  readonly code: number;
  readonly lines: readonly ReplyLine[];
}

/** Feed chunks of socket text; each complete reply comes out of `push`, in order. */
export class ReplyReader {
  #buf = '';
  #lines: ReplyLine[] = [];
  #code = 0;

  push(chunk: string): Reply[] {
    this.#buf += chunk;
    const out: Reply[] = [];
    let nl: number;
    while ((nl = this.#buf.indexOf('\n')) >= 0) {
      const line = this.#buf.slice(0, nl);
      this.#buf = this.#buf.slice(nl + 1);
      if (line.startsWith('+')) continue;
      const m = /^(\d{4})([ -])(.*)$/.exec(line);
      if (!m) {
        // A continuation line: the previous code goes on.
        this.#lines.push({ code: this.#code, text: line.slice(1) });
        continue;
      }
      this.#code = Number(m[1]);
      this.#lines.push({ code: this.#code, text: m[3] ?? '' });
      if (m[2] === ' ' && (this.#code < 1000 || this.#code >= 8000)) {
        out.push({ code: this.#code, lines: this.#lines });
        this.#lines = [];
      }
    }
    return out;
  }
}

export function isError(r: Reply): boolean {
  return r.code >= 8000;
}

/** The reply's text, one line per line, for messages. */
export function replyText(r: Reply): string {
  return r.lines.map((l) => l.text.trim()).filter(Boolean).join('; ');
}

const STATES: ReadonlySet<string> = new Set(['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established']);

/**
 * BGP sessions from the reply to `show protocols all`: each protocol starts with a 1002 row (name, protocol,
 * table, state, since, info) and its details follow as 1006 lines; `names` maps protocol names to neighbors.
 */
export function parseSessions(r: Reply, names: ReadonlyMap<string, string>): SessionState[] {
  const out: SessionState[] = [];
  let current: { neighbor: string; state: SessionStateName; info?: string; protoState: string } | undefined;
  const flush = (): void => {
    if (current) out.push({ neighbor: current.neighbor, state: current.state, ...(current.info ? { info: current.info } : {}) });
    current = undefined;
  };
  for (const l of r.lines) {
    if (l.code === 1002) {
      flush();
      const [name, proto, , protoState = ''] = l.text.trim().split(/\s+/);
      const neighbor = name !== undefined ? names.get(name) : undefined;
      if (proto === 'BGP' && neighbor !== undefined) current = { neighbor, state: protoState === 'down' ? 'Idle' : 'Connect', protoState };
      continue;
    }
    if (!current || l.code !== 1006) continue;
    const m = /^\s*(BGP state|Last error|Error):\s*(.*?)\s*$/.exec(l.text);
    if (!m) continue;
    if (m[1] === 'BGP state') current.state = STATES.has(m[2] ?? '') ? (m[2] as SessionStateName) : 'Idle';
    else current.info = m[2];
  }
  flush();
  return out;
}
