// Builders for model objects with keepalived's defaults, so tests state only what they are about.
import type {
  DnsCheck, FileCheck, HttpCheck, MiscCheck, PingCheck, RealServer, SmtpCheck, SourcePos, TcpCheck, TrackFile, UdpCheck, VirtualServer,
} from '../../src/config/model.ts';

export const pos: SourcePos = { file: 'test.conf', line: 1, col: 1 };

const common = {
  connectIp: '127.0.0.1',
  connectPort: 80,
  connectTimeoutMs: 5_000,
  retry: 1,
  delayBeforeRetryMs: 1_000,
  warmupMs: 0,
  delayLoopMs: 10_000,
  alpha: false,
  pos,
};

export function tcpCheck(over: Partial<TcpCheck> = {}): TcpCheck {
  return { ...common, type: 'TCP_CHECK', ...over };
}

export function httpCheck(over: Partial<HttpCheck> = {}): HttpCheck {
  return {
    ...common,
    type: 'HTTP_GET',
    urls: [{ path: '/', statusCodes: [{ from: 200, to: 299 }], pos }],
    httpProtocol: '1.1',
    enableSni: false,
    ...over,
  };
}

export function miscCheck(over: Partial<MiscCheck> = {}): MiscCheck {
  return { ...common, type: 'MISC_CHECK', path: '/bin/true', timeoutMs: 5_000, dynamic: false, retry: 0, ...over };
}

export function pingCheck(over: Partial<PingCheck> = {}): PingCheck {
  return { ...common, type: 'PING_CHECK', connectPort: 0, ...over };
}

export function udpCheck(over: Partial<UdpCheck> = {}): UdpCheck {
  return { ...common, type: 'UDP_CHECK', requireReply: false, minReplyLength: 0, maxReplyLength: 255, ...over };
}

export function dnsCheck(over: Partial<DnsCheck> = {}): DnsCheck {
  return { ...common, type: 'DNS_CHECK', connectPort: 53, queryType: 'SOA', name: '.', retry: 3, ...over };
}

export function smtpCheck(over: Partial<SmtpCheck> = {}): SmtpCheck {
  return { ...common, type: 'SMTP_CHECK', connectPort: 25, heloName: 'smtpchecker.keepalived.org', ...over };
}

export function fileCheck(trackFile: Partial<TrackFile> & { path: string }, over: Partial<FileCheck> = {}): FileCheck {
  const file: TrackFile = { name: 'tf', weight: 1, weightReverse: false, pos, ...trackFile };
  return { ...common, type: 'FILE_CHECK', retry: 0, delayBeforeRetryMs: 0, trackFile: file, weight: file.weight, weightReverse: file.weightReverse, ...over };
}

export function realServer(over: Partial<RealServer> = {}): RealServer {
  return {
    address: '127.0.0.1',
    family: 4,
    port: 80,
    weight: 1,
    lbKind: 'NAT',
    inhibitOnFailure: false,
    alpha: false,
    delayLoopMs: 10_000,
    checkers: [tcpCheck()],
    pos,
    ...over,
  };
}

export function virtualServer(over: Partial<VirtualServer> = {}): VirtualServer {
  return {
    key: { kind: 'addr', address: '10.0.0.1', family: 4, port: 80 },
    protocol: 'TCP',
    lbAlgo: 'wrr',
    lbKind: 'NAT',
    schedulerFlags: [],
    onePacket: false,
    delayLoopMs: 10_000,
    haSuspend: false,
    alpha: false,
    omega: false,
    quorum: 1,
    hysteresis: 0,
    sorryServerInhibit: false,
    inhibitOnFailure: false,
    realServers: [realServer()],
    pos,
    ...over,
  };
}
