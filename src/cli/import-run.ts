// What `ipvs-ts import ipvsadm|heartbeat` runs (src/cli/import.ts defines the commands): read the old
// configuration, print the keepalived.conf on stdout and every warning on stderr. A config is printed only when
// the input had no errors and the result passes check-config's own reader.
import { readFileSync } from 'node:fs';
import { formatProblem, parseConfigText } from '../config/index.ts';
import { ImportError } from '../import/errors.ts';
import { importIpvsadm } from '../import/ipvsadm.ts';
import { formatNote, Notes } from '../import/notes.ts';
import { type Resolver, systemResolver } from '../import/resolve.ts';
import { writeLvsConfig } from '../import/write-lvs.ts';

type Out = NodeJS.WritableStream;

export async function runImportIpvsadm(file: string, out: Out = process.stdout, err: Out = process.stderr, resolver: Resolver = systemResolver()): Promise<number> {
  const name = file === '-' ? '<stdin>' : file;
  const notes = new Notes();
  const table = await importIpvsadm(readInput(file), name, resolver, notes);
  const rs = table.services.reduce((n, s) => n + s.destinations.length, 0);
  return finish(writeLvsConfig(table, name), notes, name, `${plural(table.services.length, 'virtual server')}, ${plural(rs, 'real server')}`, out, err);
}

/** Prints the notes, then the config if nothing stands in its way; returns the exit code. */
export function finish(text: string, notes: Notes, source: string, summary: string, out: Out, err: Out): number {
  // Top to bottom within each file, files in the order they were first mentioned.
  const files = [...new Set(notes.list.map((n) => n.file))];
  const sorted = notes.list.map((n, i) => ({ n, i })).sort((a, b) => files.indexOf(a.n.file) - files.indexOf(b.n.file) || (a.n.line ?? 0) - (b.n.line ?? 0) || a.i - b.i);
  for (const { n } of sorted) err.write(`${formatNote(n)}\n`);
  const errors = notes.list.filter((n) => n.severity === 'error').length;
  const warnings = notes.list.length - errors;
  if (errors) {
    err.write(`${source}: not imported (${plural(errors, 'error')}, ${plural(warnings, 'warning')})\n`);
    return 1;
  }
  // The written config must read back cleanly; an error here is a bug in the importer, not in the input.
  const check = parseConfigText(text, '<imported>', { skipHostChecks: true });
  const bad = check.problems.filter((p) => p.severity === 'error');
  if (!check.config) {
    for (const p of bad) err.write(`${formatProblem(p)}\n`);
    err.write(`${source}: the written config does not pass check-config (an ipvs-ts bug); not printed\n`);
    return 1;
  }
  out.write(text);
  err.write(`${source}: imported ${summary} (${plural(warnings, 'warning')})\n`);
  return 0;
}

export function readInput(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new ImportError('IMPORT_READ', `${file === '-' ? 'standard input' : file}: ${(e as Error).message}`, { cause: e });
  }
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
