// One-line descriptions of plan steps, for the plan printout and for error messages.
import { destKey, serviceKey } from './identity.ts';
import type { DestinationSpec, IpvsOp, ServiceSpec } from './types.ts';

export function describeOp(op: IpvsOp): string {
  switch (op.op) {
    case 'add-service':
      return `add service ${serviceKey(op.service.id)} ${serviceSettings(op.service)}`;
    case 'edit-service':
      return `edit service ${serviceKey(op.service.id)} ${serviceSettings(op.service)}`;
    case 'del-service':
      return `delete service ${serviceKey(op.id)}`;
    case 'add-dest':
      return `add real server ${destKey(op.dest)} to ${serviceKey(op.service)} ${destSettings(op.dest)}`;
    case 'edit-dest':
      return `edit real server ${destKey(op.dest)} of ${serviceKey(op.service)} ${destSettings(op.dest)}`;
    case 'del-dest':
      return `delete real server ${destKey(op.dest)} from ${serviceKey(op.service)}`;
  }
}

function serviceSettings(s: ServiceSpec): string {
  const parts = [`scheduler ${s.scheduler}`];
  if (s.flags.persistent) parts.push(`persistent ${s.timeoutS} mask ${s.netmask}`);
  if (s.pe) parts.push(`pe ${s.pe}`);
  const flags = [s.flags.onePacket && 'ops', s.flags.shFallback && 'flag-1', s.flags.shPort && 'flag-2', s.flags.schedFlag3 && 'flag-3'].filter(Boolean);
  if (flags.length) parts.push(`flags ${flags.join(',')}`);
  return `(${parts.join(', ')})`;
}

function destSettings(d: DestinationSpec): string {
  const parts = [d.forward, `weight ${d.weight}`];
  if (d.upperThreshold || d.lowerThreshold) parts.push(`thresholds ${d.upperThreshold}/${d.lowerThreshold}`);
  if (d.forward === 'tunnel' && d.tunnel && d.tunnel.type !== 'ipip') parts.push(`${d.tunnel.type}${d.tunnel.port ? ` port ${d.tunnel.port}` : ''}`);
  return `(${parts.join(', ')})`;
}
