// `ipvs-ts vrrp -f keepalived.conf`: runs only the VRRP part (like `keepalived --vrrp`) until SIGTERM/SIGINT,
// then leaves mastership with priority-0 adverts and removes every VIP before exiting. As in keepalived, SIGUSR1
// writes the instances' state and SIGUSR2 their counters (here as JSON; src/control/dumps.ts).
import { Command } from 'commander';
import { formatProblem, loadConfig } from '../config/index.ts';
import { defaultDumpFile, dumpLine, provideDumps } from '../control/dumps.ts';
import type { VrrpStateName } from '../vrrp/machine.ts';
import { vrrpInstances, type VrrpFailure } from '../vrrp/instance-status.ts';
import { VrrpService } from '../vrrp/service.ts';

export interface VrrpOptions {
  file: string;
  dataFile: string;
  statsFile: string;
}

export async function runVrrp(opts: VrrpOptions): Promise<number> {
  const { config, problems } = loadConfig(opts.file, { skipHostChecks: true });
  for (const p of problems) process.stderr.write(`${formatProblem(p)}\n`);
  if (config === undefined) return 1;
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const startedAt = Date.now();
  const views = new Map<string, { state: VrrpStateName; priority: number; since: number; from: VrrpStateName }>();
  let svc: VrrpService;
  let failure: VrrpFailure | undefined;
  let wake: () => void = () => undefined;
  try {
    svc = await VrrpService.start(config, {
      log,
      transition: (ev) => views.set(ev.instance, { state: ev.to, priority: ev.priority, since: Date.now(), from: ev.from }),
      failed: (err) => {
        failure = { code: err.code, message: err.message, at: Date.now() };
        wake();
      },
    });
  } catch (err) {
    const e = err as Error & { code?: string };
    process.stderr.write(`ipvs-ts vrrp: ${e.message}${e.code ? ` [${e.code}]` : ''}\n`);
    return 1;
  }
  log(`VRRP started: ${config.vrrpInstances.length} instance(s) from ${opts.file}`);
  const withdrawDumps = provideDumps({
    data: {
      file: opts.dataFile,
      build: async () => {
        const live = await svc.status().catch(() => undefined);
        return { startedAt, vrrp: vrrpInstances(config, { live, views, failure }, startedAt), vrrpUnmatched: live?.unmatched ?? {}, vrrpFailure: failure ?? null };
      },
    },
    stats: { file: opts.statsFile, build: () => svc.status() },
    report: (r) => log(dumpLine(r)),
  });
  await new Promise<void>((resolve) => {
    wake = resolve;
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  log('Stopping');
  await svc.stop();
  withdrawDumps();
  if (failure !== undefined) {
    process.stderr.write(`ipvs-ts vrrp: ${failure.message} [${failure.code}]\n`);
    return 1;
  }
  log('Stopped');
  return 0;
}

export function vrrpCommand(): Command {
  return new Command('vrrp')
    .description('run only VRRP from a keepalived.conf (like keepalived --vrrp) until SIGTERM')
    .requiredOption('-f, --file <path>', 'the keepalived.conf to run')
    .option('--data-file <path>', 'where SIGUSR1 writes the instances\' state as JSON', defaultDumpFile('data'))
    .option('--stats-file <path>', 'where SIGUSR2 writes the counters as JSON', defaultDumpFile('stats'))
    .action(async (opts: VrrpOptions) => {
      process.exitCode = await runVrrp(opts);
    });
}
