// Non-blocking TCP connects on the native shim, made the way keepalived's TCP_CHECK makes them (layer4.c):
// socket(SOCK_NONBLOCK), bind when asked, connect (EINPROGRESS), wait until writable, read SO_ERROR, close. No
// stream objects: a check costs a descriptor, one epoll_ctl and one small record. Every pending connect waits in
// one epoll set, which one Poller watches (a uv_poll handle and JS object per connect cost ~28 µs of CPU each),
// and its deadline in one heap behind one timer, so thousands of connects in flight keep one timer armed.
// The system calls go to the shim in batches: the connects asked for in one turn start in one call
// (socket, connect, epoll_ctl each), a read of the set returns SO_ERROR with the events, and what finished closes in
// one call. Made one call per system call, the crossings into N-API cost a check more in the emulated guest than
// the difference to keepalived's checker (docs/benchmarks.md, "The floor of a TCP_CHECK in JavaScript").
// A connect can carry a Conversation (HTTP_GET's plain request/response, as keepalived's check_http.c does it on
// the same socket): once connected it writes the request and reads the reply through the same epoll set into one
// shared buffer, under the same deadline, until the conversation says it is over or the peer closes.
import { constants } from 'node:os';
import {
  AF_INET, AF_INET6, EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLLIN, EPOLLOUT, IPPROTO_TCP, SO_REUSEADDR, SOCK_STREAM, SOL_SOCKET,
} from '../sys/constants.ts';
import { inetFamily } from '../sys/inet.ts';
import { isErrno, type NativePoller, type NativeSys, sys } from '../sys/native.ts';
import { encodeSockaddr } from '../sys/sockaddr.ts';
import { TimerHeap } from './heap.ts';

/** A connect's outcome: CONNECTED (for a conversation: it is over), TIMED_OUT, ABORTED, or the errno that failed it. */
export const CONNECTED = 0;
export const TIMED_OUT = -1;
export const ABORTED = -2;

/** Where to connect from and to, encoded once per checker (checks repeat every delay_loop). */
export interface ConnectTarget {
  readonly domain: number;
  readonly address: Buffer;
  /** sockaddr to bind first (bindto/bind_port), or null to let the kernel choose. */
  readonly bind: Buffer | null;
}

export function connectTarget(connectIp: string, connectPort: number, bindTo?: string, bindPort?: number): ConnectTarget {
  const family = inetFamily(connectIp.split('%')[0]!) ?? 4;
  const bind = bindTo !== undefined || bindPort !== undefined
    ? sockaddr(bindTo ?? (family === 6 ? '::' : '0.0.0.0'), bindPort ?? 0, family)
    : null;
  return { domain: family === 6 ? AF_INET6 : AF_INET, address: sockaddr(connectIp, connectPort, family), bind };
}

function sockaddr(ip: string, port: number, family: 4 | 6): Buffer {
  if (family === 4) return encodeSockaddr({ family: 4, address: ip, port });
  const [address = ip, zone] = ip.split('%');
  const scopeId = zone === undefined ? 0 : /^\d+$/.test(zone) ? Number(zone) : sys().ifNameToIndex(zone);
  return encodeSockaddr({ family: 6, address, port, scopeId });
}

/** What to say once connected and how to read the answer; one object per exchange holds its own state. */
export interface Conversation {
  /** The connect completed: the request to write (small; written whole before anything is read). */
  connected(): Uint8Array;
  /** `length` bytes arrived at the start of `data`, a shared buffer valid only during the call. True = over. */
  received(data: Buffer, length: number): boolean;
  /** The peer closed its side (EOF): the conversation is over. */
  ended(): void;
}

const EINPROGRESS = constants.errno.EINPROGRESS;
const ECONNRESET = constants.errno.ECONNRESET;
const EAGAIN = constants.errno.EAGAIN;
const ONE = Buffer.from(new Int32Array([1]).buffer);
/** Every conversation reads into this one buffer, consumed before the next read. */
const rx = Buffer.allocUnsafe(64 * 1024);
const rxMeta = new Int32Array(3);

