// NetlinkSocket: requests with ACKs, dumps, pipelined batches and multicast events over one netlink socket.
//
//   const nl = NetlinkSocket.open(NETLINK_GENERIC);
//   const replies = await nl.request({ type, payload });          // NLM_F_REQUEST|NLM_F_ACK added; resolves on ACK
//   const rows = await nl.dump({ type, payload });                // NLM_F_REQUEST|NLM_F_DUMP added; all parts
//   const results = nl.batch([{ type, flags, payload }, ...]);    // one promise per request, few sendmsg calls
//   const errors = await nl.batchSettled([...]);                  // one promise for all: each one's error or undefined
//   const rows = await nl.dumpRows(req, (buf, start, end) => …);  // each reply decoded in place, no message objects
//   await nl.dumpEach(reqs, (i, buf, start, end) => …);          // many dumps read as they are sent (a listing)
//   nl.subscribe([group], (msg) => ..., (overrunError) => ...);   // multicast events (use a separate socket)
//   nl.close();
//
// A payload is bytes, or a writer that encodes the request straight into the socket's send buffer, which is reused
// from one sendmsg to the next (a transport must not keep it). Replies are walked in place in the received bytes:
// an ACK costs no object, a dump part becomes a NetlinkMessage only when no row decoder was given.
//
// Every request gets its own sequence number; replies are matched by seq, so any number can be in flight. A
// window bounds how many are unacknowledged at once so the ACKs always fit in the receive buffer (the kernel
// drops what does not fit and reports ENOBUFS). The kernel runs one dump per socket at a time, so dumps queue
// behind each other, and the next one is sent as soon as one ends, inside the same wake-up (its first part is
// then already queued for the read that follows); requests keep FIFO order. A failure rejects with NetlinkError
// (see errors.ts), carrying the kernel's extended-ACK text when it sent one. If the receive queue still overflows (ENOBUFS), the requests
// whose ACK the kernel dropped reject with OVERRUN (their effect is unknown: retry or re-read) and subscribers
// get onOverrun (events were lost: resync with a dump). A dump that ends with NLM_F_DUMP_INTR (the table
// changed under it) is retried up to twice before rejecting with DUMP_INTERRUPTED.
//
// Code that only sends requests should depend on `NetlinkConnection`, which a test can fake with plain objects.
//
// The socket does not keep the process alive while idle; it does while requests are in flight or while it
// has an event subscription.
import { errnoName, isErrno } from '../sys/native.ts';
import { type FailedRequest, NetlinkError } from './errors.ts';
import { decodeDone, decodeError, malformedAt, messageAt, type NetlinkMessage, NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLMSG_NOOP, NLMSG_OVERRUN, nlmsgAlign, writeHeader } from './message.ts';
import { KernelTransport, type KernelTransportOptions, type NetlinkDatagram, type NetlinkTransport } from './transport.ts';

export interface NetlinkRequest {
  readonly type: number;
  /** Extra flags (e.g. NLM_F_CREATE|NLM_F_EXCL); REQUEST and ACK/DUMP are added for you. */
  readonly flags?: number;
  /** Family header + attributes: the bytes, or a writer that puts them straight into the send buffer. */
  readonly payload: Uint8Array | PayloadWriter;
  /** Names the request in error messages, e.g. "add service 10.0.0.1:80". */
  readonly what?: string;
}

/** A payload encoded in place: `length` bytes written at `offset` of a zero-filled buffer. Must not throw (check inputs when it is made). */
export interface PayloadWriter {
  readonly length: number;
  write(out: Buffer, offset: number): void;
}

/**
 * Decodes one reply message of a dump from the received bytes: its payload (family header + attributes) is
 * buf[start, end), valid only during the call. A throw fails the dump with that error.
 */
export type RowDecoder<T> = (buf: Buffer, start: number, end: number) => T;

/** The request side of a NetlinkSocket, for consumers that want to be testable without a kernel. */
export type NetlinkConnection = Pick<NetlinkSocket, 'request' | 'dump' | 'dumpRows' | 'dumpEach' | 'batch' | 'batchSettled'>;

export interface NetlinkSocketOptions extends KernelTransportOptions {
  /** Most unacknowledged requests at once; default: what the transport's receive queue holds (at most 1024). */
  readonly window?: number;
}

type EventHandler = (message: NetlinkMessage) => void;
type OverrunHandler = (error: NetlinkError) => void;

