// `ipvs-ts ipvs list|apply`: read the kernel's IPVS table, or program a config's virtual servers into it once.
import { Command } from 'commander';
import { formatProblem, loadConfig } from '../config/index.ts';
import { IpvsClient } from '../ipvs/client.ts';
import { describeOp } from '../ipvs/describe.ts';
import { desiredTable } from '../ipvs/desired.ts';
import { formatListing, type ListMode, sortListing, sortTable, tableJson } from '../ipvs/format.ts';
import { reconcile } from '../ipvs/reconcile.ts';
import { DEFAULT_STATE_FILE } from '../ipvs/state.ts';
import type { IpvsOp } from '../ipvs/types.ts';

const MARK: Record<IpvsOp['op'], string> = { 'add-service': '+', 'add-dest': '+', 'edit-service': '~', 'edit-dest': '~', 'del-service': '-', 'del-dest': '-' };

export async function runIpvsList(opts: { json?: boolean; stats?: boolean; rate?: boolean }, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const client = await IpvsClient.open();
  try {
    if (opts.json) {
      const [info, kernel] = await Promise.all([client.info(), client.table()]);
      out.write(tableJson(info, sortTable(kernel)));
      return 0;
    }
    const mode: ListMode = opts.stats ? 'stats' : opts.rate ? 'rate' : 'plain';
    const [info, listing] = await Promise.all([client.info(), client.listing(mode !== 'plain')]);
    out.write(formatListing(info, sortListing(listing), mode));
    return 0;
  } finally {
    client.close();
  }
}

export interface IpvsApplyOptions {
  file: string;
  dryRun?: boolean;
  state: string;
  drain?: boolean;
}

export async function runIpvsApply(opts: IpvsApplyOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const { config, problems } = loadConfig(opts.file, { skipHostChecks: true });
  for (const p of problems) err.write(`${formatProblem(p)}\n`);
  if (!config) {
    err.write(`${opts.file}: invalid, nothing applied\n`);
    return 1;
  }
  const client = await IpvsClient.open();
  try {
    const result = await reconcile(client, desiredTable(config), { stateFile: opts.state, dryRun: opts.dryRun ?? false, drainRemoved: opts.drain ?? false });
    for (const op of result.plan) out.write(`${MARK[op.op]} ${describeOp(op)}\n`);
    for (const f of result.failed) err.write(`ipvs-ts: ${f.error.message}\n`);
    const n = result.plan.length;
    if (opts.dryRun) out.write(n ? `dry run: ${n} change${n === 1 ? '' : 's'} planned, nothing applied\n` : 'dry run: the kernel already matches\n');
    else if (n === 0) out.write('no changes: the kernel already matches\n');
    else out.write(`${result.applied.length} of ${n} change${n === 1 ? '' : 's'} applied\n`);
    return result.failed.length ? 1 : 0;
  } finally {
    client.close();
  }
}

export function ipvsCommand(): Command {
  const ipvs = new Command('ipvs').description("the kernel's IPVS table: list it, or program a config's virtual servers into it");
  ipvs
    .command('list')
    .description('print the IPVS table like ipvsadm -Ln (numeric addresses)')
    .option('--json', 'machine-readable output')
    .option('--stats', 'packet and byte counters instead of settings')
    .option('--rate', 'rates instead of settings')
    .action(async (opts: { json?: boolean; stats?: boolean; rate?: boolean }) => {
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
      process.exitCode = await runIpvsApply(opts);
    });
  return ipvs;
}
