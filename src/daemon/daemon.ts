// The daemon process around the director: config loading, the IPVS check, control socket, metrics, logging,
// signals (SIGHUP reload, SIGTERM/SIGINT stop within a bound, SIGUSR1/SIGUSR2 dumps) and systemd readiness.
import { mkdirSync } from 'node:fs';
import { flushCompileCache } from 'node:module';
import type { Server } from 'node:net';
import { virtualServerLabel } from '../check/labels.ts';
import { formatProblem, loadConfig } from '../config/index.ts';
import type { Config } from '../config/model.ts';
import { IpvsClient } from '../ipvs/client.ts';
import { IpvsError } from '../ipvs/errors.ts';
import { Alerts } from '../control/alerts.ts';
import { NotifyFifos } from '../control/notify-fifo.ts';
import { errorLine } from '../errors.ts';
import { listenMetrics } from '../control/http.ts';
import { dumpLine, provideDumps } from '../control/dumps.ts';
import { DirectorMetrics } from '../control/metrics.ts';
import type { ReloadOutcome } from '../control/protocol.ts';
import { listenControl } from '../control/server.ts';
import { realPorts } from './adapters.ts';
import { Director } from '../director/director.ts';
import { applyIpvsSysctls, procSysctls, type SysctlChange, undoIpvsSysctls } from '../director/ipvs-sysctl.ts';
import { eventLogger } from './log.ts';
import { checkQuorumTracks, parseQuorumTrack } from '../director/quorum-track.ts';
import { sdNotify } from './sd-notify.ts';
import { statisticsOf } from '../director/status.ts';
import { stallLine, startWatchdog, watchStalls } from './watchdog.ts';

/** How long a stop waits for alert mails still to go (the instances' "Stopping" among them), within --stop-timeout. */
const ALERT_DRAIN_MS = 3_000;

export interface DaemonOptions {
  readonly file: string;
  readonly control: string;
  /** HOST:PORT or "off". */
  readonly metrics: string;
  readonly metricsNodeIpvs: boolean;
  readonly metricsBackendTraffic: boolean;
  readonly logJson: boolean;
  readonly stateFile: string;
  readonly runDir: string;
  readonly driftIntervalS: number;
  readonly stopTimeoutS: number;
  readonly quorumTrack: readonly string[];
  /** Where SIGUSR1 writes the state (what `ipvs-ts status --json` prints) and SIGUSR2 the counters. */
  readonly dataFile: string;
  readonly statsFile: string;
}

