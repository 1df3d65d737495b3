// A bounded queue of mails sent one at a time, each within a time bound: a dead or stalled mail server costs at most
// one connection and `capacity` waiting mails, and nobody ever waits for it but the queue itself.

export interface MailOutcome {
  readonly result: 'sent' | 'failed' | 'dropped';
  /** For people: where it went, why it failed, why it was dropped. */
  readonly reason: string;
}

export interface MailQueueOptions<M> {
  readonly capacity: number;
  /** Resolves with a description of the delivery; must give up when `signal` aborts. */
  readonly send: (mail: M, signal: AbortSignal) => Promise<string>;
  /** The bound on one whole send. */
  readonly timeoutMs: (mail: M) => number;
  /** Told exactly once about every mail pushed. */
  readonly settled: (mail: M, outcome: MailOutcome) => void;
}

export class MailQueue<M> {
  readonly #opts: MailQueueOptions<M>;
  readonly #waiting: M[] = [];
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;

  constructor(opts: MailQueueOptions<M>) {
    this.#opts = opts;
  }

  push(mail: M): void {
    if (this.#stop.signal.aborted) return this.#opts.settled(mail, { result: 'dropped', reason: 'the daemon is stopping' });
    if (this.#waiting.length >= this.#opts.capacity) return this.#opts.settled(mail, { result: 'dropped', reason: `${this.#opts.capacity} mails already wait to be sent` });
    this.#waiting.push(mail);
    // Started from a timer: push() runs inside the director's event dispatch, and setting up a connection takes a
    // millisecond or more, which must come after the reconcile (a setImmediate) that the same dispatch scheduled.
    this.#running ??= new Promise((resolve) => setTimeout(resolve, 0))
      .then(() => this.#drain())
      .finally(() => {
        this.#running = undefined;
      });
  }

  /** Lets the queue empty for at most `boundMs`, then abandons the send in progress and drops what still waits. */
  async stop(boundMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#running, new Promise((resolve) => (timer = setTimeout(resolve, boundMs)))]);
    clearTimeout(timer);
    const left = this.#waiting.splice(0);
    this.#stop.abort();
    for (const m of left) this.#opts.settled(m, { result: 'dropped', reason: 'the daemon is stopping' });
    await this.#running;
  }

  async #drain(): Promise<void> {
    for (let mail = this.#waiting.shift(); mail !== undefined; mail = this.#waiting.shift()) await this.#sendOne(mail);
  }

  async #sendOne(mail: M): Promise<void> {
    const ms = this.#opts.timeoutMs(mail);
    const bound = AbortSignal.timeout(ms);
    try {
      const reason = await this.#opts.send(mail, AbortSignal.any([bound, this.#stop.signal]));
      this.#opts.settled(mail, { result: 'sent', reason });
    } catch (err) {
      let reason = describe(err);
      if (bound.aborted) reason = `not sent within ${ms} ms`;
      else if (this.#stop.signal.aborted) reason = 'abandoned: the daemon is stopping';
      this.#opts.settled(mail, { result: 'failed', reason });
    }
  }
}

/** nodemailer's errors carry a stable code (ECONNECTION, ETIMEDOUT, EENVELOPE…): keep it in the line. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
}
