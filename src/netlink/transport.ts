// The datagram transport under NetlinkSocket. The kernel one is a bound AF_NETLINK socket on the native shim;
// tests pass a fake (test/netlink/fake-transport.ts) to drive NetlinkSocket's logic deterministically.
import { AF_NETLINK, MSG_TRUNC, NETLINK_ADD_MEMBERSHIP, NETLINK_CAP_ACK, NETLINK_DROP_MEMBERSHIP, NETLINK_EXT_ACK, SO_RCVBUF, SO_RCVBUFFORCE, SO_SNDBUF, SO_SNDBUFFORCE, SOCK_RAW, SOL_NETLINK, SOL_SOCKET } from '../sys/constants.ts';
import { encodeSockaddr } from '../sys/sockaddr.ts';
import { type Datagram, DatagramSocket } from '../sys/socket.ts';

export interface NetlinkDatagram {
  /** The messages, at most the receive buffer's size: data[start, end), by default all of it. */
  readonly data: Buffer;
  readonly start?: number;
  readonly end?: number;
  /** Multicast group mask of the source (0 for unicast replies). */
  readonly groups: number;
  /** The datagram did not fit the receive buffer; `size` is its real size. */
  readonly truncated: boolean;
  readonly size: number;
}

export interface NetlinkTransport {
  /** Our netlink port id (nlmsg_pid of requests). */
  readonly portId: number;
  /** How many unacknowledged requests the receive queue holds ACKs for. */
  readonly ackCapacity: number;
  /** Most bytes one send may carry. */
  readonly maxSendBytes: number;
  readonly closed: boolean;
  /** Sends the messages to the kernel in one datagram; the buffers are reused once it returns (copy to keep). */
  send(messages: readonly Buffer[]): void;
  /** Starts delivering datagrams and receive errors; a datagram object is only valid during the call. */
  listen(onDatagram: (d: NetlinkDatagram) => void, onError: (e: Error) => void): void;
  /** Reads what is queued right now, without waiting (used to salvage replies after an overrun). */
  drain(): NetlinkDatagram[];
  /**
   * Reads one datagram queued right now and hands it (or its receive error) to the listener, without waiting;
   * false when nothing is queued. For a caller that reads a reply inside the call that asked for it.
   */
  receiveNow(): boolean;
  /** Grows the receive buffer after a truncated datagram. */
  growReceiveBuffer(bytes: number): void;
  join(group: number): void;
  leave(group: number): void;
  /** Whether the transport keeps the process alive. */
  ref(): void;
  unref(): void;
  close(): void;
}

export interface KernelTransportOptions {
  /** Receive queue size to ask for (SO_RCVBUFFORCE when privileged, else SO_RCVBUF); default 4 MiB. */
  readonly receiveQueueBytes?: number;
}

const KERNEL_ADDRESS = encodeSockaddr({ family: 'netlink', pid: 0, groups: 0 });

export class KernelTransport implements NetlinkTransport {
  readonly portId: number;
  readonly ackCapacity: number;
  readonly maxSendBytes: number;
  readonly #sock: DatagramSocket;
  #onDatagram: ((d: NetlinkDatagram) => void) | undefined;
  #onError: ((e: Error) => void) | undefined;
  /** receiveNow()'s datagram: one reused object over the socket's receive buffer, read before the next receive. */
  readonly #now: { data: Buffer; start: number; end: number; groups: number; truncated: boolean; size: number } = { data: Buffer.alloc(0), start: 0, end: 0, groups: 0, truncated: false, size: 0 };

  private constructor(sock: DatagramSocket, portId: number, ackCapacity: number, maxSendBytes: number) {
    this.#sock = sock;
    this.portId = portId;
    this.ackCapacity = ackCapacity;
    this.maxSendBytes = maxSendBytes;
  }

