// The compiled syscall shim (native/sys.cc), loaded on first use so modules that never touch a socket (the
// config checker, the CLI's help) work even where the addon was not built.
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import type { ErrnoName } from '../errors.ts';
import { SysError } from './errors.ts';

/** What the shim throws for a failed syscall. */
export interface ErrnoException extends Error {
  readonly errno: number;
  readonly code: ErrnoName;
  readonly syscall: string;
}

export interface NativePoller {
  /** (Re)arms the poller for the given readiness kinds; calling it again changes the set. */
  start(readable: boolean, writable: boolean): void;
  stop(): void;
  /** Whether an armed poller keeps the Node process alive (default: it does). */
  ref(): void;
  unref(): void;
  /** Stops for good; call before closing the descriptor. */
  close(): void;
}

export interface NativeSys {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, address: Uint8Array): void;
  connect(fd: number, address: Uint8Array): void;
  getsockname(fd: number): Buffer;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array): void;
  getsockopt(fd: number, level: number, name: number, capacity: number): Buffer;
  /** The pending SO_ERROR (0 if none), read and cleared: a non-blocking connect's outcome. */
  socketError(fd: number): number;
  /** epoll_create1(EPOLL_CLOEXEC). */
  epollCreate(): number;
  /** epoll_ctl; the event's data is `fd`, which epollWait reports back. */
  epollCtl(epfd: number, op: number, fd: number, events: number): void;
  /** epoll_wait without blocking: fills `out` with [fd, events] pairs (at most 1,024) and returns their count. */
  epollWait(epfd: number, out: Int32Array): number;
  /**
   * TCP connects in one call: for each i < count, socket(domains[i], SOCK_STREAM, non-blocking), connect to
   * addresses[i] and add it to `epfd` for EPOLLOUT; out[i] is the descriptor, or -errno (nothing left open).
   */
  connectMany(epfd: number, domains: Int32Array, addresses: readonly Uint8Array[], count: number, out: Int32Array): void;
  /**
   * epollWait with SO_ERROR read (and cleared) for each ready descriptor marked in `connecting` (indexed by
   * descriptor; 0 for the others): fills `out` with [fd, events, error] triples (at most 1,024), returns their count.
   */
  epollReap(epfd: number, out: Int32Array, connecting: Uint8Array): number;
  /** Closes fds[0..count), reporting nothing. */
  closeMany(fds: Int32Array, count: number): void;
  sendmsg(fd: number, iov: readonly Uint8Array[], address?: Uint8Array | null, control?: Uint8Array | null, flags?: number): number;
  /**
   * Receives into caller-owned buffers (no allocation per datagram). Returns the kernel's byte count (with
   * MSG_TRUNC the datagram's real size, maybe > buffer.length) or -1 when nothing is queued (EAGAIN); `out`
   * receives [address length, control length, msg_flags].
   */
  recvmsg(fd: number, buffer: Uint8Array, address: Uint8Array | null, control: Uint8Array | null, flags: number, out: Int32Array): number;
  /**
   * Drains up to (meta.length - 1) / 4 datagrams in one call, packed 8-byte aligned in `buffer`, each offered
   * `datagramSize` bytes; stops when less than that remains or nothing is queued. Datagram i's source
   * address lands in slot i of `addresses` and its control data in slot i of `controls` (equal slots). meta[0]:
   * errno of a failure met after at least one datagram (0 if none); then per datagram
   * [offset, bytes, msg_flags, address length | control length << 16]. Returns the count.
   */
  recvmany(fd: number, buffer: Uint8Array, addresses: Uint8Array, controls: Uint8Array | null, flags: number, meta: Int32Array, datagramSize: number): number;
  close(fd: number): void;
  ifNameToIndex(name: string): number;
  ifIndexToName(index: number): string;
  /**
   * A readiness poller on the Node event loop. An exception thrown by `callback` is raised as an uncaught
   * exception (process 'uncaughtException'), never a native abort.
   */
  Poller: new (fd: number, callback: (error: ErrnoException | null, readable: boolean, writable: boolean) => void) => NativePoller;
}

let loaded: NativeSys | undefined;

/** The shim; throws one clear line when the addon has not been built. */
export function sys(): NativeSys {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  try {
    loaded = require('../../build/Release/ipvs_ts_sys.node') as NativeSys;
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new SysError('SYS_SHIM_NOT_BUILT', `the native socket shim is not built (run \`npm ci\` or \`npx node-gyp rebuild\`): ${why}`);
  }
  return loaded;
}

export function isErrno(err: unknown, code?: string): err is ErrnoException {
  if (!(err instanceof Error) || typeof (err as Partial<ErrnoException>).errno !== 'number') return false;
  return code === undefined || (err as ErrnoException).code === code;
}

// Where two names share a number, the kernel's own spelling wins (EOPNOTSUPP, not ENOTSUP).
const names = new Map<number, ErrnoName>([[95, 'EOPNOTSUPP'], [11, 'EAGAIN'], [35, 'EDEADLK']]);
for (const [name, num] of Object.entries(constants.errno)) if (!names.has(num)) names.set(num, name as ErrnoName);

export function errnoName(errno: number): ErrnoName {
  return names.get(errno) ?? `E${errno}`;
}
