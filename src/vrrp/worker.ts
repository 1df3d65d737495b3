// The VRRP worker thread: owns the sockets, timers and scripts of every instance, so advert timing does not
// depend on what the main thread is doing (health checks, IPVS syncs, a busy reload). Talks to service.ts by
// messages only.
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config/model.ts';
import { VrrpEngine } from './engine.ts';
import { VrrpError, type VrrpErrorCode } from './errors.ts';
import type { FromWorker, ToWorker } from './service.ts';

const port = parentPort;
if (port === null) throw new Error('worker.ts runs only as a worker thread');
const data = workerData as { config: Config; reportSends: boolean };
const post = (m: FromWorker) => port.postMessage(m);

/**
 * Advert timing must not depend on other processes of a busy director either: this thread asks for SCHED_RR
 * priority 1 with reset-on-fork, so scripts run normally (keepalived's vrrp_rt_priority; real time runs before every normal task; the
 * kernel's RT throttling still caps it), else nice −10. Linux applies both to one thread when given its TID.
 * Measured in docs/benchmarks.md.
 */
try {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
  if (tid > 0) {
    try {
      execFileSync('chrt', ['-r', '--reset-on-fork', '-p', '1', String(tid)], { stdio: 'ignore' });
    } catch {
      setPriority(tid, -10);
    }
  }
} catch {
  // not root or not Linux: run at normal priority
}

const engine = new VrrpEngine(data.config, {
  log: (line) => post({ type: 'log', line }),
  transition: (ev) => post({ type: 'transition', ev }),
  rxLowerPri: (ev) => post({ type: 'rx-lower-pri', ev }),
  ...(data.reportSends ? { sent: (instance: string, plannedMs: number, actualMs: number) => post({ type: 'sent', instance, plannedMs, actualMs }) } : {}),
});

// A bug must not leave VIPs behind: leave mastership and remove them, then report and end the thread.
process.on('uncaughtException', (err) => {
  post({ type: 'log', line: `VRRP worker error: ${err.stack ?? err.message}` });
  void engine.stop().finally(() => {
    post({ type: 'failed', code: 'VRRP_WORKER', message: err.message });
    process.exit(1);
  });
});

/** Reloads one after the other: each plans from the configuration the previous one left. */
let reloads: Promise<void> = Promise.resolve();

port.on('message', (m: ToWorker) => {
  if (m.type === 'status') post({ type: 'status', id: m.id, status: engine.status() });
  else if (m.type === 'reconfigure') {
    reloads = reloads.then(() =>
      engine.reconfigure(m.config).then(
        (plan) => post({ type: 'reconfigured', id: m.id, plan }),
        (err: unknown) => post({ type: 'reconfigure-failed', id: m.id, ...errorFields(err, 'VRRP_RELOAD') }),
      ),
    );
  } else if (m.type === 'stop') {
    void engine.stop().then(() => {
      post({ type: 'stopped' });
      port.close();
    });
  }
});

engine.start().then(
  () => post({ type: 'started' }),
  async (err: unknown) => {
    await engine.stop().catch(() => undefined);
    // Let the sockets' close callbacks run first: a native handle still closing when the thread exits aborts the process.
    await new Promise((resolve) => setImmediate(resolve));
    post({ type: 'failed', ...errorFields(err, 'VRRP_START') });
    process.exit(1);
  },
);

/**
 * A VrrpError's code, else `fallback` (a system or netlink error's errno name is in its message already), and the
 * message.
 */
function errorFields(err: unknown, fallback: VrrpErrorCode): { code: VrrpErrorCode; message: string } {
  return { code: err instanceof VrrpError ? err.code : fallback, message: err instanceof Error ? err.message : String(err) };
}
