// The check pool's in-flight limit, adapted to what this process can finish in time (AIMD, as TCP's congestion
// window). A fixed limit collapses on a CPU that cannot process that many checks within connect_timeout: each
// loop iteration handles every completion that is ready, so it lasts about (checks in flight × CPU per check), and
// when that passes connect_timeout every check expires and all their work is wasted. keepalived on the same CPU
// only gets later. The signal is the event loop's lag — how late the pool's own timer fires — because it is that
// product, whatever the real servers do: dead servers' timeouts hold slots but cost no CPU and add no lag, so they
// never shrink the limit. Lag counts only while the loop's own thread is busy (its CPU share over the last
// interval): a process the OS does not schedule (a loaded host, a starved VM) lags as well, and fewer checks in
// flight would then only cut the rate. Above the target lag, busy, the limit shrinks in proportion (at most by
// half, once per window: not again until the checks in flight have come down to it); otherwise, while checks wait
// for a slot, it grows by a step per interval, up to the configured concurrency. Pure: time is an argument.

export interface AdaptiveLimitOptions {
  /** The configured concurrency: the limit never grows past it, and starts there. */
  readonly max: number;
  /** The limit never shrinks below this. Default min(max, 32). */
  readonly min?: number;
  /** Loop lag above which the checker is falling behind. Default 200 ms: far below any sane connect_timeout. */
  readonly targetLagMs?: number;
  /** The loop thread's CPU share from which its lag is its own doing. Default 0.75. */
  readonly busyShare?: number;
  /** At most one increase per this many ms. Default 100. */
  readonly intervalMs?: number;
  /** Added per increase. Default max(1, max / 100): the whole range in about ten seconds. */
  readonly step?: number;
}

export class AdaptiveLimit {
  private current: number;
  private lastChange = -Infinity;
  private readonly max: number;
  private readonly min: number;
  private readonly targetLagMs: number;
  private readonly busyShare: number;
  private readonly intervalMs: number;
  private readonly step: number;

  constructor(options: AdaptiveLimitOptions) {
    this.max = options.max;
    this.min = Math.min(options.max, options.min ?? 32);
    this.targetLagMs = options.targetLagMs ?? 200;
    this.busyShare = options.busyShare ?? 0.75;
    this.intervalMs = options.intervalMs ?? 100;
    this.step = options.step ?? Math.max(1, Math.floor(options.max / 100));
    this.current = options.max;
  }

  get value(): number {
    return this.current;
  }

  /**
   * The loop ran `lagMs` late at `now`, its thread using `cpuShare` of a core lately, with `active` checks in flight
   * and `queued` waiting. Returns the limit.
   */
  observe(now: number, lagMs: number, cpuShare: number, active: number, queued: number): number {
    if (lagMs > this.targetLagMs && cpuShare >= this.busyShare) {
      // Checks started under the old limit are still draining: their lag says nothing about the new one yet.
      if (active <= this.current) {
        this.current = Math.max(this.min, Math.floor(this.current * Math.max(0.5, this.targetLagMs / lagMs)));
        this.lastChange = now;
      }
    } else if (queued > 0 && this.current < this.max && now - this.lastChange >= this.intervalMs) {
      this.current = Math.min(this.max, this.current + this.step);
      this.lastChange = now;
    }
    return this.current;
  }
}
