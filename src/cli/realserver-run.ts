// What `ipvs-ts realserver up|down|status` runs (src/cli/realserver.ts defines the commands): compare the host with
// what an LVS-DR/TUN real server needs, change what is missing and record it, report, or undo what was recorded.
import { NetlinkSocket } from '../netlink/socket.ts';
import { RealServerError } from '../realserver/errors.ts';
import { loadModule, readHost, runStep } from '../realserver/host.ts';
import { needs, parseVip, type Needs, type RealServerMode, type Vip } from '../realserver/needs.ts';
import { conflicts, describeStep, inspect, planDown, planUp, type Step } from '../realserver/plan.ts';
import { addToRecord, type Owned, type OwnedAddress, type OwnedSysctl, readRecord, writeRecord } from '../realserver/record.ts';
import { NETLINK_ROUTE } from '../sys/constants.ts';

export interface RealServerOptions {
  vip?: string[];
  mode?: RealServerMode;
  state: string;
}

type Out = NodeJS.WritableStream;

export async function runRealServer(action: 'up' | 'down' | 'status', opts: RealServerOptions, out: Out = process.stdout, err: Out = process.stderr): Promise<number> {
  const nl = NetlinkSocket.open(NETLINK_ROUTE);
  try {
    if (action === 'up') return await up(nl, opts, out, err);
    if (action === 'down') return await down(nl, opts, out);
    return await status(nl, opts, out, err);
  } finally {
    nl.close();
  }
}

async function up(nl: NetlinkSocket, opts: RealServerOptions, out: Out, err: Out): Promise<number> {
  const want = needs(opts.mode ?? 'dr', vipsFrom(opts.vip));
  const owned = readRecord(opts.state);
  let host = await readHost(nl, want.sysctls.map((s) => s.key));
  const wrong = conflicts(want, host);
  if (wrong.length > 0) {
    for (const c of wrong) err.write(`ipvs-ts: ${c}\n`);
    throw new RealServerError('REALSERVER_CONFLICT', 'nothing was changed');
  }
  let changes = 0;
  if (want.module && !host.links.has(want.device)) {
    loadModule(want.module, want.device);
    out.write(`+ module ${want.module} loaded (${want.device}; not unloaded by \`down\`)\n`);
    changes++;
    host = await readHost(nl, want.sysctls.map((s) => s.key));
    if (!host.links.has(want.device)) throw new RealServerError('REALSERVER_NO_TUNNEL', `${want.module} is loaded but there is no ${want.device} in this network namespace (net.core.fb_tunnels_only_for_init_net?)`);
  }
  const done = { addresses: [] as OwnedAddress[], links: [] as string[], sysctls: [] as OwnedSysctl[] };
  const steps = planUp(want, host);
  try {
    for (const step of steps) {
      await runStep(nl, host.ifindex, step);
      out.write(`${describeStep(step)}\n`);
      if (step.kind === 'sysctl') done.sysctls.push({ key: step.key, before: step.from, set: step.to });
      // lo stays up on `down`: a host with lo down is broken, whatever it was before.
      else if (step.kind === 'link' && step.device !== 'lo') done.links.push(step.device);
      else if (step.kind === 'add-address') done.addresses.push(step.address);
    }
  } finally {
    writeRecord(opts.state, addToRecord(owned, done));
  }
  changes += steps.length;
  const what = `${want.mode.toUpperCase()} (${want.addresses.map((a) => a.address).join(', ')})`;
  out.write(changes ? `real server prepared for ${what}: ${plural(changes, 'change')}\n` : `no changes: the real server is already prepared for ${what}\n`);
  return 0;
}

async function status(nl: NetlinkSocket, opts: RealServerOptions, out: Out, err: Out): Promise<number> {
  const groups = statusGroups(opts);
  if (groups.length === 0) {
    err.write(`ipvs-ts: no --vip given and no VIP recorded in ${opts.state}: nothing to check\n`);
    return 1;
  }
  let wrong = 0;
  for (const want of groups) {
    const host = await readHost(nl, want.sysctls.map((s) => s.key));
    const findings = inspect(want, host);
    for (const f of findings) out.write(`${f.ok ? 'ok   ' : 'WRONG'}  ${f.text}\n`);
    const bad = findings.filter((f) => !f.ok).length;
    const vips = want.addresses.map((a) => a.address).join(' ');
    out.write(bad ? `not prepared for ${want.mode.toUpperCase()}: ${plural(bad, 'wrong setting')} (\`ipvs-ts realserver up --mode ${want.mode} --vip ${vips}\` fixes what it can)\n` : `prepared for ${want.mode.toUpperCase()}: ${vips}\n`);
    wrong += bad;
  }
  return wrong ? 1 : 0;
}

async function down(nl: NetlinkSocket, opts: RealServerOptions, out: Out): Promise<number> {
  const owned = readRecord(opts.state);
  if (owned.addresses.length === 0 && owned.links.length === 0 && owned.sysctls.length === 0) {
    out.write(`nothing to undo: ipvs-ts has not changed this host (${opts.state})\n`);
    return 0;
  }
  const only = opts.vip?.length ? vipsFrom(opts.vip).map((v) => v.address) : undefined;
  const host = await readHost(nl, owned.sysctls.map((s) => s.key));
  const { steps, notes, remaining } = planDown(owned, host, only);
  let left: Owned = owned;
  try {
    for (const step of steps) {
      await runStep(nl, host.ifindex, step);
      out.write(`${describeStep(step)}\n`);
      left = forget(left, step);
    }
    left = remaining;
  } finally {
    writeRecord(opts.state, left);
  }
  for (const n of notes) out.write(`= ${n}\n`);
  out.write(steps.length ? `undone: ${plural(steps.length, 'change')}\n` : 'nothing to undo on the host\n');
  return 0;
}

/** Each --vip may carry several addresses separated by commas or spaces, as an environment file's VIPS="…" gives them. */
function vipsFrom(list: readonly string[] | undefined): Vip[] {
  const vips = (list ?? []).flatMap((v) => v.split(/[\s,]+/).filter(Boolean)).map(parseVip);
  if (vips.length === 0) throw new RealServerError('REALSERVER_ARGUMENT', 'give at least one --vip ADDRESS');
  return vips.filter((v, i) => vips.findIndex((o) => o.address === v.address) === i);
}

/** --vip with --mode (default DR), or else the VIPs `up` recorded, each with the mode it was prepared for. */
function statusGroups(opts: RealServerOptions): Needs[] {
  if (opts.vip?.length) return [needs(opts.mode ?? 'dr', vipsFrom(opts.vip))];
  const owned = readRecord(opts.state).addresses;
  const modes = [...new Set(owned.map((a) => a.mode))].filter((m) => !opts.mode || m === opts.mode);
  return modes.map((m) => needs(m, owned.filter((a) => a.mode === m)));
}

function forget(owned: Owned, step: Step): Owned {
  if (step.kind === 'del-address') return { ...owned, addresses: owned.addresses.filter((a) => a !== step.address) };
  if (step.kind === 'link') return { ...owned, links: owned.links.filter((l) => l !== step.device) };
  if (step.kind === 'sysctl') return { ...owned, sysctls: owned.sysctls.filter((s) => s.key !== step.key) };
  return owned;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
