// The one table of error codes (src/errors.ts) against the sources that raise them and the page that documents
// them (docs/errors.md): a code raised but not listed, listed but never raised, or documented differently fails here.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ERROR_CODES, errorLine, IpvsTsError } from '../src/errors.ts';
import { CheckError } from '../src/check/errors.ts';
import { ArgError } from '../src/import/ipvsadm-args.ts';
import { IpvsError } from '../src/ipvs/errors.ts';
import { NetlinkError } from '../src/netlink/errors.ts';
import { VrrpError } from '../src/vrrp/errors.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const SRC = join(ROOT, 'src');
const sources = readdirSync(SRC, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ file: `src/${f}`, text: readFileSync(join(SRC, f), 'utf8') }));
const table = new Map<string, (typeof ERROR_CODES)[number]>(ERROR_CODES.map((e) => [e.code, e]));

/** Every error class of ours (extending IpvsTsError, directly or not) → its area, the directory it is defined in. */
function errorClasses(): Map<string, string> {
  const defs = sources.flatMap(({ file, text }) =>
    [...text.matchAll(/^export class (\w+)(?:<[^>]*>)? extends (\w+)/gm)].map((m) => ({ name: m[1]!, base: m[2]!, area: file.split('/')[1]! })),
  );
  const classes = new Map<string, string>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const d of defs) {
      if (!classes.has(d.name) && (d.base === 'IpvsTsError' || classes.has(d.base))) {
        classes.set(d.name, d.area);
        grew = true;
      }
    }
  }
  return classes;
}

/** The source text of the first argument of the call whose '(' is just before `start`. */
function firstArgument(src: string, start: number): string {
  const closers: string[] = []; // what ends each open bracket; '`' while inside a template literal's text
  let i = start;
  for (; i < src.length; i++) {
    const c = src[i]!;
    if (closers.at(-1) === '`') {
      if (c === '\\') i++;
      else if (c === '`') closers.pop();
      else if (c === '$' && src[i + 1] === '{') closers.push('}'), i++;
      continue;
    }
    if (c === "'" || c === '"') {
      for (i++; src[i] !== c; i++) if (src[i] === '\\') i++;
    } else if (c === '`') closers.push('`');
    else if (c === '(') closers.push(')');
    else if (c === '[') closers.push(']');
    else if (c === '{') closers.push('}');
    else if (closers.length === 0 && (c === ',' || c === ')')) break;
    else if (c === closers.at(-1)) closers.pop();
  }
  return src.slice(start, i);
}

interface Construction {
  readonly where: string;
  readonly cls: string;
  readonly codes: readonly string[];
}

function constructions(classes: Map<string, string>): Construction[] {
  const found: Construction[] = [];
  for (const { file, text } of sources) {
    for (const m of text.matchAll(/\bnew (\w+)\(/g)) {
      if (!classes.has(m[1]!)) continue;
      const arg = firstArgument(text, m.index + m[0].length);
      const codes = [...arg.matchAll(/'([A-Z][A-Z0-9_]*)'/g)].map((c) => c[1]!);
      found.push({ where: `${file}:${text.slice(0, m.index).split('\n').length}`, cls: m[1]!, codes });
    }
  }
  return found;
}

test('one base class: every error class in src/ extends IpvsTsError, which alone extends Error', () => {
  const direct = sources.flatMap(({ file, text }) => [...text.matchAll(/class (\w+)(?:<[^>]*>)? extends (?:Error|TypeError|RangeError)\b/g)].map((m) => `${file}: ${m[1]}`));
  assert.deepEqual(direct, ['src/errors.ts: IpvsTsError']);
  const classes = errorClasses();
  for (const cls of ['NetlinkError', 'IpvsError', 'VrrpError', 'CheckError', 'ControlError', 'DirectorError', 'ImportError', 'ArgError', 'RealServerError', 'SysError']) {
    assert.ok(classes.has(cls), `${cls} extends IpvsTsError`);
  }
});

test('every code src/ constructs an error with is in the table, in the area of the class that carries it', () => {
  const classes = errorClasses();
  const found = constructions(classes);
  assert.ok(found.length > 100, `only ${found.length} constructions found: the scan is broken`);
  const wrong: string[] = [];
  for (const c of found) {
    for (const code of c.codes) {
      const entry = table.get(code);
      if (!entry) wrong.push(`${c.where}: ${c.cls} with ${code}, which is not in src/errors.ts`);
      else if (entry.area !== classes.get(c.cls)) wrong.push(`${c.where}: ${c.cls} (${classes.get(c.cls)}) with ${code}, a code of area ${entry.area}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('every code in the table is used in src/', () => {
  const others = sources.filter((s) => s.file !== 'src/errors.ts').map((s) => s.text);
  const unused = ERROR_CODES.map((e) => e.code).filter((code) => !others.some((text) => text.includes(`'${code}'`)));
  assert.deepEqual(unused, []);
});

test('codes are unique SCREAMING_SNAKE names that no errno shares, each with a one-line meaning', () => {
  const codes = ERROR_CODES.map((e) => e.code);
  assert.deepEqual(codes.filter((c, i) => codes.indexOf(c) !== i), [], 'duplicates');
  for (const { code, meaning } of ERROR_CODES) {
    assert.match(code, /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/);
    assert.ok(!(code in constants.errno), `${code} is an errno name`);
    assert.match(meaning, /^[^\n|]+$/, `${code}: the meaning is one line without '|'`);
  }
});

test('docs/errors.md lists exactly the table, in its order, each code with what an operator does', () => {
  const rows = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => l.slice(1, -1).split(' | ').map((cell) => cell.trim()));
  assert.deepEqual(
    rows.map(([code, area, meaning]) => ({ code: code!.replaceAll('`', ''), area, meaning })),
    ERROR_CODES.map(({ code, area, meaning }) => ({ code, area, meaning })),
  );
  for (const row of rows) assert.ok(row.length === 4 && row[3]!.length > 0, `${row[0]}: no action`);
});

test('area errors are IpvsTsErrors with their own name, code and fields; errorLine appends the code', () => {
  const ipvs = new IpvsError('IPVS_KERNEL', 'add service failed', 'EEXIST');
  assert.ok(ipvs instanceof IpvsTsError && ipvs instanceof Error);
  assert.equal(ipvs.name, 'IpvsError');
  assert.equal(ipvs.errno, 'EEXIST');
  const nl = NetlinkError.fromKernel(17, undefined, undefined, 'add address');
  assert.deepEqual([nl.name, nl.code, nl.errno, nl instanceof IpvsTsError], ['NetlinkError', 'EEXIST', 17, true]);
  const arg = new ArgError('multiple commands specified');
  assert.deepEqual([arg.name, arg.code, arg.message], ['ArgError', 'IMPORT_IPVSADM_ARGS', 'multiple commands specified']);
  const cause = new Error('EACCES');
  assert.equal(new CheckError('SCRIPT_SPAWN', 'cannot run x', { cause }).cause, cause);
  // @ts-expect-error: a code missing from the table, or another area's, does not type-check
  assert.equal(new VrrpError('IPVS_STATE', 'x').code, 'IPVS_STATE');
  assert.equal(errorLine(new VrrpError('VRRP_NO_INTERFACE', '(VI_1) interface eth9 does not exist')), '(VI_1) interface eth9 does not exist [VRRP_NO_INTERFACE]');
  assert.equal(errorLine(new Error('plain')), 'plain');
  assert.equal(errorLine('text'), 'text');
});
