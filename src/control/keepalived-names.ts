// keepalived's names for virtual and real servers (check_data.c format_vs/format_rs), as its alert mails and notify
// FIFO lines print them.
import type { Config, RealServer, VirtualServer } from '../config/model.ts';

/** keepalived's FMT_VS: `[ADDRESS]:proto:PORT`, `FWM N`, or `[GROUP]:0` (a group service has no port of its own). */
export function virtualServerName(config: Config, vs: VirtualServer): string {
  const k = vs.key;
  if (k.kind === 'fwmark') return `FWM ${k.mark}`;
  if (k.kind === 'group') return `[${k.name}]:0`;
  return `[${k.address}]:${protocolName(config, vs)}:${k.port}`;
}

/** keepalived's FMT_RS: the real server with its virtual server's protocol. */
export function realServerName(config: Config, vs: VirtualServer, rs: RealServer): string {
  return `[${rs.address}]:${protocolName(config, vs)}:${rs.port}`;
}

/** keepalived clears the protocol of a firewall-mark service (and of a group of marks only): it prints "none". */
function protocolName(config: Config, vs: VirtualServer): string {
  const k = vs.key;
  const members = k.kind === 'group' ? (config.virtualServerGroups.find((g) => g.name === k.name)?.members ?? []) : [];
  const marksOnly = k.kind === 'fwmark' || (members.length > 0 && members.every((m) => m.kind === 'fwmark'));
  return marksOnly ? 'none' : vs.protocol.toLowerCase();
}
