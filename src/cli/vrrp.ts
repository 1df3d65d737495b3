// `ipvs-ts vrrp -f keepalived.conf`: runs only the VRRP part (like `keepalived --vrrp`) until SIGTERM/SIGINT,
// then leaves mastership with priority-0 adverts and removes every VIP before exiting. As in keepalived, SIGHUP
// re-reads the file and applies it to the running instances, SIGUSR1 writes the instances' state and SIGUSR2 their
// counters (here as JSON; src/control/dumps.ts). The VRRP modules load only when the command runs.
import { Command } from 'commander';
import { defaultDumpFile } from '../control/dumps.ts';
import type { VrrpOptions } from './vrrp-run.ts';

export function vrrpCommand(): Command {
  return new Command('vrrp')
    .description('run only VRRP from a keepalived.conf (like keepalived --vrrp) until SIGTERM; SIGHUP applies the re-read file')
    .requiredOption('-f, --file <path>', 'the keepalived.conf to run')
    .option('--data-file <path>', 'where SIGUSR1 writes the instances\' state as JSON', defaultDumpFile('data'))
    .option('--stats-file <path>', 'where SIGUSR2 writes the counters as JSON', defaultDumpFile('stats'))
    .action(async (opts: VrrpOptions) => {
      const { runVrrp } = await import('./vrrp-run.ts');
      process.exitCode = await runVrrp(opts);
    });
}
