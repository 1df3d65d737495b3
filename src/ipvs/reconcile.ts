// Make the kernel's IPVS table match the desired one: dump once, plan, apply, remember what we own.
import { type ApplyResult, IpvsClient } from './client.ts';
import { serviceKey } from './identity.ts';
import { planIpvs } from './plan.ts';
import { loadState, saveState } from './state.ts';
import type { IpvsOp, IpvsTable } from './types.ts';

export interface ReconcileOptions {
  readonly stateFile: string;
  readonly dryRun?: boolean;
  readonly drainRemoved?: boolean;
}

export interface ReconcileResult extends ApplyResult {
  readonly plan: readonly IpvsOp[];
}

export async function reconcile(client: IpvsClient, desired: IpvsTable, opts: ReconcileOptions): Promise<ReconcileResult> {
  const state = loadState(opts.stateFile);
  const kernel = await client.table();
  const plan = planIpvs({ desired, kernel, owned: state.owned, drainRemoved: opts.drainRemoved ?? false });
  if (opts.dryRun) return { plan, applied: [], failed: [] };
  const result = plan.length ? await client.apply(plan) : { applied: [], failed: [] };
  // A service we failed to delete stays ours.
  const desiredKeys = new Set(desired.services.map((s) => serviceKey(s.service.id)));
  const stillOwned = [...state.owned].filter(
    (k) => !desiredKeys.has(k) && result.failed.some((f) => f.op.op === 'del-service' && serviceKey(f.op.id) === k),
  );
  saveState(opts.stateFile, [...desiredKeys, ...stillOwned]);
  return { plan, ...result };
}