class Pending {
  /** -1 until its batch has been started (flushStarts). */
  fd = -1;
  /** performance.now() at which it times out; with fd, the key of its entry in the deadline heap. */
  readonly deadline: number;
  readonly signal: AbortSignal;
  readonly resolve: (outcome: number) => void;
  readonly conversation: Conversation | null;
  /** Bytes of the request written; -1 while connecting. */
  sent = -1;
  request: Uint8Array | null = null;

  constructor(deadline: number, signal: AbortSignal, resolve: (outcome: number) => void, conversation: Conversation | null) {
    this.deadline = deadline;
    this.signal = signal;
    this.resolve = resolve;
    this.conversation = conversation;
  }
}

/**
 * Pending connects by descriptor (an array: no hash-table insert and delete per check). The deadline heap holds
 * (deadline, fd) pairs, left in place when a connect finishes: an entry is live while the Pending on its fd has
 * that deadline, since a descriptor number is reused as soon as it is closed.
 */
const byFd: (Pending | undefined)[] = [];
let pendingCount = 0;
const deadlines = new TimerHeap();
/** Abort signals with a listener: one per signal (the runner has one), which finds its connects by scanning. */
const watched = new WeakSet<AbortSignal>();
let timer: NodeJS.Timeout | undefined;
let timerAt = Infinity;
let epoll: { readonly fd: number; readonly poller: NativePoller } | undefined;
/** [fd, events, SO_ERROR] per ready descriptor (epollReap). */
const events = new Int32Array(3 * 1024);
/**
 * Connects asked for in this turn, started together in one call to the shim once the current task's synchronous
 * part is over (a pool tick starts up to 16 and more): in the guest each crossing into the shim cost more than the
 * system call it made.
 */
const starting: Pending[] = [];
const startingTargets: ConnectTarget[] = [];
const startDomains = new Int32Array(1024);
const startAddresses: Uint8Array[] = [];
const startFds = new Int32Array(1024);
/** 1 for the descriptors whose connect is pending: epollReap reads SO_ERROR for those only. */
let connecting = new Uint8Array(4096);
/** Descriptors finished while reading the epoll set, closed together at the end of each read. */
const closing = new Int32Array(1024);
let closingCount = 0;
let reaping = false;

/**
 * Connects to `target` by `deadline` (on performance.now()'s clock: the caller has just read it for the check's
 * own latency, and in the guest every clock read is a system call); resolves with the outcome (rejects only when
 * the shim is not built).
 */
export function tcpConnect(target: ConnectTarget, deadline: number, signal: AbortSignal): Promise<number> {
  return start(target, deadline, signal, null);
}

/**
 * Connects and holds `conversation` within `timeoutMs` for the whole exchange; resolves with CONNECTED once the
 * conversation is over (its own state says how it went), or TIMED_OUT, ABORTED, or the errno that cut it short.
 */
export function tcpExchange(target: ConnectTarget, timeoutMs: number, signal: AbortSignal, conversation: Conversation): Promise<number> {
  return start(target, performance.now() + timeoutMs, signal, conversation);
}

function start(target: ConnectTarget, deadline: number, signal: AbortSignal, conversation: Conversation | null): Promise<number> {
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve) => {
    // Here, where a shim that is not built rejects this promise, not in the batch's microtask.
    const set = epollSet(sys());
    const p = new Pending(deadline, signal, resolve, conversation);
    if (target.bind) return startBound(p, target, set);
    if (starting.push(p) === 1) queueMicrotask(flushStarts);
    startingTargets.push(target);
  });
}

/** Starts the connects asked for since the last flush, up to 1,024 a call. */
function flushStarts(): void {
  const native = sys();
  let from = 0;
  try {
    for (; from < starting.length; from += startFds.length) {
      const count = Math.min(startFds.length, starting.length - from);
      for (let i = 0; i < count; i++) {
        startDomains[i] = startingTargets[from + i]!.domain;
        startAddresses[i] = startingTargets[from + i]!.address;
      }
      native.connectMany(epoll!.fd, startDomains, startAddresses, count, startFds);
      for (let i = 0; i < count; i++) {
        const p = starting[from + i]!;
        const fd = startFds[i]!;
        if (fd < 0) p.resolve(-fd);
        else if (p.signal.aborted) {
          // Aborted after it was asked for: the abort's scan did not see it yet.
          native.close(fd);
          p.resolve(ABORTED);
        } else pend(p, fd);
      }
    }
  } catch (err) {
    // Not a system call's failure (those come back per connect): every connect not started fails with it.
    for (let i = from; i < starting.length; i++) starting[i]!.resolve(errnoOf(err));
  } finally {
    starting.length = 0;
    startingTargets.length = 0;
    startAddresses.length = 0;
  }
  arm();
}

