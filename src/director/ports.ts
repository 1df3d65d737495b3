// What the director needs from the kernel, the checkers, VRRP and the address table, as interfaces: the daemon
// passes the real implementations (adapters.ts), the tests pass dummies.
import type { Config, VirtualIp, VirtualServer } from '../config/model.ts';
import type { ApplyResult, KernelTable } from '../ipvs/client.ts';
import type { IpvsTimeouts, SyncDaemon } from '../ipvs/codec.ts';
import type { DestinationEntry, IpvsOp, ServiceEntry, ServiceId } from '../ipvs/types.ts';
import type { CheckEvent } from '../check/types.ts';
import type { TransitionEvent } from '../vrrp/engine.ts';
import type { VrrpError } from '../vrrp/errors.ts';
import type { VrrpReloadPlan } from '../vrrp/reload-plan.ts';
import type { VrrpStatus } from '../vrrp/service.ts';

export interface KernelPort {
  /** The whole table: at start-up (adoption) and for the counters; never on a verdict or a reload. */
  table(): Promise<KernelTable>;
  /** One service as the kernel has it (undefined: none), and its destinations: verification reads. */
  service(id: ServiceId): Promise<ServiceEntry | undefined>;
  destinations(id: ServiceId): Promise<DestinationEntry[]>;
  apply(ops: readonly IpvsOp[]): Promise<ApplyResult>;
  startDaemon(d: SyncDaemon): Promise<void>;
  stopDaemon(state: SyncDaemon['state']): Promise<void>;
  /** Seconds; a 0 leaves that timeout as the kernel has it. */
  setTimeouts(t: IpvsTimeouts): Promise<void>;
}

/** One virtual server's checkers (a CheckRunner over one virtual server). */
/**
 * One virtual server's checkers. A real server without checkers gets no verdict unless it is other than up at its
 * configured weight (the scheduler's quietAlwaysUp): the director takes that state for it once the port starts.
 */
export interface CheckPort {
  subscribe(listener: (event: CheckEvent) => void): () => void;
  start(): void;
  stop(): Promise<void>;
  /** A reload changed the virtual server: checkers that did not change keep their state and keep running. */
  reconfigure(virtualServers: readonly VirtualServer[]): void;
}

export interface VrrpHooks {
  readonly log: (line: string) => void;
  readonly transition: (ev: TransitionEvent) => void;
  /** VRRP died after start-up (its worker thread failed or exited); it will not come back by itself. */
  readonly failed: (err: VrrpError) => void;
}

export interface VrrpPort {
  status(): Promise<VrrpStatus>;
  /** Applies a reload to the running instances; rejects with a VrrpError (and changes nothing) when refused. */
  reconfigure(config: Config): Promise<VrrpReloadPlan>;
  stop(): Promise<void>;
}

export interface AddressEvent {
  readonly kind: 'add' | 'del';
  readonly address: string;
}

export interface AddressPort {
  /** Every address configured on this host (any interface). */
  local(): Promise<Set<string>>;
  /** Address events from rtnetlink; returns the function that stops watching. */
  watch(listener: (ev: AddressEvent) => void): () => void;
  addVip(vip: VirtualIp): Promise<void>;
  /** Removes it if present. */
  deleteVip(vip: VirtualIp): Promise<void>;
}

export interface StateStore {
  /** serviceKeys of the services we own. */
  loadOwned(): Set<string>;
  /** Called when ownership changed, never twice at once. */
  save(owned: ReadonlySet<string>): Promise<void>;
}

export interface DirectorPorts {
  readonly kernel: KernelPort;
  readonly checks: (vs: VirtualServer) => CheckPort;
  /** Absent when the configuration has no vrrp_instance. */
  readonly vrrp: (config: Config, hooks: VrrpHooks) => Promise<VrrpPort>;
  readonly addresses: AddressPort;
  readonly state: StateStore;
  /** Wall-clock milliseconds, for "since" in the status. */
  readonly now: () => number;
}
