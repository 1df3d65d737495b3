// Stable string keys for services and destinations: the planner, the ownership state and the CLI all match
// kernel objects to desired ones by these.
import type { DestinationId, ServiceId } from './types.ts';

export function serviceKey(id: ServiceId): string {
  return id.kind === 'fwmark' ? `FWM ${id.mark} IPv${id.family}` : `${id.protocol} ${hostPort(id.address, id.port)}`;
}

export function destKey(dest: DestinationId): string {
  return hostPort(dest.address, dest.port);
}

/** `ipvsadm -Ln` notation: `10.0.0.1:80`, `[2001:db8::1]:80`. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
