// DNS_CHECK, as keepalived's check_dns.c: one query (recursion desired, class IN, a random id) over UDP to
// connect_ip:connect_port. Datagrams that are not a response to it (another id, the QR bit clear) are ignored, as
// keepalived does; the first response decides: up when its RCODE is NOERROR, whatever the answer count (an empty
// NOERROR passes, as in keepalived). Unlike keepalived, which reads only the header, the whole response must
// decode, since a server that answers with a broken message is not serving DNS.
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import type { DnsCheck } from '../config/model.ts';
import { datagramFailure, exchange } from './datagram.ts';
import { failed, passed } from './result.ts';
import type { CheckResult } from './types.ts';

type Verdict = { readonly ok: true; readonly answers: number } | { readonly ok: false; readonly code: 'DNS_RCODE' | 'DNS_BAD_REPLY'; readonly reason: string };

export async function checkDns(checker: DnsCheck, signal: AbortSignal): Promise<CheckResult> {
  const startedAt = performance.now();
  const id = randomInt(0x10000);
  const query = dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: checker.queryType, name: checker.name, class: 'IN' }],
  });
  const end = await exchange({
    address: checker.connectIp,
    port: checker.connectPort,
    bindTo: checker.bindTo,
    bindPort: checker.bindPort,
    payload: query,
    timeoutMs: checker.connectTimeoutMs,
    signal,
    onReply: (data) => judge(data, id),
  });
  const what = `${checker.queryType} ${checker.name}`;
  switch (end.kind) {
    case 'aborted':
      return failed(startedAt, 'ABORTED', 'check cancelled');
    case 'error':
      return datagramFailure(startedAt, checker.connectPort, end.error);
    case 'timeout':
      return failed(startedAt, 'DNS_TIMEOUT', `no response to ${what} within ${checker.connectTimeoutMs} ms`);
    case 'reply': {
      const v = end.value;
      if (!v.ok) return failed(startedAt, v.code, `${what}: ${v.reason}`);
      return passed(startedAt, `${what}: NOERROR, ${v.answers} answer${v.answers === 1 ? '' : 's'}`);
    }
  }
}

/** The response to query `id`, judged; undefined for a datagram that is not one (keep waiting). */
function judge(data: Buffer, id: number): Verdict | undefined {
  // The header is read first, so a stray datagram is skipped the way keepalived skips it.
  if (data.length < 12 || data.readUInt16BE(0) !== id || (data[2]! & 0x80) === 0) return undefined;
  // dns-packet decodes the RCODE to its name; its type declarations leave the field out.
  let response: ReturnType<typeof dnsPacket.decode> & { readonly rcode?: string };
  try {
    response = dnsPacket.decode(data);
  } catch (err) {
    return { ok: false, code: 'DNS_BAD_REPLY', reason: `malformed response (${err instanceof Error ? err.message : String(err)})` };
  }
  if (response.rcode !== 'NOERROR') return { ok: false, code: 'DNS_RCODE', reason: `response code ${response.rcode}` };
  return { ok: true, answers: response.answers?.length ?? 0 };
}
