// The imported IPVS table as keepalived.conf: one virtual_server per service (fwmark or address), lb_algo, lb_kind
// from its first real server with lvs_method on the real servers that forward otherwise, persistence, scheduler
// flags, weights and thresholds. Nothing is invented: there are no checkers, because the input had none.
import type { DestinationSpec, ServiceSpec } from '../ipvs/types.ts';
import type { ImportedService, ImportedTable } from './ipvsadm.ts';

const KIND = { droute: 'DR', masq: 'NAT', tunnel: 'TUN', local: 'DR', bypass: 'DR' } as const;

export function writeLvsConfig(table: ImportedTable, source: string): string {
  const out = [
    `# keepalived.conf written by \`ipvs-ts import ipvsadm\` from ${source}.`,
    '# No health checks: ipvsadm has none and none were invented, so every real server stays in the table at its',
    '# weight, as it did with ipvsadm. Add a checker (TCP_CHECK, HTTP_GET, ...) to each real_server to have failed',
    '# servers taken out, and a vrrp_instance for the VIPs if two directors share them.',
    '',
  ];
  if (table.timeouts) {
    const t = table.timeouts;
    const parts = (['tcp', 'tcpfin', 'udp'] as const).filter((k) => t[k] > 0).map((k) => `${k} ${t[k]}`);
    if (parts.length) out.push('global_defs {', `    lvs_timeouts ${parts.join(' ')}`, '}', '');
  }
  for (const s of table.services) out.push(...virtualServer(s, source), '');
  if (table.services.length === 0) out.push('# (the input defines no virtual service)', '');
  return `${out.join('\n').trimEnd()}\n`;
}

function virtualServer(s: ImportedService, source: string): string[] {
  const svc = s.service;
  const id = svc.id;
  const head = id.kind === 'fwmark' ? `fwmark ${id.mark}` : `${id.address}${id.port ? ` ${id.port}` : ''}`;
  const first = s.destinations[0];
  const lines = [`# ${source}:${s.line}`, `virtual_server ${head} {`, `    lb_algo ${svc.scheduler}`, `    lb_kind ${first ? method(first) : 'DR'}`];
  if (id.kind === 'addr') lines.push(`    protocol ${id.protocol}`);
  // The kernel ignores a fwmark service's protocol, but keepalived allows `ops` only with UDP.
  else if (svc.flags.onePacket) lines.push('    protocol UDP');
  if (id.kind === 'fwmark' && id.family === 6) lines.push('    ip_family inet6');
  if (svc.flags.persistent) {
    lines.push(`    persistence_timeout ${svc.timeoutS}`);
    if (svc.netmask !== (id.family === 4 ? '255.255.255.255' : '128')) lines.push(`    persistence_granularity ${svc.netmask}`);
  }
  if (svc.pe) lines.push(`    persistence_engine ${svc.pe}`);
  if (svc.flags.onePacket) lines.push('    ops');
  lines.push(...schedulerFlags(svc).map((f) => `    ${f}`));
  for (const d of s.destinations) lines.push('', ...realServer(d, first && method(d) !== method(first)));
  lines.push('}');
  return lines;
}

function schedulerFlags(svc: ServiceSpec): string[] {
  const [one, two] = svc.scheduler === 'sh' || svc.scheduler === 'mh' ? [`${svc.scheduler}-fallback`, `${svc.scheduler}-port`] : ['flag-1', 'flag-2'];
  return [svc.flags.shFallback && one, svc.flags.shPort && two, svc.flags.schedFlag3 && 'flag-3'].filter((f): f is string => typeof f === 'string');
}

/** `DR`, `NAT`, `TUN type gue port 6080 csum`: a lb_kind / lvs_method value. */
function method(d: DestinationSpec): string {
  if (d.forward !== 'tunnel') return KIND[d.forward];
  const t = d.tunnel ?? { type: 'ipip' };
  // The type is always written: a real server's `lvs_method TUN` without it would take the virtual server's.
  return ['TUN', 'type', t.type, ...(t.port !== undefined ? ['port', String(t.port)] : []), ...(t.csum === 'checksum' ? ['csum'] : t.csum === 'remote' ? ['remcsum'] : [])].join(' ');
}

function realServer(d: DestinationSpec, ownMethod: boolean | undefined): string[] {
  const lines = [`    real_server ${d.address} ${d.port} {`, `        weight ${d.weight}`];
  if (ownMethod) lines.push(`        lvs_method ${method(d)}`);
  if (d.upperThreshold) lines.push(`        uthreshold ${d.upperThreshold}`);
  if (d.lowerThreshold) lines.push(`        lthreshold ${d.lowerThreshold}`);
  lines.push('    }');
  return lines;
}

