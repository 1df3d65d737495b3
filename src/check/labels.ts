// How virtual and real servers are named in output: `IP:port` (IPv6 bracketed), `fwmark N`, `group NAME`.
import type { VirtualServer } from '../config/model.ts';
import { hostPort } from '../sys/inet.ts';

export function virtualServerLabel(vs: VirtualServer): string {
  const k = vs.key;
  if (k.kind === 'addr') return `${vs.protocol} ${hostPort(k.address, k.port)}`;
  if (k.kind === 'fwmark') return `fwmark ${k.mark}`;
  return `group ${k.name}`;
}

export function endpointLabel(e: { readonly address: string; readonly port: number }): string {
  return hostPort(e.address, e.port);
}
