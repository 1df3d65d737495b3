// `ipvs-ts reload`: ask the running daemon to re-read its configuration (as SIGHUP does) and say what happened.
import { Command } from 'commander';
import { askDaemon } from '../control/client.ts';
import { ControlError } from '../control/errors.ts';
import { DEFAULT_CONTROL_SOCKET } from '../control/protocol.ts';
import { errorLine } from '../errors.ts';

export async function runReload(opts: { control: string }, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  try {
    const reply = await askDaemon(opts.control, { cmd: 'reload' });
    if (!('reload' in reply)) throw new ControlError('CONTROL_PROTOCOL', 'the daemon sent no reload result');
    for (const p of reply.reload.problems) err.write(`${p}\n`);
    if (!reply.reload.applied) {
      err.write('ipvs-ts reload: the new configuration has errors; the daemon keeps running the old one\n');
      return 1;
    }
    out.write('reloaded\n');
    return 0;
  } catch (e) {
    err.write(`ipvs-ts reload: ${errorLine(e)}\n`);
    return 1;
  }
}

export function reloadCommand(): Command {
  return new Command('reload')
    .description('make the running daemon re-read its configuration (a bad one is refused and the old one kept)')
    .option('--control <path>', "the daemon's control socket", DEFAULT_CONTROL_SOCKET)
    .action(async (opts: { control: string }) => {
      process.exitCode = await runReload(opts);
    });
}
