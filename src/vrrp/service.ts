// The main thread's handle on VRRP: starts the worker thread that runs the engine, relays its log lines and
// transitions, hands it a reloaded configuration, and stops it so every VIP is removed before the process exits. A worker that dies is noticed at
// once: requests fail with a VrrpError (VRRP_WORKER) instead of waiting for an answer that will never come.
import { Worker } from 'node:worker_threads';
import type { Config } from '../config/model.ts';
import type { VrrpReloadPlan } from './reload-plan.ts';
import type { InstanceStatus, LowerPriorityAdvert, Stats, TransitionEvent } from './engine.ts';
import { VrrpError, type VrrpErrorCode } from './errors.ts';

export type ToWorker =
  | { readonly type: 'stop' }
  | { readonly type: 'status'; readonly id: number }
  | { readonly type: 'reconfigure'; readonly id: number; readonly config: Config };

export interface VrrpStatus {
  readonly instances: readonly InstanceStatus[];
  /** Drops on a socket that no instance could claim (unknown VRID, unreadable packet), per interface/family. */
  readonly unmatched: Readonly<Record<string, Stats>>;
}

export type FromWorker =
  | { readonly type: 'started' }
  | { readonly type: 'failed'; readonly code: VrrpErrorCode; readonly message: string }
  | { readonly type: 'stopped' }
  | { readonly type: 'log'; readonly line: string }
  | { readonly type: 'transition'; readonly ev: TransitionEvent }
  | { readonly type: 'rx-lower-pri'; readonly ev: LowerPriorityAdvert }
  | { readonly type: 'sent'; readonly instance: string; readonly plannedMs: number; readonly actualMs: number }
  | { readonly type: 'status'; readonly id: number; readonly status: VrrpStatus }
  | { readonly type: 'reconfigured'; readonly id: number; readonly plan: VrrpReloadPlan }
  | { readonly type: 'reconfigure-failed'; readonly id: number; readonly code: VrrpErrorCode; readonly message: string };

export interface ServiceHooks {
  readonly log?: (line: string) => void;
  readonly transition?: (ev: TransitionEvent) => void;
  readonly rxLowerPri?: (ev: LowerPriorityAdvert) => void;
  readonly sent?: (instance: string, plannedMs: number, actualMs: number) => void;
  /**
   * The worker failed or exited after start-up, code VRRP_WORKER: VRRP is no longer running. After an uncaught error
   * the worker has left mastership and removed its VIPs first; a thread that was killed could not.
   */
  readonly failed?: (err: VrrpError) => void;
}

/** A worker that does not answer a status request within this is wedged: the caller gets an error, not a wait. */
const STATUS_TIMEOUT_MS = 2000;
/** A reload waits for the VIP changes it makes (a few netlink requests); this bounds a wedged worker's. */
const RECONFIGURE_TIMEOUT_MS = 10_000;

/** The thread that runs the engine; named so `top -H` and /proc/PID/task/TID/comm show it (15 bytes at most). */
export function spawnWorker(config: Config, reportSends: boolean): Worker {
  return new Worker(new URL('./worker.ts', import.meta.url), { name: 'ipvs-ts-vrrp', workerData: { config, reportSends } });
}

interface Waiter {
  readonly resolve: (answer: unknown) => void;
  readonly reject: (err: VrrpError) => void;
  readonly timer: NodeJS.Timeout;
}

export class VrrpService {
  readonly #worker: Worker;
  readonly #hooks: ServiceHooks;
  readonly #waiters = new Map<number, Waiter>();
  #nextId = 1;
  #started = false;
  #stopped: Promise<void> | undefined;
  /** Set once the worker is gone or going: every request from then on fails with it. */
  #dead: VrrpError | undefined;
  readonly #exited: Promise<void>;

  private constructor(worker: Worker, hooks: ServiceHooks) {
    this.#worker = worker;
    this.#hooks = hooks;
    this.#exited = new Promise((resolve) => worker.once('exit', () => resolve()));
  }

