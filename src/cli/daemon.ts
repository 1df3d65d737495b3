// `ipvs-ts daemon [-f keepalived.conf]`: the director (IPVS + checks + VRRP) until SIGTERM; SIGHUP reloads.
import { Command } from 'commander';
import { DEFAULT_CONTROL_SOCKET } from '../control/protocol.ts';
import { DEFAULT_METRICS_ADDRESS } from '../control/http.ts';
import { DirectorError } from '../director/errors.ts';
import { defaultDumpFile } from '../control/dumps.ts';
import type { DaemonOptions } from '../daemon/daemon.ts';
import { DEFAULT_STATE_FILE } from '../ipvs/state.ts';

/** Where keepalived (and so ipvs-ts) reads its configuration when not told otherwise. */
const DEFAULT_CONFIG_FILE = '/etc/keepalived/keepalived.conf';

export function daemonCommand(): Command {
  return new Command('daemon')
    .description('run the director: program IPVS from keepalived.conf, health-check real servers, run VRRP (SIGHUP reloads, SIGTERM stops, SIGUSR1/SIGUSR2 dump state/counters)')
    .option('-f, --file <path>', 'the keepalived.conf to run', DEFAULT_CONFIG_FILE)
    .option('--control <path>', 'control socket for `ipvs-ts status` and `ipvs-ts reload`', DEFAULT_CONTROL_SOCKET)
    .option('--metrics <host:port>', 'Prometheus /metrics listen address, or "off"', DEFAULT_METRICS_ADDRESS)
    .option('--metrics-node-ipvs', "also export node_exporter's node_ipvs_backend_* names (hosts without node_exporter)")
    .option('--metrics-backend-traffic', 'also export packets and bytes per real server (per virtual service they always are)')
    .option('--log-json', 'log one JSON object per line instead of text')
    .option('--state <path>', 'where to remember which IPVS services ipvs-ts owns', DEFAULT_STATE_FILE)
    .option('--run-dir <path>', 'directory for runtime files (quorum-track flags)', '/run/ipvs-ts')
    .option('--drift-interval <seconds>', 'read the whole kernel table back within this period, a slice each second (large tables take longer: at most 1% of a core)', seconds, 5)
    .option('--stop-timeout <seconds>', 'exit after this long on SIGTERM even if not done', seconds, 10)
    .option('--quorum-track <VS=INSTANCE:-WEIGHT>', 'lower a VRRP instance\'s priority while a virtual server has lost quorum, e.g. "TCP 10.0.0.1:80=VI_1:-50" (repeatable)', collect, [])
    .option('--data-file <path>', 'where SIGUSR1 writes the state as JSON (what `ipvs-ts status --json` prints)', defaultDumpFile('data'))
    .option('--stats-file <path>', 'where SIGUSR2 writes the counters as JSON', defaultDumpFile('stats'))
    .action(async (o: { file: string; control: string; metrics: string; metricsNodeIpvs?: boolean; metricsBackendTraffic?: boolean; logJson?: boolean; state: string; runDir: string; driftInterval: number; stopTimeout: number; quorumTrack: string[]; dataFile: string; statsFile: string }) => {
      const opts: DaemonOptions = {
        file: o.file,
        control: o.control,
        metrics: o.metrics,
        metricsNodeIpvs: o.metricsNodeIpvs ?? false,
        metricsBackendTraffic: o.metricsBackendTraffic ?? false,
        logJson: o.logJson ?? false,
        stateFile: o.state,
        runDir: o.runDir,
        driftIntervalS: o.driftInterval,
        stopTimeoutS: o.stopTimeout,
        quorumTrack: o.quorumTrack,
        dataFile: o.dataFile,
        statsFile: o.statsFile,
      };
      // Exit as soon as the shutdown is done: a library handle left open (a checker's connection pool) must not
      // keep a stopped director's process around.
      const { runDaemon } = await import('../daemon/daemon.ts');
      process.exit(await runDaemon(opts));
    });
}

function seconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new DirectorError('DIRECTOR_OPTION', `expected a number of seconds, got "${v}"`);
  return n;
}

function collect(v: string, acc: string[]): string[] {
  return [...acc, v];
}
