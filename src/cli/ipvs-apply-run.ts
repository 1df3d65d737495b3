// What `ipvs-ts ipvs apply` runs (src/cli/ipvs.ts defines the command): a config's virtual servers, planned
// against the kernel's table and programmed once.
import { formatProblem, loadConfig } from '../config/index.ts';
import { IpvsClient } from '../ipvs/client.ts';
import { describeOp } from '../ipvs/describe.ts';
import { desiredTable } from '../ipvs/desired.ts';
import { reconcile } from '../ipvs/reconcile.ts';
import type { IpvsOp } from '../ipvs/types.ts';

const MARK: Record<IpvsOp['op'], string> = { 'add-service': '+', 'add-dest': '+', 'edit-service': '~', 'edit-dest': '~', 'del-service': '-', 'del-dest': '-' };

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
