import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { errorLine } from '../errors.ts';
import { checkConfigCommand } from './check-config.ts';
import { vrrpCommand } from './vrrp.ts';
import { ipvsCommand } from './ipvs.ts';
import { checkCommand } from './check.ts';
import { genhashCommand } from './genhash.ts';
import { daemonCommand } from './daemon.ts';
import { statusCommand } from './status.ts';
import { reloadCommand } from './reload.ts';
import { realserverCommand } from './realserver.ts';
import { importCommand } from './import.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Builds the command tree; each subcommand lives in its own module beside this one. */
export function buildProgram(): Command {
  const program = new Command('ipvs-ts')
    .description('LVS/IPVS director: keepalived.conf, IPVS over generic netlink, health checks, VRRP')
    .version(pkg.version)
    .showHelpAfterError()
    .exitOverride();
  program.addCommand(checkConfigCommand());
  program.addCommand(vrrpCommand());
  program.addCommand(ipvsCommand());
  program.addCommand(checkCommand());
  program.addCommand(genhashCommand());
  program.addCommand(daemonCommand(), { isDefault: true });
  program.addCommand(statusCommand());
  program.addCommand(reloadCommand());
  program.addCommand(realserverCommand());
  program.addCommand(importCommand());
  return program;
}

/** Runs the CLI and resolves to the process exit code; errors are printed in one line (with ` [CODE]` when ours), never as a trace. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    process.stderr.write(`ipvs-ts: ${errorLine(err)}\n`);
    return 1;
  }
}
