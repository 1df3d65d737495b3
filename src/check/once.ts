// `check --once`: every checker of every real server run once, concurrently; a real server is up when all its
// checkers pass. No retries and no timing: it answers "do the checks pass right now?", not "what would the
// director decide", which needs the scheduler.
import pLimit from 'p-limit';
import type { Checker, RealServer, VirtualServer } from '../config/model.ts';
import type { RunChecker } from './runner.ts';
import type { CheckResult } from './types.ts';

export interface OnceRow {
  readonly virtualServer: VirtualServer;
  readonly realServer: RealServer;
  /** Absent for a real server without checkers (always up). */
  readonly checker?: Checker;
  readonly result: CheckResult;
}

export async function checkOnce(virtualServers: readonly VirtualServer[], run: RunChecker, concurrency = 1_000): Promise<OnceRow[]> {
  const limit = pLimit(concurrency);
  const signal = new AbortController().signal;
  const rows: Promise<OnceRow>[] = [];
  for (const virtualServer of virtualServers) {
    for (const realServer of virtualServer.realServers) {
      if (realServer.checkers.length === 0) {
        rows.push(Promise.resolve({ virtualServer, realServer, result: { ok: true, reason: 'no checkers: always up', latencyMs: 0 } }));
      }
      for (const checker of realServer.checkers) {
        rows.push(limit(async () => ({ virtualServer, realServer, checker, result: await run(checker, signal) })));
      }
    }
  }
  return Promise.all(rows);
}
