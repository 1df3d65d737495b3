// A non-blocking datagram-style socket (UDP, raw IP, AF_PACKET, netlink) on the native shim, with receive
// driven by the event loop: `onMessage` arms a poller and drains every queued datagram on each readiness.
//
//   const s = DatagramSocket.open(AF_INET, SOCK_DGRAM, 0);
//   s.setOption(SOL_IP, IP_PKTINFO, 1);
//   s.bind({ family: 4, address: '127.0.0.1', port: 0 });
//   s.onMessage((d) => console.log(d.data, d.from, decodePacketInfo(d.control)));
//   s.send(Buffer.from('hi'), { family: 4, address: '127.0.0.1', port: 5000 });
//   s.close();
//
// A handler that throws is reported as an uncaught exception (process 'uncaughtException'), the same as any
// Node event callback; the socket keeps polling. Each wake-up drains queued datagrams with one native call
// per batch (recvmany), which matters for netlink where every ACK is its own datagram.
import { MSG_CTRUNC, MSG_TRUNC } from './constants.ts';
import { type Cmsg, decodeCmsgs, encodeCmsgs } from './cmsg.ts';
import { errnoName, type NativePoller, sys } from './native.ts';
import { decodeSockaddr, encodeSockaddr, type Sockaddr, SOCKADDR_CAPACITY } from './sockaddr.ts';

export interface Datagram {
  /** A copy of the received bytes (at most the receive buffer's size). */
  readonly data: Buffer;
  readonly from: Sockaddr | undefined;
  readonly control: readonly Cmsg[];
  /** The datagram was larger than the receive buffer (the kernel set MSG_TRUNC in msg_flags). */
  readonly truncated: boolean;
  /** Its real size when received with the MSG_TRUNC flag (else the truncated length). */
  readonly size: number;
  readonly controlTruncated: boolean;
}

export interface ReceiveOptions {
  /** Receive buffer per datagram in bytes; default 65536. */
  readonly bufferSize?: number;
  /** Control-message capacity in bytes; default 512. */
  readonly controlSize?: number;
  /** Extra recvmsg flags, e.g. MSG_TRUNC to learn a truncated datagram's real size. */
  readonly flags?: number;
  /**
   * onMessage reads one datagram per native call instead of batches, and so allocates no batch buffers (about
   * 300 KiB): for short-lived sockets that wait for a reply or two (a ping).
   */
  readonly single?: boolean;
}

/**
 * The datagrams of one receiveRaw() call without an object each, for consumers of many small datagrams (netlink
 * ACKs). Datagram i is data[offset(i), offset(i) + length(i)); `data` is a fresh copy, so views of it stay valid.
 */
export class RawBatch {
  readonly data: Buffer;
  readonly count: number;
  readonly #meta: Int32Array;
  readonly #addresses: Buffer;
  readonly #room: number;

  constructor(data: Buffer, count: number, meta: Int32Array, addresses: Buffer, room: number) {
    this.data = data;
    this.count = count;
    this.#meta = meta;
    this.#addresses = addresses;
    this.#room = room;
  }

