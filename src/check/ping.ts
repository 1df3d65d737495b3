// PING_CHECK: one ICMP (or ICMPv6) echo request to connect_ip; up when its echo reply comes back within
// connect_timeout. keepalived uses an unprivileged ping socket and widens net.ipv4.ping_group_range for root to
// get one; ipvs-ts leaves that sysctl alone: it takes a ping socket where the range allows this process's group,
// else a raw socket (root has CAP_NET_RAW). Either socket is connected to the target, so the kernel hands it only
// that host's packets, and an ICMP error for it (host or network unreachable) fails the check at once.
import { randomInt } from 'node:crypto';
import type { PingCheck } from '../config/model.ts';
import {
  AF_INET, AF_INET6, ICMP6_FILTER, ICMP_FILTER, IPPROTO_ICMP, IPPROTO_ICMPV6, SOCK_DGRAM, SOCK_RAW, SOL_ICMPV6, SOL_RAW,
} from '../sys/constants.ts';
import { inetFamily } from '../sys/inet.ts';
import { isErrno } from '../sys/native.ts';
import { DatagramSocket } from '../sys/socket.ts';
import { CheckError } from './errors.ts';
import { echoReply, echoRequest } from './icmp.ts';
import { failed, passed } from './result.ts';
import type { CheckResult } from './types.ts';

/** What the echo request carries: 56 bytes, the usual ping size, saying who sent it. */
const PAYLOAD = Buffer.from('ipvs-ts PING_CHECK '.repeat(3).slice(0, 56));

/** Replies are small; a check reads a datagram or two, so no batch buffers. */
const RECEIVE = { bufferSize: 2048, controlSize: 0, single: true } as const;

/** Replies are matched by sequence (and, on raw sockets, id): a counter, as keepalived's seq_no. */
let sequence = 0;

export interface EchoSocket {
  readonly socket: DatagramSocket;
  /** `ping`: SOCK_DGRAM, the kernel chooses the id and filters replies by it. `raw`: SOCK_RAW, we do both. */
  readonly kind: 'ping' | 'raw';
}

/** A ping socket where net.ipv4.ping_group_range allows it (it also governs ICMPv6), else a raw one. */
export function openEchoSocket(family: 4 | 6): EchoSocket {
  const domain = family === 4 ? AF_INET : AF_INET6;
  const protocol = family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
  try {
    return { socket: DatagramSocket.open(domain, SOCK_DGRAM, protocol, RECEIVE), kind: 'ping' };
  } catch (err) {
    if (!isErrno(err, 'EACCES') && !isErrno(err, 'EPERM')) throw err;
  }
  try {
    const socket = DatagramSocket.open(domain, SOCK_RAW, protocol, RECEIVE);
    passOnlyEchoReplies(socket, family);
    return { socket, kind: 'raw' };
  } catch (err) {
    if (!isErrno(err, 'EPERM')) throw err;
    throw new CheckError('SOCKET_ERROR', 'no ICMP socket: net.ipv4.ping_group_range excludes this group and raw sockets need root (CAP_NET_RAW)', { cause: err });
  }
}

/** A raw ICMP socket is handed every ICMP packet from its peer; the kernel can drop all but echo replies. */
function passOnlyEchoReplies(socket: DatagramSocket, family: 4 | 6): void {
  if (family === 4) {
    socket.setOption(SOL_RAW, ICMP_FILTER, Buffer.from(Uint32Array.of(~1 >>> 0).buffer));
    return;
  }
  const blocked = new Uint32Array(8).fill(0xffffffff);
  blocked[129 >> 5]! &= ~(1 << (129 & 31));
  socket.setOption(SOL_ICMPV6, ICMP6_FILTER, Buffer.from(blocked.buffer));
}

export function checkPing(checker: PingCheck, signal: AbortSignal): Promise<CheckResult> {
  const startedAt = performance.now();
  const family = inetFamily(checker.connectIp) ?? 4;
  if (signal.aborted) return Promise.resolve(failed(startedAt, 'ABORTED', 'check cancelled'));
  let echo: EchoSocket;
  try {
    echo = openEchoSocket(family);
  } catch (err) {
    return Promise.resolve(failed(startedAt, 'SOCKET_ERROR', err instanceof Error ? err.message : String(err)));
  }
  const { socket, kind } = echo;
  sequence = (sequence + 1) & 0xffff;
  const sent = { id: randomInt(0x10000), sequence };
  return new Promise((resolve) => {
    const finish = (result: CheckResult) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.close();
      resolve(result);
    };
    const onAbort = () => finish(failed(startedAt, 'ABORTED', 'check cancelled'));
    const timer = setTimeout(() => finish(failed(startedAt, 'ICMP_TIMEOUT', `no echo reply within ${checker.connectTimeoutMs} ms`)), checker.connectTimeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      if (checker.bindTo !== undefined) socket.bind({ family, address: checker.bindTo, port: 0 });
      socket.connect({ family, address: checker.connectIp, port: 0 });
      socket.onMessage(
        (d) => {
          const reply = echoReply(family, d.data, kind === 'raw' && family === 4);
          // A ping socket's id is the kernel's, which it has already matched.
          if (reply && reply.sequence === sent.sequence && (kind === 'ping' || reply.id === sent.id)) finish(passed(startedAt, 'echo reply'));
        },
        (err) => finish(icmpFailure(startedAt, err)),
      );
      socket.send(echoRequest(family, sent, PAYLOAD));
    } catch (err) {
      finish(icmpFailure(startedAt, err as Error));
    }
  });
}

/** An ICMP error for the target arrives as the socket's error; sending can fail the same ways at once. */
function icmpFailure(startedAt: number, err: Error): CheckResult {
  const code = isErrno(err) ? err.code : '';
  if (code === 'EHOSTUNREACH') return failed(startedAt, 'ICMP_UNREACHABLE', 'host unreachable');
  if (code === 'ENETUNREACH') return failed(startedAt, 'ICMP_UNREACHABLE', 'network unreachable');
  return failed(startedAt, 'SOCKET_ERROR', err.message);
}