/** bindto/bind_port: set up one by one (rare; the batch has no bind step). */
function startBound(p: Pending, target: ConnectTarget, set: number): void {
  const native = sys();
  let fd: number;
  try {
    fd = native.socket(target.domain, SOCK_STREAM, IPPROTO_TCP);
  } catch (err) {
    return p.resolve(errnoOf(err));
  }
  try {
    // net.Socket's bind (libuv) sets SO_REUSEADDR, so a fixed bind_port can be reused while the previous
    // check's connection sits in TIME_WAIT; without it every check after the first would fail to bind.
    native.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, ONE);
    native.bind(fd, target.bind!);
    native.connect(fd, target.address);
    // EPOLLERR and EPOLLHUP are always reported; closing the descriptor removes it from the set.
    native.epollCtl(set, EPOLL_CTL_ADD, fd, EPOLLOUT);
  } catch (err) {
    native.close(fd);
    return p.resolve(errnoOf(err));
  }
  pend(p, fd);
  arm();
}

/** A connect in flight on `fd`: found by its descriptor when ready, and by its deadline when late. */
function pend(p: Pending, fd: number): void {
  p.fd = fd;
  if (fd >= connecting.length) {
    const grown = new Uint8Array(Math.max(2 * connecting.length, fd + 1));
    grown.set(connecting);
    connecting = grown;
  }
  connecting[fd] = 1;
  if (pendingCount++ === 0) epoll!.poller.ref();
  while (byFd.length < fd) byFd.push(undefined);
  byFd[fd] = p;
  watch(p.signal);
  deadlines.push(p.deadline, fd);
}

function epollSet(native: NativeSys): number {
  if (epoll) return epoll.fd;
  const fd = native.epollCreate();
  let scheduled = false;
  const read = () => {
    scheduled = false;
    drain(native, fd);
  };
  const poller = new native.Poller(fd, (err) => {
    if (err) throw err;
    if (scheduled) return;
    scheduled = true;
    // Read after the rest of this loop iteration's I/O, as net.Socket's per-connect watcher was: a level-triggered
    // epoll set stays at the head of libuv's ready list, so draining here would look at a connect before, say, a
    // server in this process that accepted and reset it (net.Socket reported that reset; so does this).
    setImmediate(read);
  });
  poller.start(true, false);
  // Referenced only while connects are pending, so an idle set never keeps the process alive.
  poller.unref();
  epoll = { fd, poller };
  return fd;
}

function drain(native: NativeSys, epfd: number): void {
  reaping = true;
  try {
    for (;;) {
      const n = native.epollReap(epfd, events, connecting);
      for (let i = 0; i < n; i++) {
        const p = byFd[events[3 * i]!];
        if (p) ready(native, p, events[3 * i + 1]!, events[3 * i + 2]!);
      }
      closeFinished(native);
      if (n < events.length / 3) return;
    }
  } finally {
    reaping = false;
    closeFinished(native);
  }
}

function closeFinished(native: NativeSys): void {
  if (closingCount > 0) native.closeMany(closing, closingCount);
  closingCount = 0;
}

/** `error`: SO_ERROR, read with the event while the connect was pending (0 once a conversation holds the socket). */
function ready(native: NativeSys, p: Pending, flags: number, error: number): void {
  if (p.sent < 0) connected(native, p, flags, error);
  else if (p.sent < p.request!.length) write(native, p);
  else read(native, p);
}

