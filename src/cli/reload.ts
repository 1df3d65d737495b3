// `ipvs-ts reload`: ask the running daemon to re-read its configuration (as SIGHUP does) and say what happened.
import { Command } from 'commander';
import { DEFAULT_CONTROL_SOCKET } from '../control/protocol.ts';

export function reloadCommand(): Command {
  return new Command('reload')
    .description('make the running daemon re-read its configuration (a bad one is refused and the old one kept)')
    .option('--control <path>', "the daemon's control socket", DEFAULT_CONTROL_SOCKET)
    .action(async (opts: { control: string }) => {
      const { runReload } = await import('./reload-run.ts');
      process.exitCode = await runReload(opts);
    });
}
