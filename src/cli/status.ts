// `ipvs-ts status [--json] [--watch] [--summary | --full] [--virtual-server VS]`: the running daemon's VRRP, virtual
// and real servers, from its control socket. Like `ipvsadm -Ln`, everything by default up to FULL_UP_TO real servers;
// like `ipvsadm -Ln -t VIP:PORT`, one virtual server with --virtual-server; --summary counts real servers instead of
// listing them. Beyond FULL_UP_TO the text is the summary unless --full is given: a table of 100,000 destinations is
// 100,000 lines and takes the daemon seconds to list, where an operator wants the counts first. --json is always
// what was asked (everything unless --summary), so scripts see no change with the table's size.
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
  full?: boolean;
  virtualServer?: string;
}

/** Real servers up to which `ipvs-ts status` lists every one by default. */
export const FULL_UP_TO = 10_000;

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

export function statusCommand(): Command {
  return new Command('status')
    .description("the running daemon's state: VRRP instances, virtual servers, real servers with health and IPVS counters")
    .option('--json', 'one JSON object (with --watch: one per line)')
    .option('--watch', 'refresh until interrupted')
    .option('--interval <seconds>', 'refresh period for --watch', '1')
    .option('--virtual-server <vs>', 'only this virtual server: VIP:PORT, a VIP, "fwmark N", "group NAME" or its full name "TCP VIP:PORT"')
    .option('--summary', 'per virtual server, counts of real servers up/down instead of one line each')
    .option('--full', `one line per real server however large the table (by default only up to ${thousands(FULL_UP_TO)} real servers)`)
    .option('--control <path>', "the daemon's control socket", DEFAULT_CONTROL_SOCKET)
    .action(async (opts: StatusOptions) => {
      process.exitCode = await runStatus(opts);
    });
}

/** 10000 → "10,000". Not toLocaleString: it loads ICU's locale data, ~20 ms of every command's start on the host. */
function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+$)/g, ',');
}
