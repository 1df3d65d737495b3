// One connection to BIRD's control socket: commands go one at a time, each resolves with its whole reply.
import { connect, type Socket } from 'node:net';
import { BgpError } from './errors.ts';
import { isError, ReplyReader, replyText, type Reply } from './bird-reply.ts';

export class BirdControl {
  readonly #socket: Socket;
  readonly #reader = new ReplyReader();
  /** Waiting for replies, oldest first; the first is the welcome line. */
  readonly #waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  #closed: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      for (const r of this.#reader.push(chunk)) this.#waiting.shift()?.resolve(r);
    });
    socket.on('error', (err) => this.#fail(new BgpError('BGP_DAEMON_GONE', `BIRD control socket: ${err.message}`)));
    socket.on('close', () => this.#fail(new BgpError('BGP_DAEMON_GONE', 'BIRD closed its control socket')));
  }

  /** Connects and waits for BIRD's welcome (0001). */
  static async open(path: string): Promise<BirdControl> {
    const socket = connect(path);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new BirdControl(socket);
    const welcome = await c.#next();
    if (welcome.code !== 1) throw new BgpError('BGP_DAEMON_START', `BIRD's control socket greeted with ${welcome.code} ${replyText(welcome)}`);
    return c;
  }

  /** Sends one command; an 8xxx/9xxx reply rejects with BGP_COMMAND (or `code` where given). */
  async command(line: string, code: 'BGP_COMMAND' | 'BGP_DAEMON_CONFIG' = 'BGP_COMMAND'): Promise<Reply> {
    const reply = this.#next();
    if (!this.#closed) this.#socket.write(`${line}\n`);
    const r = await reply;
    if (isError(r)) throw new BgpError(code, `BIRD refused '${line}': ${r.code} ${replyText(r)}`);
    return r;
  }

  close(): void {
    this.#socket.destroy();
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  #next(): Promise<Reply> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  #fail(err: Error): void {
    this.#closed ??= err;
    for (const w of this.#waiting.splice(0)) w.reject(this.#closed);
  }
}