  /** Opens and binds a netlink socket (NETLINK_GENERIC, NETLINK_ROUTE, …) with extended ACKs on. */
  static open(protocol: number, options: KernelTransportOptions = {}): KernelTransport {
    // Dump parts are at most 32 KiB; MSG_TRUNC reports the real size of anything larger.
    const sock = DatagramSocket.open(AF_NETLINK, SOCK_RAW, protocol, { bufferSize: 64 * 1024, controlSize: 0, flags: MSG_TRUNC });
    try {
      trySet(sock, SOL_NETLINK, NETLINK_EXT_ACK, 1);
      // Errors then carry only the failed request's header, not its whole payload: requests are kept by seq.
      trySet(sock, SOL_NETLINK, NETLINK_CAP_ACK, 1);
      const want = options.receiveQueueBytes ?? 4 * 1024 * 1024;
      if (!trySet(sock, SOL_SOCKET, SO_RCVBUFFORCE, want)) trySet(sock, SOL_SOCKET, SO_RCVBUF, want);
      if (!trySet(sock, SOL_SOCKET, SO_SNDBUFFORCE, 1024 * 1024)) trySet(sock, SOL_SOCKET, SO_SNDBUF, 1024 * 1024);
      const rcvbuf = sock.getIntOption(SOL_SOCKET, SO_RCVBUF);
      const sndbuf = sock.getIntOption(SOL_SOCKET, SO_SNDBUF);
      sock.bind({ family: 'netlink', pid: 0, groups: 0 });
      const local = sock.localAddress();
      const portId = local?.family === 'netlink' ? local.pid : 0;
      // An ACK costs about 1 KiB of receive queue (skb truesize); keep headroom for error ACKs with text.
      const ackCapacity = Math.max(16, Math.min(1024, Math.floor(rcvbuf / 2048)));
      // The kernel refuses a send larger than the send buffer (EMSGSIZE).
      return new KernelTransport(sock, portId, ackCapacity, Math.max(4096, Math.floor(sndbuf / 2) - 1024));
    } catch (err) {
      sock.close();
      throw err;
    }
  }

  get closed(): boolean {
    return this.#sock.closed;
  }

  send(messages: readonly Buffer[]): void {
    this.#sock.send(messages, KERNEL_ADDRESS);
  }

  listen(onDatagram: (d: NetlinkDatagram) => void, onError: (e: Error) => void): void {
    // Every ACK is its own datagram: one reused object pointing into the batch's bytes, not an object (and a
    // decoded source address, and a Buffer view) per ACK.
    const d: { data: Buffer; start: number; end: number; groups: number; truncated: boolean; size: number } = { data: Buffer.alloc(0), start: 0, end: 0, groups: 0, truncated: false, size: 0 };
    this.#onDatagram = onDatagram;
    this.#onError = onError;
    this.#sock.onBatch((raw) => {
      d.data = raw.data;
      for (let i = 0; i < raw.count && !this.closed; i++) {
        d.start = raw.offset(i);
        d.end = d.start + raw.length(i);
        d.groups = raw.addressU32(i, 8);
        d.truncated = raw.truncated(i);
        d.size = raw.size(i);
        onDatagram(d);
      }
    }, onError);
  }

  drain(): NetlinkDatagram[] {
    return this.#sock.receiveBatch().map(toNetlink);
  }

  receiveNow(): boolean {
    let n: number;
    try {
      n = this.#sock.receiveInPlace();
    } catch (err) {
      this.#onError?.(err as Error);
      return true;
    }
    if (n < 0) return false;
    const d = this.#now;
    d.data = this.#sock.receiveBuffer;
    d.end = Math.min(n, d.data.length);
    d.size = n;
    d.truncated = n > d.data.length;
    d.groups = this.#sock.receivedFrom.readUInt32LE(8);
    this.#onDatagram?.(d);
    return true;
  }

  growReceiveBuffer(bytes: number): void {
    this.#sock.setReceiveBufferSize(bytes);
  }

  join(group: number): void {
    this.#sock.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group);
  }

  leave(group: number): void {
    this.#sock.setOption(SOL_NETLINK, NETLINK_DROP_MEMBERSHIP, group);
  }

  ref(): void {
    this.#sock.ref();
  }

  unref(): void {
    this.#sock.unref();
  }

  close(): void {
    this.#sock.close();
  }
}

function toNetlink(d: Datagram): NetlinkDatagram {
  return { data: d.data, groups: d.from?.family === 'netlink' ? d.from.groups : 0, truncated: d.truncated, size: d.size };
}

function trySet(sock: DatagramSocket, level: number, name: number, value: number): boolean {
  try {
    sock.setOption(level, name, value);
    return true;
  } catch {
    return false;
  }
}