/** Writable or failed: SO_ERROR says which, as keepalived's socket_state() reads it. */
function connected(native: NativeSys, p: Pending, flags: number, error: number): void {
  let outcome = error;
  if (outcome === EINPROGRESS) return;
  // Hung up with no error left to read (the peer reset a connection it had accepted): not connected.
  if (outcome === 0 && (flags & EPOLLOUT) === 0) outcome = ECONNRESET;
  connecting[p.fd] = 0;
  if (outcome !== CONNECTED || p.conversation === null) return finish(native, p, outcome);
  p.request = p.conversation.connected();
  p.sent = 0;
  write(native, p);
}

/** Writes what the socket takes of the request; once all is out, waits for the reply instead of writability. */
function write(native: NativeSys, p: Pending): void {
  const request = p.request!;
  try {
    p.sent += native.sendmsg(p.fd, [p.sent === 0 ? request : request.subarray(p.sent)]);
    if (p.sent === request.length) native.epollCtl(epoll!.fd, EPOLL_CTL_MOD, p.fd, EPOLLIN);
  } catch (err) {
    // A full send buffer: the rest goes when the socket is writable again (the set still asks for EPOLLOUT).
    if (errnoOf(err) !== EAGAIN) finish(native, p, errnoOf(err));
  }
}

/** Reads until the socket is empty, the peer has closed, or the conversation is over. */
function read(native: NativeSys, p: Pending): void {
  const conversation = p.conversation!;
  for (;;) {
    let n: number;
    try {
      n = native.recvmsg(p.fd, rx, null, null, 0, rxMeta);
    } catch (err) {
      return finish(native, p, errnoOf(err));
    }
    if (n < 0) return;
    if (n === 0) conversation.ended();
    if (n === 0 || conversation.received(rx, n)) return finish(native, p, CONNECTED);
  }
}

function finish(native: NativeSys, p: Pending, outcome: number): void {
  if (byFd[p.fd] === p) {
    byFd[p.fd] = undefined;
    connecting[p.fd] = 0;
    if (--pendingCount === 0) epoll?.poller.unref();
  }
  // A plain close: the kernel sends a normal FIN, as keepalived (2.3.2 and later set no SO_LINGER at all). While
  // the epoll set is read, at the end of the read with the others (a descriptor reported once per read).
  if (reaping) closing[closingCount++] = p.fd;
  else native.close(p.fd);
  p.resolve(outcome);
}

function watch(signal: AbortSignal): void {
  if (watched.has(signal)) return;
  watched.add(signal);
  // An abort (a runner stopping) is rare: scanning every pending connect then beats a set per signal kept per check.
  signal.addEventListener('abort', () => {
    for (const p of byFd) if (p !== undefined && p.signal === signal) finish(sys(), p, ABORTED);
  }, { once: true });
}

/** Whether the heap's entry (deadline, fd) still stands for a pending connect. */
function live(deadline: number, fd: number): boolean {
  return byFd[fd]?.deadline === deadline;
}

/** Arms the one timer for the earliest deadline still pending; finished connects' entries are dropped here. */
function arm(): void {
  while (deadlines.size > 0 && !live(deadlines.peekTime()!, deadlines.peekId()!)) deadlines.pop();
  const next = deadlines.peekTime();
  if (next === undefined || next >= timerAt) return;
  clearTimeout(timer);
  timerAt = next;
  // Unreferenced: the epoll set's poller keeps the process alive while a connect is pending; a stale deadline must not.
  timer = setTimeout(expire, Math.max(0, next - performance.now())).unref();
}

function expire(): void {
  timer = undefined;
  timerAt = Infinity;
  // Node runs timers before it polls: when the loop has fallen behind, connects that completed are still unread
  // here. Read them first, as keepalived takes I/O and timer events from the same epoll_wait, so a busy checker
  // does not throw away connections it already has (and, under saturation, the work spent on them).
  if (epoll && pendingCount > 0) drain(sys(), epoll.fd);
  const now = performance.now();
  for (let top = deadlines.peekTime(); top !== undefined && top <= now; top = deadlines.peekTime()) {
    const fd = deadlines.pop()!;
    if (live(top, fd)) finish(sys(), byFd[fd]!, TIMED_OUT);
  }
  arm();
}

function errnoOf(err: unknown): number {
  return isErrno(err) ? err.errno : constants.errno.EIO;
}
