// What a single check returns and the events the scheduler emits: the contract between the checkers, the timing
// state machine, the runner and whoever subscribes (the director, `ipvs-ts check`, metrics).
import type { Checker, Endpoint, RealServer, ScriptUser, VirtualServer } from '../config/model.ts';
import type { CheckFailureCode } from './errors.ts';

/** The outcome of one attempt of one checker. Checkers never throw: every failure is a result with a reason. */
export interface CheckResult {
  readonly ok: boolean;
  /** One line a human can act on ("connection refused", "status 503 not in 200-299"). */
  readonly reason: string;
  readonly latencyMs: number;
  /** Stable code of the failure, absent on success. */
  readonly code?: CheckFailureCode;
  /** MISC_CHECK with misc_dynamic: the weight the script asked for (exit code − 2). */
  readonly weight?: number;
  /** FILE_CHECK: added to the real server's weight (the file's value × the checker's weight). */
  readonly weightOffset?: number;
}

/** One checker implementation: `signal` aborts the attempt (shutdown); its own timeouts come from `checker`. */
export type CheckFn<C extends Checker = Checker> = (checker: C, signal: AbortSignal) => Promise<CheckResult>;

/**
 * A real server's verdict: its health (`up`) and what the IPVS table should hold for it (`present`, `weight`).
 * They differ under inhibit_on_failure (down but present with weight 0) and while a sorry server replaces the
 * pool (up but withdrawn).
 */
export interface RealServerVerdict {
  readonly kind: 'realServer';
  readonly virtualServer: VirtualServer;
  readonly realServer: RealServer;
  readonly up: boolean;
  readonly present: boolean;
  readonly weight: number;
  readonly reason: string;
  readonly latencyMs: number;
  readonly at: number;
}

export interface QuorumVerdict {
  readonly kind: 'quorum';
  readonly virtualServer: VirtualServer;
  readonly up: boolean;
  /** Sum of the weights of the live real servers that the decision was made on. */
  readonly liveWeight: number;
  /** The pool's first decision since its checkers started (a reload does not start a kept pool again). */
  readonly first?: true;
  readonly at: number;
}

export interface SorryServerVerdict {
  readonly kind: 'sorryServer';
  readonly virtualServer: VirtualServer;
  readonly sorryServer: Endpoint;
  readonly present: boolean;
  readonly weight: number;
  readonly at: number;
}

/** A notify_up/notify_down/quorum_up/quorum_down script the runner must start. */
export interface ScriptAction {
  readonly kind: 'script';
  readonly command: string;
  /** The script's own `USERNAME [GROUPNAME]` from the config; absent = script_user. */
  readonly user?: ScriptUser;
  readonly reason: 'notify_up' | 'notify_down' | 'quorum_up' | 'quorum_down';
  readonly at: number;
}

export type CheckEvent = RealServerVerdict | QuorumVerdict | SorryServerVerdict | ScriptAction;

/** A check the scheduler wants started now; `plannedAt` lets the runner measure lateness. */
export interface DueCheck {
  readonly id: number;
  readonly virtualServer: VirtualServer;
  readonly realServer: RealServer;
  readonly checker: Checker;
  readonly plannedAt: number;
}
