// `ipvs-ts vrrp -f keepalived.conf`: runs only the VRRP part (like `keepalived --vrrp`) until SIGTERM/SIGINT,
// then leaves mastership with priority-0 adverts and removes every VIP before exiting. SIGUSR2 writes the
// per-instance counters as JSON (keepalived writes its stats file on SIGUSR2 too).
import { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { formatProblem, loadConfig } from '../config/index.ts';
import { VrrpService } from '../vrrp/service.ts';

export interface VrrpOptions {
  file: string;
  statsFile: string;
}

export async function runVrrp(opts: VrrpOptions): Promise<number> {
  const { config, problems } = loadConfig(opts.file, { skipHostChecks: true });
  for (const p of problems) process.stderr.write(`${formatProblem(p)}\n`);
  if (config === undefined) return 1;
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  let svc: VrrpService;
  let failed: Error | undefined;
  let wake: () => void = () => undefined;
  try {
    svc = await VrrpService.start(config, {
      log,
      failed: (err) => {
        failed = err;
        wake();
      },
    });
  } catch (err) {
    const e = err as Error & { code?: string };
    process.stderr.write(`ipvs-ts vrrp: ${e.message}${e.code ? ` [${e.code}]` : ''}\n`);
    return 1;
  }
  log(`VRRP started: ${config.vrrpInstances.length} instance(s) from ${opts.file}`);
  const dumpStats = () => {
    void svc.status().then((s) => {
      writeFileSync(opts.statsFile, `${JSON.stringify(s, null, 2)}\n`);
      log(`stats written to ${opts.statsFile}`);
    });
  };
  process.on('SIGUSR2', dumpStats);
  await new Promise<void>((resolve) => {
    wake = resolve;
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  log('Stopping');
  await svc.stop();
  process.off('SIGUSR2', dumpStats);
  if (failed !== undefined) {
    process.stderr.write(`ipvs-ts vrrp: ${failed.message}\n`);
    return 1;
  }
  log('Stopped');
  return 0;
}

export function vrrpCommand(): Command {
  return new Command('vrrp')
    .description('run only VRRP from a keepalived.conf (like keepalived --vrrp) until SIGTERM')
    .requiredOption('-f, --file <path>', 'the keepalived.conf to run')
    .option('--stats-file <path>', 'where SIGUSR2 writes the counters as JSON', '/tmp/ipvs-ts-vrrp.stats.json')
    .action(async (opts: VrrpOptions) => {
      process.exitCode = await runVrrp(opts);
    });
}
