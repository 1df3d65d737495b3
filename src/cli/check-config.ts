// `ipvs-ts check-config`: parse and validate a keepalived.conf like `keepalived -t`, never touching the kernel.
// The config front end (~30 modules) loads only when a command that reads a config runs.
import { Command } from 'commander';
import type { CheckConfigOptions } from './check-config-run.ts';

export function checkConfigCommand(): Command {
  return new Command('check-config')
    .description('parse and validate a keepalived.conf (like keepalived -t); never touches the kernel')
    .requiredOption('-f, --file <path>', 'the keepalived.conf to check')
    .option('--json', 'print the normalized model as JSON on stdout')
    .option('--strict', 'treat warnings as errors')
    .option('--host', 'facts about this machine (interfaces, local addresses) are errors, not warnings')
    .action(async (opts: CheckConfigOptions) => {
      const { runCheckConfig } = await import('./check-config-run.ts');
      process.exitCode = runCheckConfig(opts);
    });
}
