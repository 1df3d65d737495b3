// What `ipvs-ts check` runs (src/cli/check.ts defines the command): only the health checkers of a config, printing
// verdict changes as they happen, or with --once every checker once, a table, and exit 0 when every real server is up.
import { readFileSync } from 'node:fs';
import { formatProblem, loadConfig } from '../config/index.ts';
import { CheckError } from '../check/errors.ts';
import type { HttpOptions } from '../check/http.ts';
import { checkerLabel, endpointLabel, virtualServerLabel } from '../check/labels.ts';
import { checkOnce, type OnceRow } from '../check/once.ts';
import { protocolChecker, sharedRunners } from '../check/runner.ts';
import type { CheckEvent } from '../check/types.ts';

export interface CheckOptions {
  file: string;
  once?: boolean;
  json?: boolean;
  runScripts?: boolean;
  keepalivedStart?: boolean;
  tlsVerify?: boolean;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  maxBody?: number;
  concurrency?: number;
}

/** Exit codes: 0 all up (or a clean stop), 1 config errors, 2 at least one real server down (--once). */
export async function runCheck(opts: CheckOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const { config, problems } = loadConfig(opts.file, { skipHostChecks: true });
  for (const p of problems) err.write(`${formatProblem(p)}\n`);
  if (!config) return 1;
  const http = httpOptions(opts);
  const policy = {
    http,
    ...(config.globalDefs.scriptUser ? { scriptUser: config.globalDefs.scriptUser } : {}),
    enableScriptSecurity: config.globalDefs.enableScriptSecurity,
  };
  if (opts.once) {
    const rows = await checkOnce(config.virtualServers, protocolChecker(policy), opts.concurrency);
    out.write(opts.json ? rows.map((r) => JSON.stringify(onceJson(r))).join('\n') + '\n' : onceTable(rows));
    return rows.every((r) => r.result.ok) ? 0 : 2;
  }
  // The daemon's arrangement: one runner per virtual server on one pool (one timer, one concurrency limit).
  const runnerFor = sharedRunners({
    ...policy,
    runScripts: opts.runScripts ?? false,
    upBeforeFirstCheck: opts.keepalivedStart ?? false,
    firstCheckRetries: !(opts.keepalivedStart ?? false),
    ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
    onScriptError: (a, m) => err.write(`${a.reason} ${a.command}: ${m}\n`),
  });
  const runners = config.virtualServers.map(runnerFor);
  for (const runner of runners) {
    runner.subscribe((e) => out.write(`${opts.json ? JSON.stringify(eventJson(e)) : formatEvent(e, opts.runScripts ?? false)}\n`));
  }
  for (const runner of runners) runner.start();
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await Promise.all(runners.map((r) => r.stop()));
  return 0;
}

function httpOptions(opts: CheckOptions): HttpOptions {
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) throw new CheckError('BAD_ARGUMENT', '--tls-cert and --tls-key go together');
  return {
    ...(opts.maxBody !== undefined ? { maxBodyBytes: opts.maxBody } : {}),
    ...(opts.tlsVerify ? { verifyTls: true } : {}),
    ...(opts.tlsCa ? { ca: readFileSync(opts.tlsCa) } : {}),
    ...(opts.tlsCert && opts.tlsKey ? { clientCert: { cert: readFileSync(opts.tlsCert), key: readFileSync(opts.tlsKey) } } : {}),
  };
}

function formatEvent(e: CheckEvent, scriptsRun: boolean): string {
  const time = new Date(e.at).toISOString();
  const vs = 'virtualServer' in e ? virtualServerLabel(e.virtualServer) : '';
  switch (e.kind) {
    case 'realServer': {
      const table = !e.present ? 'removed' : `weight ${e.weight}`;
      return `${time} ${vs} -> ${endpointLabel(e.realServer)} ${e.up ? 'UP' : 'DOWN'} ${table} (${e.reason}; ${e.latencyMs} ms)`;
    }
    case 'quorum':
      return `${time} ${vs} quorum ${e.up ? 'UP' : 'LOST'} (live weight ${e.liveWeight}, quorum ${e.virtualServer.quorum})`;
    case 'sorryServer':
      return `${time} ${vs} sorry server ${endpointLabel(e.sorryServer)} ${e.present ? `IN weight ${e.weight}` : 'OUT'}`;
    case 'script':
      return `${time} ${e.reason} ${scriptsRun ? 'running' : 'not run (use --run-scripts)'}: ${e.command}`;
  }
}

function eventJson(e: CheckEvent): Record<string, unknown> {
  const base = { kind: e.kind, at: new Date(e.at).toISOString() };
  switch (e.kind) {
    case 'realServer':
      return { ...base, virtualServer: virtualServerLabel(e.virtualServer), realServer: endpointLabel(e.realServer), up: e.up, present: e.present, weight: e.weight, reason: e.reason, latencyMs: e.latencyMs };
    case 'quorum':
      return { ...base, virtualServer: virtualServerLabel(e.virtualServer), up: e.up, liveWeight: e.liveWeight };
    case 'sorryServer':
      return { ...base, virtualServer: virtualServerLabel(e.virtualServer), sorryServer: endpointLabel(e.sorryServer), present: e.present, weight: e.weight };
    case 'script':
      return { ...base, reason: e.reason, command: e.command };
  }
}

function onceJson(r: OnceRow): Record<string, unknown> {
  return {
    virtualServer: virtualServerLabel(r.virtualServer),
    realServer: endpointLabel(r.realServer),
    checker: r.checker?.type ?? null,
    ok: r.result.ok,
    ...(r.result.code ? { code: r.result.code } : {}),
    reason: r.result.reason,
    latencyMs: r.result.latencyMs,
  };
}

function onceTable(rows: readonly OnceRow[]): string {
  const head = ['VIRTUAL SERVER', 'REAL SERVER', 'CHECK', 'RESULT', 'LATENCY', 'REASON'];
  const body = rows.map((r) => [
    virtualServerLabel(r.virtualServer),
    endpointLabel(r.realServer),
    r.checker ? checkerLabel(r.checker) : '-',
    r.result.ok ? 'up' : 'DOWN',
    `${r.result.latencyMs.toFixed(1)} ms`,
    r.result.reason,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  return [head, ...body].map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}
