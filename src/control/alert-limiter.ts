// Rate limits for alert mails, so a flapping real server or instance cannot flood a mailbox (or keep a dead mail
// server busy): each key (one instance, group, virtual or real server) mails at most once per window, and what
// comes meanwhile is coalesced into its latest alert, sent when the window ends unless it only repeats the last
// one sent; on top, all keys together send at most so many mails a minute. Pure: time comes from `now`.

export interface LimitedAlert {
  readonly key: string;
  readonly state: string;
}

export interface LimiterOptions {
  readonly coalesceMs: number;
  readonly perMinute: number;
}

export type DropReason = 'coalesced' | 'unchanged' | 'rate-limited';

export interface Decision<T> {
  readonly send: T[];
  readonly dropped: { readonly alert: T; readonly reason: DropReason }[];
}

interface KeyState<T> {
  sentAt: number;
  state: string;
  held: T | undefined;
}

const MINUTE_MS = 60_000;

export class AlertLimiter<T extends LimitedAlert> {
  readonly #opts: LimiterOptions;
  readonly #now: () => number;
  readonly #keys = new Map<string, KeyState<T>>();
  /** When each mail of the last minute was let through, oldest first. */
  #sent: number[] = [];

  constructor(opts: LimiterOptions, now: () => number) {
    this.#opts = opts;
    this.#now = now;
  }

  /** A new alert: sent now if its key is outside its window, else held (replacing, and dropping, one held before). */
  offer(alert: T): Decision<T> {
    const d: Decision<T> = { send: [], dropped: [] };
    const k = this.#keys.get(alert.key);
    if (k && this.#now() < k.sentAt + this.#opts.coalesceMs) {
      if (k.held) d.dropped.push({ alert: k.held, reason: 'coalesced' });
      k.held = alert;
    } else {
      this.#admit(alert, d);
    }
    return d;
  }

  /** Held alerts whose window has ended; forgets keys that are quiet. */
  release(): Decision<T> {
    return this.#release(false);
  }

  /** Every held alert at once, windows or not (the daemon is stopping). */
  flush(): Decision<T> {
    return this.#release(true);
  }

  /** When release() next has something to do, if ever. */
  nextReleaseAt(): number | undefined {
    let next: number | undefined;
    for (const k of this.#keys.values()) if (k.held && (next === undefined || k.sentAt + this.#opts.coalesceMs < next)) next = k.sentAt + this.#opts.coalesceMs;
    return next;
  }

  #release(all: boolean): Decision<T> {
    const d: Decision<T> = { send: [], dropped: [] };
    const now = this.#now();
    // A snapshot: a released alert that is sent starts a new window under the same key.
    for (const [key, k] of [...this.#keys]) {
      if (!all && now < k.sentAt + this.#opts.coalesceMs) continue;
      const held = k.held;
      this.#keys.delete(key);
      if (!held) continue;
      if (held.state === k.state) d.dropped.push({ alert: held, reason: 'unchanged' });
      else this.#admit(held, d);
    }
    return d;
  }

  #admit(alert: T, d: Decision<T>): void {
    const now = this.#now();
    this.#sent = this.#sent.filter((t) => t > now - MINUTE_MS);
    if (this.#sent.length >= this.#opts.perMinute) {
      d.dropped.push({ alert, reason: 'rate-limited' });
      return;
    }
    this.#sent.push(now);
    this.#keys.set(alert.key, { sentAt: now, state: alert.state, held: undefined });
    d.send.push(alert);
  }
}
