// Stable string keys for services and destinations: the planner, the ownership state and the CLI all match
// kernel objects to desired ones by these.
import { hostPort } from '../sys/inet.ts';
import type { DestinationId, ServiceId } from './types.ts';

export function serviceKey(id: ServiceId): string {
  return id.kind === 'fwmark' ? `FWM ${id.mark} IPv${id.family}` : `${id.protocol} ${hostPort(id.address, id.port)}`;
}

export function destKey(dest: DestinationId): string {
  return hostPort(dest.address, dest.port);
}
