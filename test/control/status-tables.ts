// A status snapshot walked as the director's tables (src/director/status.ts TableVisitor): the rows the old
// /metrics render read, in the order it read them. Lets tests feed /metrics a hand-made status, and compare the
// director's own walk with its status rows.
import type { DaemonStatus, DaemonTables } from '../../src/control/metrics.ts';

export function tablesOfStatus(s: DaemonStatus): DaemonTables {
  return {
    vrrp: s.vrrp,
    countersAgeMs: s.countersAgeMs,
    ...(s.bgp ? { bgp: s.bgp } : {}),
    walk: (visit) => {
      for (const vs of s.virtualServers) {
        visit.virtualServer(vs.name, vs.quorum.up, vs.suspended);
        for (const svc of vs.services) {
          visit.service(svc, svc.inKernel, svc.stats);
          for (const d of svc.destinations) visit.destination(d, d.activeConns, d.inactiveConns, d.stats);
        }
        for (const rs of vs.realServers) visit.realServer({ address: rs.address, port: rs.port, weight: rs.configuredWeight }, rs.up);
      }
    },
  };
}
