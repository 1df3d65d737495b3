// What an import found that the user must know: warnings (something has no keepalived equivalent, or was read in a
// way worth checking) and errors (a line that cannot be imported). Each points at file:line of the input.

export interface Note {
  readonly severity: 'warning' | 'error';
  readonly file: string;
  /** 1-based; absent for the file as a whole. */
  readonly line?: number;
  readonly message: string;
}

export class Notes {
  readonly list: Note[] = [];

  warn(file: string, line: number | undefined, message: string): void {
    this.list.push({ severity: 'warning', file, ...(line !== undefined ? { line } : {}), message });
  }

  error(file: string, line: number | undefined, message: string): void {
    this.list.push({ severity: 'error', file, ...(line !== undefined ? { line } : {}), message });
  }

  get hasErrors(): boolean {
    return this.list.some((n) => n.severity === 'error');
  }
}

export function formatNote(n: Note): string {
  return `${n.file}${n.line !== undefined ? `:${n.line}` : ''}: ${n.severity}: ${n.message}`;
}