interface Pending {
  seq: number;
  readonly dump: boolean;
  readonly req: NetlinkRequest;
  /** Decodes dump parts in place (dumpRows); without it they are kept as messages. */
  readonly row: RowDecoder<unknown> | undefined;
  /** Rows or reply messages; unused for a request of a settled batch (only its error is reported). */
  readonly results: unknown[];
  readonly resolve: ((results: unknown[]) => void) | undefined;
  readonly reject: ((e: Error) => void) | undefined;
  /** Set for the requests of batchSettled and dumpEach, which share one promise; `index` is the request's place in it. */
  readonly group: SettledGroup | undefined;
  readonly index: number;
  interrupted: boolean;
  attempts: number;
  /** Rejected already (overrun); a dump stays tracked until its DONE so the next dump is not refused EBUSY. */
  abandoned: boolean;
}

interface SettledGroup {
  readonly errors: (NetlinkError | undefined)[];
  left: number;
  readonly resolve: (errors: (NetlinkError | undefined)[]) => void;
}

const NO_RESULTS: unknown[] = [];
const MAX_IOV = 1024;
const DUMP_ATTEMPTS = 3;

export class NetlinkSocket {
  readonly portId: number;
  readonly window: number;
  readonly #t: NetlinkTransport;
  readonly #queue = new Fifo<Pending>();
  readonly #inflight = new Map<number, Pending>();
  readonly #groups = new Set<number>();
  #seq = 0;
  #dumpActive = false;
  #onEvent: EventHandler | undefined;
  #onOverrun: OverrunHandler | undefined;
  #referenced = false;
  #pumpScheduled = false;
  #sendBuffer: Buffer | undefined;

