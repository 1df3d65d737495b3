// What `ipvs-ts vrrp` runs (src/cli/vrrp.ts defines the command): only the VRRP part of a config until SIGTERM.
import { formatProblem, loadConfig } from '../config/index.ts';
import { errorLine } from '../errors.ts';
import { dumpLine, provideDumps } from '../control/dumps.ts';
import { NotifyFifos } from '../control/notify-fifo.ts';
import { describeEvent, type DirectorEvent, type DirectorEventBody } from '../director/events.ts';
import type { VrrpStateName } from '../vrrp/machine.ts';
import { followReload, vrrpInstances, type VrrpFailure } from '../vrrp/instance-status.ts';
import { summarizePlan } from '../vrrp/reload-plan.ts';
import { VrrpService } from '../vrrp/service.ts';

export interface VrrpOptions {
  file: string;
  dataFile: string;
  statsFile: string;
}

export async function runVrrp(opts: VrrpOptions): Promise<number> {
  const loaded = loadConfig(opts.file, { skipHostChecks: true });
  for (const p of loaded.problems) process.stderr.write(`${formatProblem(p)}\n`);
  if (loaded.config === undefined) return 1;
  let config = loaded.config;
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const startedAt = Date.now();
  const views = new Map<string, { state: VrrpStateName; priority: number; since: number; from: VrrpStateName }>();
  let svc: VrrpService;
  let failure: VrrpFailure | undefined;
  let wake: () => void = () => undefined;
  // keepalived --vrrp writes notify_fifo's and vrrp_notify_fifo's lines.
  const fifos = new NotifyFifos({ config: () => config, report: (e) => log(describeEvent(e)), parts: ['vrrp'] });
  const notice = (e: DirectorEventBody) => fifos.onEvent({ ...e, at: Date.now() } as DirectorEvent);
  try {
    svc = await VrrpService.start(config, {
      log,
      transition: (ev) => {
        views.set(ev.instance, { state: ev.to, priority: ev.priority, since: Date.now(), from: ev.from });
        notice({ type: 'vrrp', ...ev });
      },
      rxLowerPri: (ev) => notice({ type: 'vrrp-rx-lower-pri', ...ev }),
      failed: (err) => {
        failure = { code: err.code, message: err.message, at: Date.now() };
        wake();
      },
    });
  } catch (err) {
    fifos.close();
    process.stderr.write(`ipvs-ts vrrp: ${errorLine(err)}\n`);
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
  // One reload at a time, each applied to what the previous one left; a bad file or a refused instance keeps the
  // running configuration.
  let reloads = Promise.resolve();
  const reload = () => {
    reloads = reloads.then(async () => {
      const next = loadConfig(opts.file, { skipHostChecks: true });
      for (const p of next.problems) process.stderr.write(`${formatProblem(p)}\n`);
      if (next.config === undefined) {
        log(`reload rejected, keeping the running configuration: ${opts.file} has errors`);
        return;
      }
      try {
        const plan = await svc.reconfigure(next.config);
        config = next.config;
        followReload(views, plan);
        log(`reload applied: ${summarizePlan(plan)}`);
      } catch (err) {
        log(`reload rejected, keeping the running configuration: ${errorLine(err)}`);
      }
    });
  };
  process.on('SIGHUP', reload);
  await new Promise<void>((resolve) => {
    wake = resolve;
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  log('Stopping');
  notice({ type: 'stopping' });
  await svc.stop();
  fifos.close();
  withdrawDumps();
  if (failure !== undefined) {
    process.stderr.write(`ipvs-ts vrrp: ${failure.message} [${failure.code}]\n`);
    return 1;
  }
  log('Stopped');
  return 0;
}
