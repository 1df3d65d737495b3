// The IPVS table as the rest of the project sees it: identity, desired settings and kernel read-back, free of
// netlink wire details (those stay in the codec). The planner compares these; the client speaks them.
import type { Family } from '../config/model.ts';

export type IpvsProtocol = 'TCP' | 'UDP' | 'SCTP';

/** What identifies a virtual service in the kernel. */
export type ServiceId =
  | { readonly kind: 'addr'; readonly family: Family; readonly protocol: IpvsProtocol; readonly address: string; readonly port: number }
  | { readonly kind: 'fwmark'; readonly family: Family; readonly mark: number };

export interface ServiceFlags {
  readonly persistent: boolean;
  readonly onePacket: boolean;
  readonly shFallback: boolean;
  readonly shPort: boolean;
  /** Scheduler-specific flag 3 (`flag-3`; mh-fallback/mh-port reuse flags 1 and 2). */
  readonly schedFlag3: boolean;
}

/** A service's settings: everything NEW_SERVICE/SET_SERVICE carries. */
export interface ServiceSpec {
  readonly id: ServiceId;
  readonly scheduler: string;
  readonly flags: ServiceFlags;
  /** Persistence timeout in seconds (0 when not persistent). */
  readonly timeoutS: number;
  /** IPv4: dotted mask; IPv6: prefix length as a decimal string. */
  readonly netmask: string;
  readonly pe?: string;
}

export type ForwardMethod = 'masq' | 'local' | 'tunnel' | 'droute' | 'bypass';

export interface DestinationId {
  readonly address: string;
  readonly family: Family;
  readonly port: number;
}

export interface DestinationSpec extends DestinationId {
  readonly forward: ForwardMethod;
  readonly weight: number;
  readonly upperThreshold: number;
  readonly lowerThreshold: number;
  readonly tunnel?: { readonly type: 'ipip' | 'gue' | 'gre'; readonly port?: number; readonly csum?: 'none' | 'checksum' | 'remote' };
}

/** IPVS_STATS64 counters and rates. */
export interface IpvsStats {
  readonly conns: bigint;
  readonly inPkts: bigint;
  readonly outPkts: bigint;
  readonly inBytes: bigint;
  readonly outBytes: bigint;
  readonly cps: bigint;
  readonly inPps: bigint;
  readonly outPps: bigint;
  readonly inBps: bigint;
  readonly outBps: bigint;
}

export interface ServiceEntry extends ServiceSpec {
  readonly stats: IpvsStats;
}

export interface DestinationEntry extends DestinationSpec {
  readonly activeConns: number;
  readonly inactiveConns: number;
  readonly persistConns: number;
  readonly stats: IpvsStats;
}

/** The desired table (or a kernel snapshot): services with their destinations. */
export interface IpvsTable {
  readonly services: readonly { readonly service: ServiceSpec; readonly destinations: readonly DestinationSpec[] }[];
}

/** One step of a plan; the client turns each into exactly one netlink request. */
export type IpvsOp =
  | { readonly op: 'add-service'; readonly service: ServiceSpec }
  | { readonly op: 'edit-service'; readonly service: ServiceSpec }
  | { readonly op: 'del-service'; readonly id: ServiceId }
  | { readonly op: 'add-dest'; readonly service: ServiceId; readonly dest: DestinationSpec }
  | { readonly op: 'edit-dest'; readonly service: ServiceId; readonly dest: DestinationSpec }
  | { readonly op: 'del-dest'; readonly service: ServiceId; readonly dest: DestinationId };
