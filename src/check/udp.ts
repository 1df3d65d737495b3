// UDP_CHECK, as keepalived's check_udp.c: send `payload` (else keepalived's own 32-byte filler) to
// connect_ip:connect_port from a connected socket. Without require_reply, an ICMP error (port, host or network
// unreachable) within connect_timeout fails and anything else (a reply, or silence) passes. With require_reply a
// reply must arrive, its length lie within min/max_reply_length, and its first bytes match the require_reply
// pattern up to the shorter of the two (x nibbles ignored).
import type { UdpCheck } from '../config/model.ts';
import { datagramFailure, exchange } from './datagram.ts';
import { failed, passed } from './result.ts';
import type { CheckResult } from './types.ts';

/** keepalived's set_buf() filler for a UDP_CHECK without payload: its text repeated over 32 bytes. */
const FILLER = Buffer.from('keepalived check - '.repeat(2).slice(0, 32));

export async function checkUdp(checker: UdpCheck, signal: AbortSignal): Promise<CheckResult> {
  const startedAt = performance.now();
  const end = await exchange({
    address: checker.connectIp,
    port: checker.connectPort,
    bindTo: checker.bindTo,
    bindPort: checker.bindPort,
    payload: checker.payload !== undefined ? Buffer.from(checker.payload, 'hex') : FILLER,
    timeoutMs: checker.connectTimeoutMs,
    signal,
    onReply: (data) => data,
  });
  switch (end.kind) {
    case 'aborted':
      return failed(startedAt, 'ABORTED', 'check cancelled');
    case 'error':
      return datagramFailure(startedAt, checker.connectPort, end.error);
    case 'timeout':
      return checker.requireReply
        ? failed(startedAt, 'UDP_NO_REPLY', `no reply within ${checker.connectTimeoutMs} ms`)
        : passed(startedAt, `no ICMP error within ${checker.connectTimeoutMs} ms`);
    case 'reply': {
      const problem = checker.requireReply ? replyProblem(end.value, checker) : undefined;
      return problem ? failed(startedAt, 'UDP_REPLY_MISMATCH', problem) : passed(startedAt, `reply of ${end.value.length} bytes`);
    }
  }
}

/** Why a reply does not satisfy require_reply, or undefined when it does. */
export function replyProblem(reply: Uint8Array, checker: Pick<UdpCheck, 'minReplyLength' | 'maxReplyLength' | 'replyData' | 'replyMask'>): string | undefined {
  const { minReplyLength: min, maxReplyLength: max } = checker;
  if (reply.length < min || reply.length > max) return `reply of ${reply.length} bytes, outside ${min}-${max}`;
  if (checker.replyData === undefined) return undefined;
  const want = Buffer.from(checker.replyData, 'hex');
  const ignore = checker.replyMask !== undefined ? Buffer.from(checker.replyMask, 'hex') : undefined;
  const n = Math.min(reply.length, want.length);
  for (let i = 0; i < n; i++) {
    if (((reply[i]! ^ want[i]!) & ~(ignore?.[i] ?? 0) & 0xff) !== 0) {
      return `reply byte ${i} is ${hex(reply[i]!)}, expected ${pattern(want[i]!, ignore?.[i] ?? 0)}`;
    }
  }
  return undefined;
}

function hex(octet: number): string {
  return octet.toString(16).padStart(2, '0');
}

/** An expected octet as written in require_reply, wildcard nibbles as x. */
function pattern(octet: number, ignore: number): string {
  const high = ignore & 0xf0 ? 'x' : (octet >> 4).toString(16);
  const low = ignore & 0x0f ? 'x' : (octet & 0xf).toString(16);
  return high + low;
}
