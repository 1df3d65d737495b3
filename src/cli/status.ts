// `ipvs-ts status [--json] [--watch] [--summary | --full] [--virtual-server VS]`: the running daemon's VRRP, virtual
// and real servers, from its control socket. Like `ipvsadm -Ln`, everything by default up to FULL_UP_TO real servers;
// like `ipvsadm -Ln -t VIP:PORT`, one virtual server with --virtual-server; --summary counts real servers instead of
// listing them. Beyond FULL_UP_TO the text is the summary unless --full is given: a table of 100,000 destinations is
// 100,000 lines and takes the daemon seconds to list, where an operator wants the counts first. --json is always
// what was asked (everything unless --summary), so scripts see no change with the table's size.
import { Command } from 'commander';
import { DEFAULT_CONTROL_SOCKET } from '../control/protocol.ts';
import type { StatusOptions } from './status-run.ts';

/** Real servers up to which `ipvs-ts status` lists every one by default. */
export const FULL_UP_TO = 10_000;

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
      const { runStatus } = await import('./status-run.ts');
      process.exitCode = await runStatus(opts);
    });
}

/** 10000 → "10,000". Not toLocaleString: it loads ICU's locale data, ~20 ms of every command's start on the host. */
function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+$)/g, ',');
}