/** Runs until SIGTERM/SIGINT (exit code 0) or the death of VRRP (1). Every failure is one line on stderr. */
export async function runDaemon(opts: DaemonOptions, stderr: NodeJS.WritableStream = process.stderr): Promise<number> {
  const fail = (message: string) => {
    stderr.write(`ipvs-ts daemon: ${message}\n`);
    return 1;
  };
  // IPVS first: without it nothing else matters, and the fix is one command.
  let ipvs: IpvsClient;
  try {
    ipvs = await IpvsClient.open();
  } catch (err) {
    if (err instanceof IpvsError && err.code === 'IPVS_UNAVAILABLE') return fail(err.message);
    return fail(`cannot open IPVS: ${errorLine(err)}`);
  }
  const log = eventLogger(opts.logJson, stderr);
  const servers: Server[] = [];
  let ports: ReturnType<typeof realPorts> | undefined;
  let metrics: DirectorMetrics | undefined;
  let fifos: NotifyFifos | undefined;
  let withdrawDumps: (() => void) | undefined;
  // Before the config parse, the longest legitimate stall, so the pings and the stall log cover start-up too.
  const stopWatchdog = startWatchdog();
  const stopStallWatch = watchStalls({
    onStall: (delayMs) => {
      stderr.write(stallLine(opts.logJson, delayMs));
      metrics?.eventLoopStall(delayMs);
    },
  });
  try {
    const loaded = load(opts.file, stderr);
    if (!loaded.config) return fail(`${opts.file} has errors; nothing started`);
    const config = loaded.config;
    const tracks = opts.quorumTrack.map(parseQuorumTrack);
    const trackProblems = checkQuorumTracks(config, tracks, virtualServerLabel);
    if (trackProblems.length) return fail(trackProblems.join('; '));
    mkdirSync(opts.runDir, { recursive: true, mode: 0o755 });
    if (config.globalDefs.lvs.flushOnStart) await ipvs.flush();
    ports = realPorts({
      config,
      ipvs,
      stateFile: opts.stateFile,
      onScriptError: (message) => director.report({ type: 'error', where: 'script', message }),
      onAddressOverrun: () => director.addressesLost(),
      onRxLowerPri: (ev) => director.report({ type: 'vrrp-rx-lower-pri', ...ev }),
    });
    const director = new Director(config, ports, { quorumTracks: tracks, runDir: opts.runDir, driftIntervalMs: opts.driftIntervalS * 1000 });
    director.onEvent(log);
    metrics = new DirectorMetrics(() => tables(), { nodeIpvsNames: opts.metricsNodeIpvs, backendTraffic: opts.metricsBackendTraffic });
    director.onEvent(metrics.onEvent);
    const alerts = new Alerts({ config: () => director.config, report: (e) => director.report(e) });
    director.onEvent(alerts.onEvent);
    fifos = new NotifyFifos({ config: () => director.config, report: (e) => director.report(e) });
    director.onEvent(fifos.onEvent);
    // The BGP announcer (bgp_announcer block) follows the director's events from the first one, so it sees every
    // virtual server's first quorum verdict.
    // Its ten modules only for a configuration with a bgp_announcer block (a reload never adds the announcer).
    const bgpModule = config.bgpAnnouncer ? await import('../bgp/service.ts') : undefined;
    const bgp = bgpModule?.createBgpService(config, { report: (e) => director.report({ type: 'bgp', line: bgpModule.describeBgpEvent(e), error: e.type.endsWith('error') }) });
    if (bgp) director.onEvent(bgp.onEvent);
    const status = async (opts: { readonly summary?: boolean } = {}) => ({ ...(await director.status(opts)), ...(bgp ? { bgp: bgp.status() } : {}) });
    const tables = async () => ({ ...(await director.tables()), ...(bgp ? { bgp: bgp.status() } : {}) });
    const reportSysctls = (changes: readonly SysctlChange[]) => {
      for (const c of changes) director.report({ type: 'ipvs-sysctl', ...c });
    };
    // IPVS is loaded (the client opened), so net.ipv4.vs exists; a refused setting ends the start here.
    reportSysctls(await applyIpvsSysctls(procSysctls, config.ipvsSysctl));

    let reloading: Promise<ReloadOutcome> | undefined;
    const reload = (): Promise<ReloadOutcome> => {
      reloading ??= (async () => {
        sdNotify(`RELOADING=1\nMONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`);
        try {
          const next = load(opts.file, stderr);
          const problems = next.problems;
          const bad = next.config ? checkQuorumTracks(next.config, tracks, virtualServerLabel) : [];
          if (!next.config || bad.length) {
            const why = [...problems.filter((p) => p.includes('error: ')), ...bad];
            director.report({ type: 'reload-rejected', problems: why.length ? why : ['the configuration has errors'] });
            return { applied: false, problems: [...problems, ...bad] };
          }
          // The kernel's IPVS settings first: a refused one rejects the reload before anything changed; a reload
          // VRRP refuses after them puts them back.
          let sysctlChanges: SysctlChange[] = [];
          try {
            sysctlChanges = await applyIpvsSysctls(procSysctls, next.config.ipvsSysctl);
          } catch (err) {
            const why = errorLine(err);
            director.report({ type: 'reload-rejected', problems: [why] });
            return { applied: false, problems: [...problems, why] };
          }
          try {
            await director.reload(next.config);
            reportSysctls(sysctlChanges);
            bgp?.reload(next.config);
          } catch (err) {
            await undoIpvsSysctls(procSysctls, sysctlChanges);
            // VRRP refused the new instances (say, an interface this host lacks): nothing of the reload was applied.
            const e = err as Error & { code?: string };
            const why = `${e.message}${e.code ? ` [${e.code}]` : ''}`;
            director.report({ type: 'reload-rejected', problems: [why] });
            return { applied: false, problems: [...problems, why] };
          }
          return { applied: true, problems };
        } finally {
          sdNotify('READY=1');
          reloading = undefined;
        }
      })();
      return reloading;
    };

    // Signals are taken from here on, before the start: a SIGTERM that comes while the table is being programmed
    // (`systemctl stop` during a long start) stops the daemon cleanly once the start is over, instead of killing it
    // between programming IPVS and starting VRRP; a SIGHUP then waits for the start as well.
    let startDone = (): void => undefined;
    const started = new Promise<void>((resolve) => (startDone = resolve));
    const signalled = new Promise<'signal'>((resolve) => {
      process.on('SIGHUP', () => void started.then(reload));
      process.once('SIGTERM', () => resolve('signal'));
      process.once('SIGINT', () => resolve('signal'));
    });
    withdrawDumps = provideDumps({
      data: { file: opts.dataFile, build: status },
      stats: { file: opts.statsFile, build: async () => statisticsOf(await director.status()) },
      report: (r) => director.report(r.error === undefined ? { type: 'dump', kind: r.kind, file: r.file } : { type: 'error', where: 'dump', message: dumpLine(r) }),
    });
    // A dead VRRP worker ends the daemon with status 1 rather than being restarted here: systemd's Restart=on-failure
    // starts a fresh process (as keepalived's parent starts a fresh VRRP child), which adopts the IPVS table as after
    // kill -9 and re-elects; its StartLimitBurst stops a crash loop loudly, where an in-process retry would hide it.
    // Until then status and /metrics show the instances in STOP; the director removes the VIPs (nothing defends them)
    // but nothing from IPVS, so services on addresses VRRP does not manage keep serving and the restarted daemon
    // adopts the table without a change.
    // A dead IPVS connection (every request failing for 30 s) ends it the same way: a fresh process opens a fresh
    // socket and adopts the table.
    const partFailed = new Promise<'vrrp-failed' | 'ipvs-failed'>((resolve) => {
      director.onEvent((e) => {
        if (e.type === 'vrrp-failed' || e.type === 'ipvs-failed') resolve(e.type);
      });
    });
    servers.push(await listenControl(opts.control, { status, reload }));
    if (opts.metrics !== 'off') servers.push(await listenMetrics(opts.metrics, metrics));
    // A BIRD that does not come up is reported and retried by the announcer; the director runs regardless.
    await bgp?.start().catch((err: unknown) => director.report({ type: 'bgp', line: `BGP announcer: ${(err as Error).message}`, error: true }));
    await director.start();
    sdNotify(`READY=1\nSTATUS=${config.virtualServers.length} virtual server(s), ${config.vrrpInstances.length} VRRP instance(s)`);
    // With a compile cache (NODE_COMPILE_CACHE, set by the systemd unit) node writes it only at a clean exit; a
    // daemon that is killed or crashes would then start cold again. Written now, a restart after kill -9 loads its
    // modules about twice as fast (docs/benchmarks.md, "The VM lab"). Nothing happens without a cache.
    flushCompileCache();
    startDone();

    const why = await Promise.race([signalled, partFailed]);
    sdNotify('STOPPING=1');
    const bound = setTimeout(() => {
      stderr.write(`ipvs-ts daemon: did not stop within ${opts.stopTimeoutS} s; exiting anyway\n`);
      process.exit(1);
    }, opts.stopTimeoutS * 1000);
    bound.unref();
    for (const s of servers) s.close();
    await director.stop({ keepTable: why !== 'signal' });
    // The director's stop already withdrew every VIP; this waits withdraw_hold, then stops BIRD.
    await bgp?.stop();
    await alerts.stop(ALERT_DRAIN_MS);
    clearTimeout(bound);
    if (why !== 'signal') return fail(`${why === 'vrrp-failed' ? 'VRRP' : 'the IPVS connection'} failed; exiting with status 1 so that the service manager restarts the daemon (the IPVS table is left serving and will be adopted)`);
    return 0;
  } catch (err) {
    return fail(errorLine(err));
  } finally {
    stopStallWatch();
    stopWatchdog();
    withdrawDumps?.();
    fifos?.close();
    for (const s of servers) s.close();
    metrics?.close();
    ports?.close();
    ipvs.close();
  }
}

function load(file: string, stderr: NodeJS.WritableStream): { config: Config | undefined; problems: string[] } {
  const { config, problems } = loadConfig(file);
  const lines = problems.map(formatProblem);
  for (const l of lines) stderr.write(`${l}\n`);
  return { config, problems: lines };
}
