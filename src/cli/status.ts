// `ipvs-ts status [--json] [--watch] [--summary] [--virtual-server VS]`: the running daemon's VRRP, virtual and real
// servers, from its control socket. Like `ipvsadm -Ln`, everything by default; like `ipvsadm -Ln -t VIP:PORT`, one
// virtual server with --virtual-server; --summary counts real servers instead of listing them (a table of 100,000
// destinations is 100,000 lines).
import { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { askDaemon } from '../control/client.ts';
import { ControlError } from '../control/errors.ts';
import { formatStatus } from '../control/format.ts';
import { DEFAULT_CONTROL_SOCKET } from '../control/protocol.ts';
import { errorLine } from '../errors.ts';

export interface StatusOptions {
  json?: boolean;
  watch?: boolean;
  interval: string;
  control: string;
  summary?: boolean;
  virtualServer?: string;
}

export async function runStatus(opts: StatusOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const interval = Math.max(0.2, Number(opts.interval) || 1) * 1000;
  for (;;) {
    try {
      const reply = await askDaemon(opts.control, { cmd: 'status', ...(opts.virtualServer !== undefined && { virtualServer: opts.virtualServer }), ...(opts.summary && { summary: true }) });
      if (!('status' in reply)) throw new ControlError('CONTROL_PROTOCOL', 'the daemon sent no status');
      const text = opts.json ? `${JSON.stringify(reply.status)}\n` : formatStatus(reply.status);
      out.write(opts.watch && !opts.json ? `\x1b[H\x1b[2J${text}` : text);
    } catch (e) {
      err.write(`ipvs-ts status: ${errorLine(e)}\n`);
      if (!opts.watch) return 1;
    }
    if (!opts.watch) return 0;
    await sleep(interval);
  }
}

export function statusCommand(): Command {
  return new Command('status')
    .description("the running daemon's state: VRRP instances, virtual servers, real servers with health and IPVS counters")
    .option('--json', 'one JSON object (with --watch: one per line)')
    .option('--watch', 'refresh until interrupted')
    .option('--interval <seconds>', 'refresh period for --watch', '1')
    .option('--virtual-server <vs>', 'only this virtual server: VIP:PORT, a VIP, "fwmark N", "group NAME" or its full name "TCP VIP:PORT"')
    .option('--summary', 'per virtual server, counts of real servers up/down instead of one line each')
    .option('--control <path>', "the daemon's control socket", DEFAULT_CONTROL_SOCKET)
    .action(async (opts: StatusOptions) => {
      process.exitCode = await runStatus(opts);
    });
}
