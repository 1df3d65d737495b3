// What `ipvs-ts check-config` runs (src/cli/check-config.ts defines the command).
import { formatProblem, loadConfig } from '../config/index.ts';

export interface CheckConfigOptions {
  file: string;
  json?: boolean;
  strict?: boolean;
  host?: boolean;
}

/** Prints every problem (stderr) and, with --json, the normalized model (stdout); returns the exit code. */
export function runCheckConfig(opts: CheckConfigOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  const { config, problems } = loadConfig(opts.file, { strict: opts.strict ?? false, host: opts.host ?? false });
  for (const p of problems) err.write(`${formatProblem(p)}\n`);
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  if (!config) {
    err.write(`${opts.file}: invalid (${plural(errors, 'error')}, ${plural(warnings, 'warning')})\n`);
    return 1;
  }
  if (opts.json) out.write(`${JSON.stringify(config, null, 2)}\n`);
  const vs = config.virtualServers;
  const rs = vs.reduce((n, v) => n + v.realServers.length, 0);
  err.write(`${opts.file}: valid (${plural(config.vrrpInstances.length, 'vrrp instance')}, ${plural(vs.length, 'virtual server')}, ${plural(rs, 'real server')}; ${plural(warnings, 'warning')})\n`);
  return 0;
}