  offset(i: number): number {
    return this.#meta[1 + i * 4]!;
  }
  /** Bytes of datagram i held in `data` (at most the receive buffer's size). */
  length(i: number): number {
    return Math.min(this.#meta[2 + i * 4]!, this.#room);
  }
  /** Its real size (with MSG_TRUNC in the socket's flags) or the received length. */
  size(i: number): number {
    return this.#meta[2 + i * 4]!;
  }
  truncated(i: number): boolean {
    return this.#meta[2 + i * 4]! > this.#room || (this.#meta[3 + i * 4]! & MSG_TRUNC) !== 0;
  }
  /** The source address's bytes (valid until the next receive on the socket). */
  address(i: number): Buffer {
    const len = Math.min(this.#meta[4 + i * 4]! & 0xffff, SOCKADDR_CAPACITY);
    return this.#addresses.subarray(i * SOCKADDR_CAPACITY, i * SOCKADDR_CAPACITY + len);
  }
  /** u32 at byte `at` of the source address (e.g. 8: a netlink sender's multicast groups), 0 past its end. */
  addressU32(i: number, at: number): number {
    const len = Math.min(this.#meta[4 + i * 4]! & 0xffff, SOCKADDR_CAPACITY);
    return at + 4 <= len ? this.#addresses.readUInt32LE(i * SOCKADDR_CAPACITY + at) : 0;
  }
  controlLength(i: number): number {
    return this.#meta[4 + i * 4]! >>> 16;
  }
  controlTruncated(i: number): boolean {
    return (this.#meta[3 + i * 4]! & MSG_CTRUNC) !== 0;
  }
}

export type MessageHandler = (datagram: Datagram) => void;
export type BatchHandler = (batch: RawBatch) => void;
export type ErrorHandler = (error: Error) => void;

export class DatagramSocket {
  readonly fd: number;
  #poller: NativePoller | undefined;
  #closed = false;
  #referenced = true;
  #buffer: Buffer;
  readonly #address = Buffer.alloc(SOCKADDR_CAPACITY);
  readonly #control: Buffer | null;
  readonly #out = new Int32Array(3);
  readonly #flags: number;
  readonly #single: boolean;
  #batch: Batch | undefined;

  private constructor(fd: number, options: ReceiveOptions) {
    this.fd = fd;
    this.#buffer = Buffer.alloc(options.bufferSize ?? 65536);
    const controlSize = options.controlSize ?? 512;
    this.#control = controlSize > 0 ? Buffer.alloc(controlSize) : null;
    this.#flags = options.flags ?? 0;
    this.#single = options.single ?? false;
  }

  /** socket(2) with SOCK_NONBLOCK | SOCK_CLOEXEC always added. */
  static open(domain: number, type: number, protocol: number, options: ReceiveOptions = {}): DatagramSocket {
    return new DatagramSocket(sys().socket(domain, type, protocol), options);
  }

  get closed(): boolean {
    return this.#closed;
  }

  bind(address: Sockaddr): this {
    sys().bind(this.fd, encodeSockaddr(address));
    return this;
  }

  connect(address: Sockaddr): this {
    sys().connect(this.fd, encodeSockaddr(address));
    return this;
  }

  localAddress(): Sockaddr | undefined {
    return decodeSockaddr(sys().getsockname(this.fd));
  }

  /** setsockopt; a number is passed as a C int. */
  setOption(level: number, name: number, value: number | Uint8Array): this {
    sys().setsockopt(this.fd, level, name, typeof value === 'number' ? int32(value) : value);
    return this;
  }

  getOption(level: number, name: number, capacity = 4): Buffer {
    return sys().getsockopt(this.fd, level, name, capacity);
  }

  getIntOption(level: number, name: number): number {
    return this.getOption(level, name, 4).readInt32LE(0);
  }

  /**
   * sendmsg; returns the bytes sent. `to` may be pre-encoded (encodeSockaddr) for hot paths. Throws the shim's
   * errno error (EAGAIN when the send buffer is full).
   */
  send(data: Uint8Array | readonly Uint8Array[], to?: Sockaddr | Uint8Array, control?: readonly Cmsg[], flags = 0): number {
    const iov = data instanceof Uint8Array ? [data] : data;
    const ctl = control && control.length > 0 ? encodeCmsgs(control) : null;
    const address = to === undefined ? null : to instanceof Uint8Array ? to : encodeSockaddr(to);
    return sys().sendmsg(this.fd, iov, address, ctl, flags);
  }

  /** One non-blocking recvmsg: null when nothing is queued. */
  receive(): Datagram | null {
    const out = this.#out;
    const bytes = this.receiveInPlace();
    if (bytes < 0) return null;
    const got = Math.min(bytes, this.#buffer.length);
    const controlLength = out[1]!;
    return {
      data: Buffer.from(this.#buffer.subarray(0, got)),
      from: decodeSockaddr(this.#address.subarray(0, Math.min(out[0]!, SOCKADDR_CAPACITY))),
      control: this.#control && controlLength > 0 ? decodeCmsgs(this.#control.subarray(0, controlLength)) : [],
      truncated: bytes > this.#buffer.length || (out[2]! & MSG_TRUNC) !== 0,
      size: bytes,
      controlTruncated: (out[2]! & MSG_CTRUNC) !== 0,
    };
  }

  /**
   * receive() without a copy or an object: one non-blocking recvmsg into the socket's own buffer. Returns the
   * datagram's size as the kernel reports it (with MSG_TRUNC in the socket's flags it may exceed the buffer), or -1
   * when nothing is queued; its bytes are `receiveBuffer` from 0 and its source `receivedFrom`, both valid until the
   * next receive. Throws the errno error as receive() does.
   */
  receiveInPlace(): number {
    return sys().recvmsg(this.fd, this.#buffer, this.#address, this.#control, this.#flags, this.#out);
  }

  /** What receiveInPlace() reads into (replaced when the buffer grows). */
  get receiveBuffer(): Buffer {
    return this.#buffer;
  }

  /** The source address of the last receiveInPlace(), as the kernel wrote it. */
  get receivedFrom(): Buffer {
    return this.#address;
  }

  /**
   * Every queued datagram up to a batch limit, read with one native call. Each `data` is a view into one
   * fresh copy per batch, so it stays valid. A receive error met after some datagrams is thrown by the next
   * call (the kernel reports a socket error such as ENOBUFS only once, so it is kept until then).
   */
  receiveBatch(): Datagram[] {
    const raw = this.receiveRaw();
    const b = this.#batch;
    if (!raw || !b) return [];
    const out: Datagram[] = [];
    for (let i = 0; i < raw.count; i++) {
      const off = raw.offset(i);
      const ctlLen = raw.controlLength(i);
      const ctl = b.controls && ctlLen > 0 ? b.controls.subarray(i * b.controlSlot, i * b.controlSlot + ctlLen) : undefined;
      out.push({
        data: raw.data.subarray(off, off + raw.length(i)),
        from: decodeSockaddr(raw.address(i)),
        control: ctl ? decodeCmsgs(ctl) : [],
        truncated: raw.truncated(i),
        size: raw.size(i),
        controlTruncated: raw.controlTruncated(i),
      });
    }
    return out;
  }

  /** receiveBatch() without an object per datagram; undefined when nothing is queued. Same error rules. */
  receiveRaw(): RawBatch | undefined {
    const b = (this.#batch ??= newBatch(this.#buffer.length, this.#control?.length ?? 0));
    if (b.pending) {
      const err = b.pending;
      b.pending = undefined;
      throw err;
    }
    const n = sys().recvmany(this.fd, b.buffer, b.addresses, b.controls, this.#flags, b.meta, this.#buffer.length);
    if (n === 0) return undefined;
    if (b.meta[0] !== 0) b.pending = errnoError(b.meta[0]!);
    const lastOff = b.meta[1 + (n - 1) * 4]!;
    const end = lastOff + Math.min(b.meta[2 + (n - 1) * 4]!, this.#buffer.length);
    return new RawBatch(Buffer.from(b.buffer.subarray(0, end)), n, b.meta, b.addresses, this.#buffer.length);
  }

  /** Grows the receive buffer (e.g. after a truncated datagram). */
  setReceiveBufferSize(bytes: number): void {
    if (bytes <= this.#buffer.length) return;
    this.#buffer = Buffer.alloc(bytes);
    this.#batch = undefined;
  }

  /**
   * Delivers every datagram as it arrives. Receive errors go to `onError` (default: thrown, i.e. uncaught);
   * at most `maxPerWake` datagrams are drained per wake-up so one busy socket cannot starve the event loop.
   */
  onMessage(handler: MessageHandler, onError?: ErrorHandler, maxPerWake = 512): this {
    return this.#poll(
      () => (this.#single ? [this.receive()].filter((d) => d !== null) : this.receiveBatch()),
      (batch) => {
        for (const d of batch) if (!this.#closed) handler(d);
        return batch.length;
      },
      onError,
      maxPerWake,
    );
  }

  /** onMessage() for receiveRaw() batches: many small datagrams without an object each. */
  onBatch(handler: BatchHandler, onError?: ErrorHandler, maxPerWake = 512): this {
    return this.#poll(
      () => this.receiveRaw(),
      (raw) => {
        if (!raw) return 0;
        handler(raw);
        return raw.count;
      },
      onError,
      maxPerWake,
    );
  }

  /**
   * Arms the poller: on readiness, receive and deliver until nothing is queued. Receive errors go to `onError`;
   * a throwing handler is uncaught, as any event callback's error.
   */
  #poll<R>(receive: () => R, deliver: (received: R) => number, onError: ErrorHandler | undefined, maxPerWake: number): this {
    if (this.#closed) throw new Error('socket is closed');
    this.#poller?.close();
    const report = onError ?? ((e: Error) => { throw e; });
    this.#poller = new (sys().Poller)(this.fd, (err, readable) => {
      if (err) return report(err);
      if (!readable) return;
      for (let done = 0; done < maxPerWake && !this.#closed; ) {
        let received: R;
        try {
          received = receive();
        } catch (e) {
          return report(e as Error);
        }
        const n = deliver(received);
        if (n === 0) return;
        done += n;
      }
    });
    if (!this.#referenced) this.#poller.unref();
    this.#poller.start(true, false);
    return this;
  }

  /** Stops delivering datagrams (they queue in the kernel until the next onMessage). */
  pause(): void {
    this.#poller?.close();
    this.#poller = undefined;
  }

  /** Whether a listening socket keeps the process alive (it does by default). */
  ref(): void {
    this.#referenced = true;
    this.#poller?.ref();
  }

  unref(): void {
    this.#referenced = false;
    this.#poller?.unref();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.pause();
    sys().close(this.fd);
  }
}

const BATCH_DATAGRAMS = 256;

interface Batch {
  readonly buffer: Buffer;
  readonly addresses: Buffer;
  readonly controls: Buffer | null;
  readonly controlSlot: number;
  readonly meta: Int32Array;
  pending: Error | undefined;
}

/** Room for many small datagrams (netlink ACKs) while always offering a full-size datagram its space. */
function newBatch(datagramSize: number, controlSize: number): Batch {
  return {
    buffer: Buffer.alloc(Math.max(4 * datagramSize, 256 * 1024)),
    addresses: Buffer.alloc(BATCH_DATAGRAMS * SOCKADDR_CAPACITY),
    controls: controlSize > 0 ? Buffer.alloc(BATCH_DATAGRAMS * controlSize) : null,
    controlSlot: controlSize,
    meta: new Int32Array(1 + 4 * BATCH_DATAGRAMS),
    pending: undefined,
  };
}

function errnoError(errno: number): Error {
  const code = errnoName(errno);
  return Object.assign(new Error(`recvmsg failed: errno ${errno} (${code})`), { errno, code, syscall: 'recvmsg' });
}

function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v, 0);
  return b;
}
