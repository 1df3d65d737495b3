// `ipvs-ts ipvs list|apply`: read the kernel's IPVS table, or program a config's virtual servers into it once.
// The netlink client loads only when one runs, the config front end and the planner only for apply.
import { Command } from 'commander';
import { DEFAULT_STATE_FILE } from '../ipvs/state.ts';
import type { IpvsApplyOptions } from './ipvs-apply-run.ts';

export function ipvsCommand(): Command {
  const ipvs = new Command('ipvs').description("the kernel's IPVS table: list it, or program a config's virtual servers into it");
  ipvs
    .command('list')
    .description('print the IPVS table like ipvsadm -Ln (numeric addresses)')
    .option('--json', 'machine-readable output')
    .option('--stats', 'packet and byte counters instead of settings')
    .option('--rate', 'rates instead of settings')
    .action(async (opts: { json?: boolean; stats?: boolean; rate?: boolean }) => {
      const { runIpvsList } = await import('./ipvs-list-run.ts');
      process.exitCode = await runIpvsList(opts);
    });
  ipvs
    .command('apply')
    .description('make the IPVS table match the virtual servers of a keepalived.conf (every real server at its weight, no checks)')
    .requiredOption('-f, --file <path>', 'the keepalived.conf')
    .option('--dry-run', 'print the plan, change nothing')
    .option('--drain', 'set removed real servers to weight 0 and delete them once they carry no connections')
    .option('--state <path>', 'where to remember which services ipvs-ts owns', DEFAULT_STATE_FILE)
    .action(async (opts: IpvsApplyOptions) => {
      const { runIpvsApply } = await import('./ipvs-apply-run.ts');
      process.exitCode = await runIpvsApply(opts);
    });
  return ipvs;
}
