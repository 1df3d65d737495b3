// What `ipvs-ts status` runs (src/cli/status.ts defines the command): asks the daemon, prints its answer.
import { setTimeout as sleep } from 'node:timers/promises';
import { askDaemon } from '../control/client.ts';
import { ControlError } from '../control/errors.ts';
import { formatStatus } from '../control/format.ts';
import { errorLine } from '../errors.ts';
import { FULL_UP_TO } from './status.ts';

export interface StatusOptions {
  json?: boolean;
  watch?: boolean;
  interval: string;
  control: string;
  summary?: boolean;
  full?: boolean;
  virtualServer?: string;
}

export async function runStatus(opts: StatusOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const interval = Math.max(0.2, Number(opts.interval) || 1) * 1000;
  for (;;) {
    try {
      // The text of a whole table: the summary first, the full listing only if the table is small enough.
      const auto = !opts.json && !opts.summary && !opts.full && opts.virtualServer === undefined;
      const ask = async (summary: boolean) => {
        const reply = await askDaemon(opts.control, { cmd: 'status', ...(opts.virtualServer !== undefined && { virtualServer: opts.virtualServer }), ...(summary && { summary: true }) });
        if (!('status' in reply)) throw new ControlError('CONTROL_PROTOCOL', 'the daemon sent no status');
        return reply.status;
      };
      let status = await ask(auto || opts.summary === true);
      const realServers = auto ? status.virtualServers.reduce((n, vs) => n + (vs.summary?.realServers ?? 0), 0) : 0;
      if (auto && realServers <= FULL_UP_TO) status = await ask(false);
      const note = auto && realServers > FULL_UP_TO ? `\n(${realServers} real servers: counted per virtual server; --full lists every one, --virtual-server VS one virtual server's)\n` : '';
      const text = opts.json ? `${JSON.stringify(status)}\n` : formatStatus(status) + note;
      out.write(opts.watch && !opts.json ? `\x1b[H\x1b[2J${text}` : text);
    } catch (e) {
      err.write(`ipvs-ts status: ${errorLine(e)}\n`);
      if (!opts.watch) return 1;
    }
    if (!opts.watch) return 0;
    await sleep(interval);
  }
}
