// NetlinkSocket: requests with ACKs, dumps, pipelined batches and multicast events over one netlink socket.
//
//   const nl = NetlinkSocket.open(NETLINK_GENERIC);
//   const replies = await nl.request({ type, payload });          // NLM_F_REQUEST|NLM_F_ACK added; resolves on ACK
//   const rows = await nl.dump({ type, payload });                // NLM_F_REQUEST|NLM_F_DUMP added; all parts
//   const results = nl.batch([{ type, flags, payload }, ...]);    // one promise per request, few sendmsg calls
//   nl.subscribe([group], (msg) => ..., (overrunError) => ...);   // multicast events (use a separate socket)
//   nl.close();
//
// Every request gets its own sequence number; replies are matched by seq, so any number can be in flight. A
// window bounds how many are unacknowledged at once so the ACKs always fit in the receive buffer (the kernel
// drops what does not fit and reports ENOBUFS). The kernel runs one dump per socket at a time, so dumps queue
// behind each other; requests keep FIFO order. A failure rejects with NetlinkError (see errors.ts), carrying the
// kernel's extended-ACK text when it sent one. If the receive queue still overflows (ENOBUFS), the requests
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
import { decodeDone, decodeError, decodeMessages, type NetlinkMessage, NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLMSG_NOOP, NLMSG_OVERRUN, nlmsgAlign, writeHeader } from './message.ts';
import { KernelTransport, type KernelTransportOptions, type NetlinkDatagram, type NetlinkTransport } from './transport.ts';

export interface NetlinkRequest {
  readonly type: number;
  /** Extra flags (e.g. NLM_F_CREATE|NLM_F_EXCL); REQUEST and ACK/DUMP are added for you. */
  readonly flags?: number;
  /** Family header + attributes. */
  readonly payload: Uint8Array;
  /** Names the request in error messages, e.g. "add service 10.0.0.1:80". */
  readonly what?: string;
}

/** The request side of a NetlinkSocket, for consumers that want to be testable without a kernel. */
export type NetlinkConnection = Pick<NetlinkSocket, 'request' | 'dump' | 'batch'>;

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
  readonly replies: NetlinkMessage[];
  readonly resolve: (m: NetlinkMessage[]) => void;
  readonly reject: (e: Error) => void;
  interrupted: boolean;
  attempts: number;
  /** Rejected already (overrun); a dump stays tracked until its DONE so the next dump is not refused EBUSY. */
  abandoned: boolean;
}

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
    return this.#enqueue(req, false);
  }

  /** Sends a dump request; resolves with every message of the multi-part reply. */
  dump(req: NetlinkRequest): Promise<NetlinkMessage[]> {
    return this.#enqueue(req, true);
  }

  /**
   * Pipelines many requests (each with NLM_F_ACK): they go out in as few sendmsg calls as the window and the
   * send buffer allow, and each promise settles with its own ACK. Failures are per request.
   */
  batch(reqs: readonly NetlinkRequest[]): Promise<NetlinkMessage[]>[] {
    const out = reqs.map((r) => this.#enqueue(r, false, false));
    this.#pump();
    return out;
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
    for (const p of [...this.#inflight.values(), ...this.#queue.drain()]) if (!p.abandoned) p.reject(err);
    this.#inflight.clear();
  }

  #enqueue(req: NetlinkRequest, dump: boolean, pump = true): Promise<NetlinkMessage[]> {
    if (this.#t.closed) return Promise.reject(new NetlinkError('CLOSED', 'netlink socket is closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ seq: 0, dump, req, replies: [], resolve, reject, interrupted: false, attempts: 0, abandoned: false });
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
      // One buffer for the whole chunk: a buffer per message made large batches allocation-bound.
      const out = Buffer.alloc(bytes);
      let off = 0;
      for (const p of chunk) {
        p.seq = this.#nextSeq();
        const len = NLMSG_HDRLEN + p.req.payload.length;
        writeHeader(out, off, len, p.req.type, NLM_F_REQUEST | (p.dump ? NLM_F_DUMP : NLM_F_ACK) | (p.req.flags ?? 0), p.seq, this.portId);
        out.set(p.req.payload, off + NLMSG_HDRLEN);
        off += nlmsgAlign(len);
        this.#inflight.set(p.seq, p);
      }
      try {
        this.#t.send([out]);
      } catch (err) {
        for (const p of chunk) {
          this.#inflight.delete(p.seq);
          if (p.dump) this.#dumpActive = false;
          p.reject(sendError(err, p));
        }
      }
    }
    this.#updateRef();
  }

  #onDatagram(d: NetlinkDatagram): void {
    if (d.truncated) {
      this.#t.growReceiveBuffer(d.size);
      this.#lost(new NetlinkError('TRUNCATED', `a ${d.size}-byte netlink message did not fit the receive buffer and was lost`), true);
      return;
    }
    const multicast = d.groups !== 0;
    const { messages, error } = decodeMessages(d.data);
    for (const m of messages) {
      const p = multicast ? undefined : this.#inflight.get(m.seq);
      if (p) this.#onReply(p, m);
      else if (m.type !== NLMSG_NOOP && (multicast || m.seq === 0)) this.#emit(m);
    }
    if (error && !multicast) this.#lost(new NetlinkError('MALFORMED', error), true);
    this.#schedulePump();
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

  #onReply(p: Pending, m: NetlinkMessage): void {
    if (m.type === NLMSG_ERROR) {
      const e = decodeError(m);
      if (!e) return this.#settle(p, new NetlinkError('MALFORMED', `truncated NLMSG_ERROR for seq ${m.seq}`));
      return this.#settle(p, e.errno === 0 ? null : NetlinkError.fromKernel(e.errno, failed(p), e.extack.message, p.req.what));
    }
    if (m.type === NLMSG_OVERRUN) return this.#settle(p, new NetlinkError('OVERRUN', 'the kernel reported NLMSG_OVERRUN'));
    if (m.flags & NLM_F_DUMP_INTR) p.interrupted = true;
    if (p.dump && m.type === NLMSG_DONE) {
      const done = decodeDone(m);
      if (done.errno !== 0) return this.#settle(p, NetlinkError.fromKernel(done.errno, failed(p), done.extack.message, p.req.what));
      if (p.interrupted && !p.abandoned) {
        this.#finish(p);
        if (++p.attempts < DUMP_ATTEMPTS) {
          p.interrupted = false;
          p.replies.length = 0;
          this.#queue.unshift(p);
          return;
        }
        return p.reject(new NetlinkError('DUMP_INTERRUPTED', `${p.req.what ?? 'netlink dump'} was interrupted by concurrent changes ${DUMP_ATTEMPTS} times`, { request: failed(p) }));
      }
      return this.#settle(p, null);
    }
    if (!p.abandoned) p.replies.push(m);
  }

  #settle(p: Pending, err: Error | null): void {
    this.#finish(p);
    if (p.abandoned) return;
    if (err) p.reject(err);
    else p.resolve(p.replies);
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
      p.reject(err);
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


function failed(p: Pending): FailedRequest {
  return { type: p.req.type, flags: p.req.flags ?? 0, seq: p.seq };
}

function sendError(err: unknown, p: Pending): NetlinkError {
  if (!isErrno(err)) return new NetlinkError('MALFORMED', String(err));
  return new NetlinkError(errnoName(err.errno), `${p.req.what ?? 'netlink request'} could not be sent: ${err.message}`, { errno: err.errno, request: failed(p) });
}
