// What `ipvs-ts reload` runs (src/cli/reload.ts defines the command).
import { askDaemon } from '../control/client.ts';
import { ControlError } from '../control/errors.ts';
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