  /** Runs over any transport (the kernel's, or a fake in tests). */
  constructor(transport: NetlinkTransport, options: { window?: number } = {}) {
    this.#t = transport;
    this.portId = transport.portId;
    this.window = options.window ?? transport.ackCapacity;
    transport.listen((d) => this.#onDatagram(d), (e) => this.#onReceiveError(e));
    transport.unref();
  }

  /** Opens a kernel netlink socket (NETLINK_GENERIC, NETLINK_ROUTE, …). */
  static open(protocol: number, options: NetlinkSocketOptions = {}): NetlinkSocket {
    return new NetlinkSocket(KernelTransport.open(protocol, options), options);
  }

  get closed(): boolean {
    return this.#t.closed;
  }

  /** Sends one request with NLM_F_ACK; resolves with any reply messages once the kernel ACKs it. */
  request(req: NetlinkRequest): Promise<NetlinkMessage[]> {
    return this.#enqueue(req, false, undefined) as Promise<NetlinkMessage[]>;
  }

  /** Sends a dump request; resolves with every message of the multi-part reply. */
  dump(req: NetlinkRequest): Promise<NetlinkMessage[]> {
    return this.#enqueue(req, true, undefined) as Promise<NetlinkMessage[]>;
  }

  /** Sends a dump request; resolves with `row` of every message of the reply, decoded where it was received. */
  dumpRows<T>(req: NetlinkRequest, row: RowDecoder<T>): Promise<T[]> {
    return this.#enqueue(req, true, row) as Promise<T[]>;
  }

  /**
   * Dumps one after another, each read while the loop waits for nothing: the kernel queues a dump's parts inside
   * the system calls that send the request and read the previous part, so the next dump is sent as soon as one
   * ends, with no wake-up, promise or copied batch per dump. `row(i, buf, start, end)` decodes a reply to reqs[i]
   * in place. The event loop is held until the kernel has nothing queued (for a listing, all of them); the rest,
   * if any, is read as usual. Rejects with the first failure once every dump has ended.
   */
  async dumpEach(reqs: readonly NetlinkRequest[], row: (index: number, buf: Buffer, start: number, end: number) => void): Promise<void> {
    if (reqs.length === 0) return;
    if (this.#t.closed) throw new NetlinkError('CLOSED', 'netlink socket is closed');
    const errors = await new Promise<(NetlinkError | undefined)[]>((resolve) => {
      const group: SettledGroup = { errors: new Array<NetlinkError | undefined>(reqs.length).fill(undefined), left: reqs.length, resolve };
      for (let i = 0; i < reqs.length; i++) {
        const decode: RowDecoder<void> = (buf, start, end) => row(i, buf, start, end);
        this.#queue.push(pending(reqs[i] as NetlinkRequest, true, decode, undefined, undefined, group, i));
      }
      this.#pump();
      while (group.left > 0 && !this.#t.closed && this.#t.receiveNow());
    });
    const failure = errors.find((e) => e !== undefined);
    if (failure) throw failure;
  }

  /**
   * Pipelines many requests (each with NLM_F_ACK): they go out in as few sendmsg calls as the window and the
   * send buffer allow, and each promise settles with its own ACK. Failures are per request.
   */
  batch(reqs: readonly NetlinkRequest[]): Promise<NetlinkMessage[]>[] {
    const out = reqs.map((r) => this.#enqueue(r, false, undefined, false) as Promise<NetlinkMessage[]>);
    this.#pump();
    return out;
  }

  /**
   * batch() for large batches: one promise for all the requests, resolved once each is answered with its error
   * (undefined when ACKed) at its index. No promise or reply object per request; reply messages are dropped.
   */
  batchSettled(reqs: readonly NetlinkRequest[]): Promise<(NetlinkError | undefined)[]> {
    if (reqs.length === 0) return Promise.resolve([]);
    if (this.#t.closed) return Promise.resolve(reqs.map(() => new NetlinkError('CLOSED', 'netlink socket is closed')));
    return new Promise((resolve) => {
      const group: SettledGroup = { errors: new Array<NetlinkError | undefined>(reqs.length).fill(undefined), left: reqs.length, resolve };
      for (let i = 0; i < reqs.length; i++) this.#queue.push(pending(reqs[i] as NetlinkRequest, false, undefined, undefined, undefined, group, i));
      this.#pump();
    });
  }

  /** Joins multicast groups and delivers their messages to `onEvent`; `onOverrun` hears of lost events. */
  subscribe(groups: readonly number[], onEvent: EventHandler, onOverrun?: OverrunHandler): void {
    this.#onEvent = onEvent;
    this.#onOverrun = onOverrun;
    for (const g of groups) {
      this.#t.join(g);
      this.#groups.add(g);
    }
    this.#updateRef();
  }

  unsubscribe(groups: readonly number[]): void {
    for (const g of groups) {
      if (this.#groups.delete(g)) this.#t.leave(g);
    }
    this.#updateRef();
  }

  /** Closes the socket; requests still in flight reject with CLOSED. */
  close(): void {
    if (this.#t.closed) return;
    this.#t.close();
    const err = new NetlinkError('CLOSED', 'netlink socket closed with the request in flight');
    for (const p of [...this.#inflight.values(), ...this.#queue.drain()]) if (!p.abandoned) fail(p, err);
    this.#inflight.clear();
  }

  #enqueue(req: NetlinkRequest, dump: boolean, row: RowDecoder<unknown> | undefined, pump = true): Promise<unknown[]> {
    if (this.#t.closed) return Promise.reject(new NetlinkError('CLOSED', 'netlink socket is closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push(pending(req, dump, row, resolve, reject, undefined, 0));
      if (pump) this.#pump();
    });
  }

  #nextSeq(): number {
    this.#seq = this.#seq >= 0xffffffff ? 1 : this.#seq + 1;
    return this.#seq;
  }

  #pump(): void {
    while (this.#queue.length > 0 && !this.#t.closed) {
      const chunk: Pending[] = [];
      let bytes = 0;
      while (this.#queue.length > 0 && this.#inflight.size + chunk.length < this.window && chunk.length < MAX_IOV) {
        const p = this.#queue.peek()!;
        if (p.dump && this.#dumpActive) break;
        const size = nlmsgAlign(NLMSG_HDRLEN + p.req.payload.length);
        if (chunk.length > 0 && bytes + size > this.#t.maxSendBytes) break;
        this.#queue.shift();
        if (p.dump) this.#dumpActive = true;
        chunk.push(p);
        bytes += size;
      }
      if (chunk.length === 0) break;
      // One buffer for the whole chunk, kept for the next: a buffer per message made large batches allocation-bound.
      const out = this.#sendArea(bytes);
      let off = 0;
      for (const p of chunk) {
        p.seq = this.#nextSeq();
        const payload = p.req.payload;
        const len = NLMSG_HDRLEN + payload.length;
        writeHeader(out, off, len, p.req.type, NLM_F_REQUEST | (p.dump ? NLM_F_DUMP : NLM_F_ACK) | (p.req.flags ?? 0), p.seq, this.portId);
        if (payload instanceof Uint8Array) out.set(payload, off + NLMSG_HDRLEN);
        else payload.write(out, off + NLMSG_HDRLEN);
        off += nlmsgAlign(len);
        this.#inflight.set(p.seq, p);
      }
      try {
        this.#t.send([out]);
      } catch (err) {
        for (const p of chunk) {
          this.#inflight.delete(p.seq);
          if (p.dump) this.#dumpActive = false;
          fail(p, sendError(err, p));
        }
      }
    }
    this.#updateRef();
  }

  /** The first `bytes` of the send buffer, zero-filled (padding is sent as zeros). */
  #sendArea(bytes: number): Buffer {
    if (!this.#sendBuffer || this.#sendBuffer.length < bytes) this.#sendBuffer = Buffer.allocUnsafe(Math.max(bytes, 64 * 1024));
    const out = this.#sendBuffer.subarray(0, bytes);
    out.fill(0);
    return out;
  }

  #onDatagram(d: NetlinkDatagram): void {
    if (d.truncated) {
      this.#t.growReceiveBuffer(d.size);
      this.#lost(new NetlinkError('TRUNCATED', `a ${d.size}-byte netlink message did not fit the receive buffer and was lost`), true);
      return;
    }
    const multicast = d.groups !== 0;
    const buf = d.data;
    const start = d.start ?? 0;
    const end = d.end ?? buf.length;
    let dumpEnded = false;
    for (let off = start; off + NLMSG_HDRLEN <= end; ) {
      const len = buf.readUInt32LE(off);
      if (len < NLMSG_HDRLEN || off + len > end) {
        if (!multicast) this.#lost(new NetlinkError('MALFORMED', malformedAt(buf, off, start, end)), true);
        break;
      }
      const seq = buf.readUInt32LE(off + 8);
      const p = multicast ? undefined : this.#inflight.get(seq);
      if (p) dumpEnded = this.#onReply(p, buf, off, len) || dumpEnded;
      else if (buf.readUInt16LE(off + 4) !== NLMSG_NOOP && (multicast || seq === 0)) this.#emit(messageAt(buf, off, len));
      off += nlmsgAlign(len);
    }
    // A dump that ended frees the socket for the next one: send it now, so its first part is already queued
    // when the receive loop reads again, instead of one wake-up per dump.
    if (dumpEnded) this.#pump();
    else this.#schedulePump();
    this.#updateRef();
  }

  /**
   * Refills the window once per wake-up, after every queued datagram was read: refilling per ACK would send one
   * message per sendmsg once the window is full, losing the batching.
   */
  #schedulePump(): void {
    if (this.#pumpScheduled || this.#queue.length === 0) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  /** A throwing listener must not break reply bookkeeping: its error is re-raised as an uncaught exception. */
  #emit(m: NetlinkMessage): void {
    try {
      this.#onEvent?.(m);
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  /** One message of `buf` at `off` answering `p`; true when it ended a dump. */
  #onReply(p: Pending, buf: Buffer, off: number, len: number): boolean {
    const type = buf.readUInt16LE(off + 4);
    const at = off + NLMSG_HDRLEN;
    if (type === NLMSG_ERROR) {
      // The common case, an ACK, is read in place; a refusal is decoded fully for its errno and extended ACK.
      if (len >= NLMSG_HDRLEN + 4 + NLMSG_HDRLEN && buf.readInt32LE(at) === 0) return this.#settle(p, null);
      const e = decodeError(messageAt(buf, off, len));
      if (!e) return this.#settle(p, new NetlinkError('MALFORMED', `truncated NLMSG_ERROR for seq ${p.seq}`));
      return this.#settle(p, e.errno === 0 ? null : NetlinkError.fromKernel(e.errno, failed(p), e.extack.message, p.req.what));
    }
    if (type === NLMSG_OVERRUN) return this.#settle(p, new NetlinkError('OVERRUN', 'the kernel reported NLMSG_OVERRUN'));
    if (buf.readUInt16LE(off + 6) & NLM_F_DUMP_INTR) p.interrupted = true;
    if (p.dump && type === NLMSG_DONE) {
      const done = len >= NLMSG_HDRLEN + 4 && buf.readInt32LE(at) === 0 ? undefined : decodeDone(messageAt(buf, off, len));
      if (done && done.errno !== 0) return this.#settle(p, NetlinkError.fromKernel(done.errno, failed(p), done.extack.message, p.req.what));
      if (p.interrupted && !p.abandoned) {
        this.#finish(p);
        if (++p.attempts < DUMP_ATTEMPTS) {
          p.interrupted = false;
          p.results.length = 0;
          this.#queue.unshift(p);
          return true;
        }
        fail(p, new NetlinkError('DUMP_INTERRUPTED', `${p.req.what ?? 'netlink dump'} was interrupted by concurrent changes ${DUMP_ATTEMPTS} times`, { request: failed(p) }));
        return true;
      }
      return this.#settle(p, null);
    }
    if (p.abandoned || (p.group && !p.row)) return false;
    if (!p.row) p.results.push(messageAt(buf, off, len));
    else {
      try {
        const decoded = p.row(buf, at, off + len);
        // A group's dumps (dumpEach) keep nothing: their decoder has stored the row.
        if (!p.group) p.results.push(decoded);
      } catch (err) {
        // Stays tracked until its DONE, so the next dump is not refused EBUSY.
        p.abandoned = true;
        fail(p, err instanceof Error ? err : new Error(String(err)));
      }
    }
    return false;
  }

  /** Returns whether a dump ended. */
  #settle(p: Pending, err: Error | null): boolean {
    this.#finish(p);
    if (!p.abandoned) {
      if (err) fail(p, err);
      else succeed(p);
    }
    return p.dump;
  }

  #finish(p: Pending): void {
    this.#inflight.delete(p.seq);
    if (p.dump) this.#dumpActive = false;
  }

  #onReceiveError(err: Error): void {
    if (isErrno(err, 'ENOBUFS')) {
      // Requests are processed synchronously inside sendmsg, so every ACK that survived is queued by now: read
      // them, then only the requests whose ACK was dropped remain. Dump parts are produced as we read, never
      // dropped, so dumps carry on.
      this.#drain();
      this.#lost(new NetlinkError('OVERRUN', 'the netlink receive queue overflowed (ENOBUFS): the kernel dropped replies or events', { errno: err.errno }), false);
    } else {
      this.#lost(new NetlinkError(isErrno(err) ? err.code : 'MALFORMED', `netlink receive failed: ${err.message}`), true);
    }
    this.#schedulePump();
    this.#updateRef();
  }

  #drain(): void {
    try {
      for (let i = 0; i < 64; i++) {
        const batch = this.#t.drain();
        if (batch.length === 0) return;
        for (const d of batch) this.#onDatagram(d);
      }
    } catch {
      // A second error while draining changes nothing: what is still in flight is failed next.
    }
  }

  /** Replies may be gone: fail requests in flight (callers retry or resync) and tell the event listener. */
  #lost(err: NetlinkError, dumpsToo: boolean): void {
    for (const p of this.#inflight.values()) {
      if (p.abandoned || (p.dump && !dumpsToo)) continue;
      p.abandoned = true;
      fail(p, err);
      if (!p.dump) this.#inflight.delete(p.seq);
    }
    if (this.#groups.size > 0) this.#onOverrun?.(err);
  }

  #updateRef(): void {
    const busy = this.#inflight.size > 0 || this.#queue.length > 0 || this.#groups.size > 0;
    if (busy === this.#referenced || this.#t.closed) return;
    this.#referenced = busy;
    if (busy) this.#t.ref();
    else this.#t.unref();
  }
}

/** A queue with O(1) shift: Array#shift copies, which made large batches quadratic. */
class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  unshift(item: T): void {
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#items.unshift(item);
  }

  /** Empties the queue, returning what it held. */
  drain(): T[] {
    const rest = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return rest;
  }
}


function pending(
  req: NetlinkRequest, dump: boolean, row: RowDecoder<unknown> | undefined, resolve: Pending['resolve'], reject: Pending['reject'],
  group: SettledGroup | undefined, index: number,
): Pending {
  return { seq: 0, dump, req, row, results: group ? NO_RESULTS : [], resolve, reject, group, index, interrupted: false, attempts: 0, abandoned: false };
}

function succeed(p: Pending): void {
  if (!p.group) return p.resolve?.(p.results);
  if (--p.group.left === 0) p.group.resolve(p.group.errors);
}

function fail(p: Pending, err: Error): void {
  if (!p.group) return p.reject?.(err);
  p.group.errors[p.index] = err instanceof NetlinkError ? err : new NetlinkError('MALFORMED', err.message);
  if (--p.group.left === 0) p.group.resolve(p.group.errors);
}

function failed(p: Pending): FailedRequest {
  return { type: p.req.type, flags: p.req.flags ?? 0, seq: p.seq };
}

function sendError(err: unknown, p: Pending): NetlinkError {
  if (!isErrno(err)) return new NetlinkError('MALFORMED', String(err));
  return new NetlinkError(errnoName(err.errno), `${p.req.what ?? 'netlink request'} could not be sent: ${err.message}`, { errno: err.errno, request: failed(p) });
}
