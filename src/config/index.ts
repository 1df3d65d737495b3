// The config front end's public API: keepalived.conf in, a typed model and every problem found out.
import { ConfigBuilder } from './build.ts';
import { checkHost, readHostFacts, type HostFacts } from './host.ts';
import type { Config } from './model.ts';
import { Problems, type Problem } from './problems.ts';
import { readConfigFile, readConfigText, type TokenSink } from './source.ts';
import { TreeBuilder } from './tree.ts';
import { validateConfig } from './validate.ts';

export type { Config } from './model.ts';
export type { Problem, ProblemCode, Severity } from './problems.ts';
export type { HostFacts } from './host.ts';
export { formatProblem, PROBLEM_CODES } from './problems.ts';

export interface LoadOptions {
  /** Warnings become errors (`check-config --strict`). */
  readonly strict?: boolean;
  /** Host facts (interfaces, local addresses) are errors instead of warnings. */
  readonly host?: boolean;
  /** Facts to check against; read from this machine when absent. Tests pass their own. */
  readonly hostFacts?: HostFacts;
  /** Skip host checks entirely (for consumers that only want the model). */
  readonly skipHostChecks?: boolean;
}

export interface LoadResult {
  /** Undefined when there is at least one error. */
  readonly config: Config | undefined;
  readonly problems: Problem[];
}

/** Reads a keepalived.conf and what it includes. Never throws for bad input: everything wrong is in `problems`. */
export function loadConfig(path: string, options: LoadOptions = {}): LoadResult {
  return load((problems, sink) => readConfigFile(path, problems, sink), options);
}

/** The same, for text already in memory; `file` names it in messages and anchors relative includes. */
export function parseConfigText(text: string, file = '<config>', options: LoadOptions = {}): LoadResult {
  return load((problems, sink) => readConfigText(text, file, problems, sink), options);
}

/** Source → tokens → statements → model, streamed, then whole-config validation and host facts. */
function load(read: (problems: Problems, sink: TokenSink) => string[], options: LoadOptions): LoadResult {
  const problems = new Problems(options.strict);
  const builder = new ConfigBuilder(problems);
  const tree = new TreeBuilder(problems, (s) => builder.add(s));
  const files = read(problems, (t) => tree.feed(t));
  tree.end();
  const config = builder.finish(files);
  validateConfig(config, problems);
  if (!options.skipHostChecks) checkHost(config, options.hostFacts ?? readHostFacts(), problems, options.host ?? false);
  return { config: problems.hasErrors ? undefined : config, problems: inFileOrder(problems.toArray(), files) };
}

/** Problems are found block by block; users read them top to bottom. */
function inFileOrder(list: Problem[], files: readonly string[]): Problem[] {
  const rank = (p: Problem): number[] => (p.pos ? [files.indexOf(p.pos.file), p.pos.line, p.pos.col] : [Infinity, 0, 0]);
  return list
    .map((p, i) => ({ p, i, k: rank(p) }))
    .sort((a, b) => (a.k[0] ?? 0) - (b.k[0] ?? 0) || (a.k[1] ?? 0) - (b.k[1] ?? 0) || (a.k[2] ?? 0) - (b.k[2] ?? 0) || a.i - b.i)
    .map((x) => x.p);
}
