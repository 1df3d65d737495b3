// How virtual and real servers, and what a checker checks, are named in output: `IP:port` (IPv6 bracketed),
// `fwmark N`, `group NAME`.
import type { Checker, VirtualServer } from '../config/model.ts';
import { hostPort } from '../sys/inet.ts';

/** Labels of the model's (immutable) virtual servers: every verdict, status row and reload looks one up. */
const vsLabels = new WeakMap<VirtualServer, string>();

export function virtualServerLabel(vs: VirtualServer): string {
  let label = vsLabels.get(vs);
  if (label === undefined) vsLabels.set(vs, (label = labelOf(vs)));
  return label;
}

function labelOf(vs: VirtualServer): string {
  const k = vs.key;
  if (k.kind === 'addr') return `${vs.protocol} ${hostPort(k.address, k.port)}`;
  if (k.kind === 'fwmark') return `fwmark ${k.mark}`;
  return `group ${k.name}`;
}

export function endpointLabel(e: { readonly address: string; readonly port: number }): string {
  return hostPort(e.address, e.port);
}

/** `TYPE target`: the address a checker talks to (no port for PING_CHECK), or FILE_CHECK's track file. */
export function checkerLabel(c: Checker): string {
  if (c.type === 'FILE_CHECK') return `FILE_CHECK track_file ${c.trackFile.name}`;
  if (c.type === 'PING_CHECK') return `PING_CHECK ${c.connectIp}`;
  return `${c.type} ${endpointLabel({ address: c.connectIp, port: c.connectPort })}`;
}