  /**
   * Starts the worker; resolves once every instance runs, rejects with a VrrpError if it could not start.
   * `spawn` is the worker to run (tests pass one they can terminate).
   */
  static start(config: Config, hooks: ServiceHooks = {}, spawn: typeof spawnWorker = spawnWorker): Promise<VrrpService> {
    const worker = spawn(config, hooks.sent !== undefined);
    const svc = new VrrpService(worker, hooks);
    return new Promise((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'started') {
          svc.#started = true;
          resolve(svc);
        } else if (m.type === 'failed') {
          if (!svc.#started) reject(new VrrpError(m.code, m.message));
          svc.#fail(new VrrpError('VRRP_WORKER', `VRRP worker failed: ${m.message}`));
        } else if (m.type === 'log') hooks.log?.(m.line);
        else if (m.type === 'transition') hooks.transition?.(m.ev);
        else if (m.type === 'rx-lower-pri') hooks.rxLowerPri?.(m.ev);
        else if (m.type === 'sent') hooks.sent?.(m.instance, m.plannedMs, m.actualMs);
        else if (m.type === 'status') svc.#settle(m.id)?.resolve(m.status);
        else if (m.type === 'reconfigured') svc.#settle(m.id)?.resolve(m.plan);
        else if (m.type === 'reconfigure-failed') svc.#settle(m.id)?.reject(new VrrpError(m.code, m.message));
      });
      worker.once('error', (err) => svc.#fail(new VrrpError('VRRP_WORKER', `VRRP worker failed: ${err.message}`)));
      worker.once('exit', (code) => {
        if (!svc.#started) reject(new VrrpError('VRRP_WORKER', 'VRRP worker exited during start-up'));
        svc.#fail(new VrrpError(svc.#stopped ? 'VRRP_STOPPED' : 'VRRP_WORKER', svc.#stopped ? 'VRRP has been stopped' : `VRRP worker exited unexpectedly (code ${code})`));
      });
    });
  }

  /** The engine's status; fails at once when the worker is gone, and after STATUS_TIMEOUT_MS when it does not answer. */
  status(): Promise<VrrpStatus> {
    return this.#request((id) => ({ type: 'status', id }), STATUS_TIMEOUT_MS);
  }

  /**
   * Applies a new configuration to the running instances (src/vrrp/reload-plan.ts says what each one gets) and
   * resolves with the plan once it is applied; rejects with the engine's VrrpError when it refuses the
   * configuration, which then leaves VRRP as it was.
   */
  reconfigure(config: Config): Promise<VrrpReloadPlan> {
    return this.#request((id) => ({ type: 'reconfigure', id, config }), RECONFIGURE_TIMEOUT_MS);
  }

  /** Priority-0 adverts from masters, VIPs removed, sockets closed; resolves when the worker has exited. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#worker.postMessage({ type: 'stop' } satisfies ToWorker);
      await this.#exited;
    })();
    return this.#stopped;
  }

  /** One request to the worker and its answer: fails at once when the worker is gone, with VRRP_TIMEOUT after `timeoutMs`. */
  #request<T>(message: (id: number) => ToWorker, timeoutMs: number): Promise<T> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#settle(id)?.reject(new VrrpError('VRRP_TIMEOUT', `the VRRP worker did not answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.#waiters.set(id, { resolve: resolve as (answer: unknown) => void, reject, timer });
      this.#worker.postMessage(message(id));
    });
  }

  #settle(id: number): Waiter | undefined {
    const w = this.#waiters.get(id);
    this.#waiters.delete(id);
    if (w) clearTimeout(w.timer);
    return w;
  }

  /**
   * The worker reported a failure, threw, or exited: nothing will answer any more, so every waiting request fails
   * now, and the owner hears of it once, unless it asked for the stop itself.
   */
  #fail(err: VrrpError): void {
    if (this.#dead) return;
    this.#dead = err;
    for (const id of [...this.#waiters.keys()]) this.#settle(id)?.reject(err);
    if (this.#started && this.#stopped === undefined) this.#hooks.failed?.(err);
  }
}
