// The small interface every BGP backend implements (BIRD 2 in bird.ts, GoBGP in gobgp.ts): ipvs-ts decides what
// is announced, the routing daemon speaks BGP. A backend owns its daemon process from start() to close().

/** Attributes sent with a route; both optional. */
export interface RouteAttrs {
  /** MULTI_EXIT_DISC: a router that hears the VIP from several directors prefers the lowest. */
  readonly med?: number;
}

/** BGP FSM states (RFC 4271) as routing daemons name them, and `Down` when the daemon itself is not running. */
export type SessionStateName = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established' | 'Down';

export interface SessionState {
  readonly neighbor: string;
  readonly state: SessionStateName;
  /** The daemon's word for why the session is not up (its last error), when it gives one. */
  readonly info?: string;
}

export interface DaemonInfo {
  /** `bird`, `gobgp` */
  readonly name: string;
  readonly running: boolean;
  readonly pid?: number;
  /** Restarts after the daemon exited on its own. */
  readonly restarts: number;
}

export interface Announcer {
  /** Starts the daemon with nothing announced; resolves once its control channel answers. */
  start(): Promise<void>;
  /** `prefix` is `ADDRESS/32` or `ADDRESS/128`; announcing an announced prefix with the same attributes is a no-op. */
  announce(prefix: string, attrs?: RouteAttrs): Promise<void>;
  withdraw(prefix: string): Promise<void>;
  /** Reads the sessions from the daemon (every neighbor `Down` while the daemon is not running). */
  sessions(): Promise<readonly SessionState[]>;
  daemon(): DaemonInfo;
  /** Stops the daemon (it closes its sessions with a Cease notification); routes go with it. */
  close(): Promise<void>;
}
