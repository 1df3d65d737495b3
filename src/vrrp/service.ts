// The main thread's handle on VRRP: starts the worker thread that runs the engine, relays its log lines and
// transitions, and stops it so every VIP is removed before the process exits.
import { Worker } from 'node:worker_threads';
import type { Config } from '../config/model.ts';
import { VrrpError, type InstanceStatus, type Stats, type TransitionEvent } from './engine.ts';

export type ToWorker = { readonly type: 'stop' } | { readonly type: 'status'; readonly id: number };

export interface VrrpStatus {
  readonly instances: readonly InstanceStatus[];
  /** Drops on a socket that no instance could claim (unknown VRID, unreadable packet), per interface/family. */
  readonly unmatched: Readonly<Record<string, Stats>>;
}

export type FromWorker =
  | { readonly type: 'started' }
  | { readonly type: 'failed'; readonly code: string; readonly message: string }
  | { readonly type: 'stopped' }
  | { readonly type: 'log'; readonly line: string }
  | { readonly type: 'transition'; readonly ev: TransitionEvent }
  | { readonly type: 'sent'; readonly instance: string; readonly plannedMs: number; readonly actualMs: number }
  | { readonly type: 'status'; readonly id: number; readonly status: VrrpStatus };

export interface ServiceHooks {
  readonly log?: (line: string) => void;
  readonly transition?: (ev: TransitionEvent) => void;
  readonly sent?: (instance: string, plannedMs: number, actualMs: number) => void;
  /** The worker failed after start-up (it has left mastership and removed its VIPs); VRRP is no longer running. */
  readonly failed?: (err: VrrpError) => void;
}

export class VrrpService {
  readonly #worker: Worker;
  readonly #statusWaiters = new Map<number, (s: VrrpStatus) => void>();
  #nextId = 1;
  #stopped: Promise<void> | undefined;
  #exited: Promise<void>;

  private constructor(worker: Worker) {
    this.#worker = worker;
    this.#exited = new Promise((resolve) => worker.once('exit', () => resolve()));
  }

  /** Starts the worker; resolves once every instance runs, rejects with a VrrpError if it could not start. */
  static start(config: Config, hooks: ServiceHooks = {}): Promise<VrrpService> {
    const worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData: { config, reportSends: hooks.sent !== undefined } });
    const svc = new VrrpService(worker);
    let started = false;
    return new Promise((resolve, reject) => {
      const fail = (err: VrrpError) => (started ? hooks.failed?.(err) : reject(err));
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'started') {
          started = true;
          resolve(svc);
        } else if (m.type === 'failed') fail(new VrrpError(m.code, m.message));
        else if (m.type === 'log') hooks.log?.(m.line);
        else if (m.type === 'transition') hooks.transition?.(m.ev);
        else if (m.type === 'sent') hooks.sent?.(m.instance, m.plannedMs, m.actualMs);
        else if (m.type === 'status') {
          svc.#statusWaiters.get(m.id)?.(m.status);
          svc.#statusWaiters.delete(m.id);
        }
      });
      worker.once('error', (err) => fail(new VrrpError('VRRP_WORKER', `VRRP worker failed: ${err.message}`)));
      worker.once('exit', () => {
        if (!started) reject(new VrrpError('VRRP_WORKER', 'VRRP worker exited during start-up'));
        else if (svc.#stopped === undefined) hooks.failed?.(new VrrpError('VRRP_WORKER', 'VRRP worker exited unexpectedly'));
      });
    });
  }

  status(): Promise<VrrpStatus> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#statusWaiters.set(id, resolve);
      this.#worker.postMessage({ type: 'status', id } satisfies ToWorker);
    });
  }

  /** Priority-0 adverts from masters, VIPs removed, sockets closed; resolves when the worker has exited. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#worker.postMessage({ type: 'stop' } satisfies ToWorker);
      await this.#exited;
    })();
    return this.#stopped;
  }
}
