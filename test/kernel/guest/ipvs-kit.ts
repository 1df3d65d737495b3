// Shared helpers for the guest-side IPVS tests: shell out to the reference client (ipvsadm) and express our own
// table in ipvsadm's save format (`ipvsadm -Sn`), the most complete text ipvsadm prints, so tables compare as
// sorted rule lines.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { KernelTable } from '../../../src/ipvs/client.ts';
import { hostPort } from '../../../src/sys/inet.ts';
import type { DestinationSpec, IpvsTable, ServiceFlags, ServiceId, ServiceSpec } from '../../../src/ipvs/types.ts';

export function sh(cmd: string, input?: string): string {
  return execFileSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

export function ipvsadmRules(): string[] {
  return sh('ipvsadm -Sn').split('\n').filter(Boolean).sort();
}

/** The schedulers this kernel ships as modules (the list differs between kernel versions). */
export function availableSchedulers(names: readonly string[]): string[] {
  const dep = readFileSync(`/lib/modules/${sh('uname -r').trim()}/modules.dep`, 'utf8');
  return names.filter((n) => dep.includes(`/ip_vs_${n}.ko`));
}

/** `ipvsadm -Ln --thresholds`: real server → "upper/lower" (ipvsadm -S does not save thresholds). */
export function ipvsadmThresholds(): string[] {
  return sh('ipvsadm -Ln --thresholds')
    .split('\n')
    .map((l) => /^\s+-> (\S+)\s+(\d+)\s+(\d+)\s+\d+\s+\d+/.exec(l))
    .flatMap((m) => (m ? [`${m[1]} ${m[2]}/${m[3]}`] : []))
    .sort();
}

export function tableThresholds(t: IpvsTable | KernelTable): string[] {
  return t.services.flatMap((s) => s.destinations.map((d) => `${hostPort(d.address, d.port)} ${d.upperThreshold}/${d.lowerThreshold}`)).sort();
}

function svcArg(id: ServiceId): string {
  if (id.kind === 'fwmark') return `-f ${id.mark}${id.family === 6 ? ' -6' : ''}`;
  const flag = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service' }[id.protocol];
  return `${flag} ${hostPort(id.address, id.port)}`;
}

const SCHED_FLAG_NAMES: Record<string, [string, string]> = { sh: ['sh-fallback', 'sh-port'], mh: ['mh-fallback', 'mh-port'] };

export function serviceRule(s: ServiceSpec): string {
  let r = `-A ${svcArg(s.id)} -s ${s.scheduler}`;
  if (s.flags.persistent) {
    r += ` -p ${s.timeoutS}`;
    if (s.netmask !== (s.id.family === 4 ? '255.255.255.255' : '128')) r += ` -M ${s.netmask}`;
  }
  if (s.pe) r += ` --pe ${s.pe}`;
  if (s.flags.onePacket) r += ' -o';
  const names = SCHED_FLAG_NAMES[s.scheduler] ?? ['flag-1', 'flag-2'];
  const sched = [s.flags.shFallback && names[0], s.flags.shPort && names[1], s.flags.schedFlag3 && 'flag-3'].filter(Boolean);
  if (sched.length) r += ` -b ${sched.join(',')}`;
  return r;
}

export function destRule(id: ServiceId, d: DestinationSpec): string {
  const fwd = { masq: '-m', droute: '-g', tunnel: '-i', local: '-g', bypass: '-g' }[d.forward];
  let r = `-a ${svcArg(id)} -r ${hostPort(d.address, d.port)} ${fwd} -w ${d.weight}`;
  if (d.forward === 'tunnel') {
    const t = d.tunnel ?? { type: 'ipip' };
    r += ` --tun-type ${t.type}`;
    if (t.port) r += ` --tun-port ${t.port}`;
    if (t.csum === 'checksum') r += ' --tun-csum';
    if (t.csum === 'remote') r += ' --tun-remcsum';
  }
  return r;
}

export function tableRules(t: IpvsTable | KernelTable): string[] {
  return t.services.flatMap((s) => [serviceRule(s.service), ...s.destinations.map((d) => destRule(s.service.id, d))]).sort();
}

export const NO_FLAGS: ServiceFlags = { persistent: false, onePacket: false, shFallback: false, shPort: false, schedFlag3: false };

export function tcp(address: string, port: number, scheduler = 'wrr', more: Partial<ServiceSpec> = {}): ServiceSpec {
  const family = address.includes(':') ? 6 : 4;
  return { id: { kind: 'addr', family, protocol: 'TCP', address, port }, scheduler, flags: NO_FLAGS, timeoutS: 0, netmask: family === 4 ? '255.255.255.255' : '128', ...more };
}

export function real(address: string, port: number, more: Partial<DestinationSpec> = {}): DestinationSpec {
  return { address, family: address.includes(':') ? 6 : 4, port, forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0, ...more };
}
