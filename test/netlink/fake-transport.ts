// A scripted NetlinkTransport: records what NetlinkSocket sends and lets a test deliver replies, errors and
// queued datagrams exactly when it wants.
import { decodeMessages, encodeMessage, type NetlinkMessage, NLM_F_MULTI, NLMSG_DONE, NLMSG_ERROR } from '../../src/netlink/message.ts';
import type { NetlinkDatagram, NetlinkTransport } from '../../src/netlink/transport.ts';

export class FakeTransport implements NetlinkTransport {
  readonly portId = 4242;
  readonly ackCapacity: number;
  readonly maxSendBytes = 1 << 20;
  closed = false;
  /** One entry per send() call, decoded. */
  readonly sends: NetlinkMessage[][] = [];
  /** What drain() hands out (datagrams "already queued" in the kernel). */
  queued: NetlinkDatagram[] = [];
  grownTo = 0;
  readonly groups = new Set<number>();
  sendError: Error | undefined;
  #onDatagram: ((d: NetlinkDatagram) => void) | undefined;
  #onError: ((e: Error) => void) | undefined;

  constructor(ackCapacity = 64) {
    this.ackCapacity = ackCapacity;
  }

  get sent(): NetlinkMessage[] {
    return this.sends.flat();
  }

  send(messages: readonly Buffer[]): void {
    if (this.sendError) throw this.sendError;
    this.sends.push(messages.flatMap((m) => decodeMessages(Buffer.from(m)).messages));
  }
  listen(onDatagram: (d: NetlinkDatagram) => void, onError: (e: Error) => void): void {
    this.#onDatagram = onDatagram;
    this.#onError = onError;
  }
  drain(): NetlinkDatagram[] {
    const q = this.queued;
    this.queued = [];
    return q;
  }
  /** Hands the first of `queued` to the listener. */
  receiveNow(): boolean {
    const d = this.queued.shift();
    if (d) this.#onDatagram!(d);
    return d !== undefined;
  }
  growReceiveBuffer(bytes: number): void {
    this.grownTo = bytes;
  }
  join(group: number): void {
    this.groups.add(group);
  }
  leave(group: number): void {
    this.groups.delete(group);
  }
  ref(): void {}
  unref(): void {}
  close(): void {
    this.closed = true;
  }

  /** Delivers one datagram made of these messages. */
  deliver(messages: Buffer[], groups = 0): void {
    const data = Buffer.concat(messages);
    this.#onDatagram!({ data, groups, truncated: false, size: data.length });
  }
  deliverRaw(d: NetlinkDatagram): void {
    this.#onDatagram!(d);
  }
  fail(err: Error): void {
    this.#onError!(err);
  }
}

export function ack(seq: number, errno = 0, extack?: Buffer): Buffer {
  const p = Buffer.alloc(20);
  p.writeInt32LE(-errno, 0);
  p.writeUInt32LE(16, 4);
  p.writeUInt32LE(seq, 12);
  const payload = extack ? Buffer.concat([p, extack]) : p;
  return encodeMessage({ type: NLMSG_ERROR, flags: 0x100 | (extack ? 0x200 : 0), seq, payload });
}

export function reply(seq: number, type: number, body: string, flags = 0): Buffer {
  return encodeMessage({ type, flags, seq, payload: Buffer.from(body) });
}

export function done(seq: number, errno = 0, flags = NLM_F_MULTI): Buffer {
  const p = Buffer.alloc(4);
  p.writeInt32LE(-errno, 0);
  return encodeMessage({ type: NLMSG_DONE, flags, seq, payload: p });
}

/** Lets queued microtasks (the window refill) run. */
export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
