// Long-lived connections through the VIP, for the takeover measurement: a pool of TCP connections to an HTTP real
// server, each sending one request header line every 100 ms for `lifeMs`, then the blank line that ends the request;
// it counts as held when the real server's 200 response comes back on the same connection (the real server forks
// one httpd per connection, so a connection moved to another real server, or answered by a director without an
// entry for it, ends in a reset instead). Connections are started evenly so `size` are open at any time.
import { connect, type Socket } from 'node:net';

export interface HeldConn {
  readonly start: number;
  end: number | undefined;
  /** 'ok', or why it failed: an errno (ECONNRESET…), 'timeout', 'closed' (no response), 'status NNN'. */
  outcome: string | undefined;
  server: string;
}

export class HeldClients {
  readonly conns: HeldConn[] = [];
  readonly #host: string;
  readonly #port: number;
  readonly #size: number;
  readonly #lifeMs: number;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #sockets = new Set<Socket>();

  constructor(host: string, port: number, size: number, lifeMs: number) {
    this.#host = host;
    this.#port = port;
    this.#size = size;
    this.#lifeMs = lifeMs;
  }

  start(): void {
    this.#timer = setInterval(() => this.#one(), this.#lifeMs / this.#size);
  }

  /** Stops opening connections; open ones are closed and left out of the counts. */
  stop(): void {
    clearInterval(this.#timer);
    this.#stopped = true;
    for (const s of this.#sockets) s.destroy();
  }

  /** Connections open at some moment of [from, to] that ended: how many, how many failed, and how. */
  during(from: number, to = performance.now()): { held: number; failed: number; why: string[] } {
    const ended = this.conns.filter((c) => c.end !== undefined && c.start <= to && c.end >= from);
    const failed = ended.filter((c) => c.outcome !== 'ok');
    return { held: ended.length - failed.length, failed: failed.length, why: failed.map((c) => `${c.outcome} at +${((c.end ?? 0) - from).toFixed(0)} ms`) };
  }

  #one(): void {
    const c: HeldConn = { start: performance.now(), end: undefined, outcome: undefined, server: '' };
    this.conns.push(c);
    const s = connect({ host: this.#host, port: this.#port });
    this.#sockets.add(s);
    let reply = '';
    let line = 0;
    let ticker: NodeJS.Timeout | undefined;
    const finish = (outcome: string) => {
      if (c.outcome !== undefined) return;
      c.outcome = this.#stopped ? 'stopped' : outcome;
      if (!this.#stopped) c.end = performance.now();
      clearInterval(ticker);
      this.#sockets.delete(s);
      s.destroy();
    };
    s.setEncoding('utf8');
    s.on('connect', () => {
      s.write('GET / HTTP/1.0\r\n');
      ticker = setInterval(() => {
        if (performance.now() - c.start < this.#lifeMs) {
          s.write(`X-Line: ${line++}\r\n`);
          return;
        }
        clearInterval(ticker);
        s.write('\r\n');
        // The response must come within 3 s of the request's end.
        s.setTimeout(3000, () => finish('timeout'));
      }, 100);
    });
    s.on('data', (d: string) => (reply += d));
    s.on('end', () => {
      const status = /^HTTP\/1\.\d (\d+)/.exec(reply)?.[1];
      c.server = reply.slice(reply.indexOf('\r\n\r\n') + 4).trim();
      finish(status === undefined ? 'closed' : status === '200' ? 'ok' : `status ${status}`);
    });
    s.on('error', (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
    s.on('close', () => finish('closed'));
  }
}
