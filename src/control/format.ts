// `ipvs-ts status` for people: keepalived's VRRP state, then the virtual servers as `ipvsadm -Ln` shows them,
// with each real server's health, weights and last check.
import type { RealServerStatus } from '../director/status.ts';
import type { DaemonStatus } from './metrics.ts';
import { hostPort } from '../sys/inet.ts';

export function formatStatus(s: DaemonStatus, now = Date.now()): string {
  const out: string[] = [];
  out.push(`ipvs-ts daemon pid ${s.pid}, up ${age(now - s.startedAt)}${s.ipvsAvailable ? '' : ', IPVS table unreadable'}`);
  const c = s.counters;
  if (s.countersAgeMs !== null && s.countersAgeMs >= STALE_MS) out.push(`IPVS counters and connection counts read ${age(s.countersAgeMs)} ago`);
  out.push(`IPVS changes ${c.opsApplied ?? 0} applied / ${c.opsFailed ?? 0} failed in ${c.applies ?? 0} applies, drift repairs ${c.driftRepairs ?? 0}, netlink errors ${c.netlinkErrors ?? 0}`);
  if (s.vrrp.length) {
    out.push('', 'VRRP');
    const f = s.vrrpFailure;
    if (f) out.push(`  FAILED at ${clock(f.at)} (${age(now - f.at)} ago) [${f.code}]: ${f.message}`);
    for (const i of s.vrrp) {
      const prio = i.priority === i.configuredPriority ? `${i.priority}` : `${i.priority} (configured ${i.configuredPriority})`;
      out.push(`  ${i.name}  ${i.state}  priority ${prio}  ${i.interface}${i.vmac ? ` (vmac ${i.vmac})` : ''} vrid ${i.vrid}  master ${i.master ?? (i.state === 'MASTER' ? 'this host' : '-')}`);
      out.push(`    VIPs ${[...i.vips, ...i.excludedVips.map((v) => `${v} (excluded)`)].join(' ') || '-'}`);
      for (const r of i.virtualRoutes) out.push(`    ${r.what}  ${r.installed ? 'installed' : 'not installed'}`);
      const t = i.lastTransition;
      out.push(`    since ${clock(i.since)} (${age(now - i.since)})${t ? `: ${t.from} -> ${t.to}, ${t.why}` : ''}`);
      if (i.stats) out.push(`    adverts sent ${i.stats.advert_sent} received ${i.stats.advert_rcvd}, became master ${i.stats.become_master}, released ${i.stats.release_master}`);
    }
  }
  if (s.bgp) {
    const b = s.bgp;
    out.push('', `BGP (${b.daemon.name} ${b.daemon.running ? `pid ${b.daemon.pid ?? '?'}` : 'NOT RUNNING'}${b.daemon.restarts ? `, ${b.daemon.restarts} restart(s)` : ''})`);
    for (const n of b.sessions) out.push(`  neighbor ${n.neighbor}  ${n.state}${n.info ? ` (${n.info})` : ''}`);
    for (const v of b.vips) out.push(`  ${v.prefix}  ${v.announced ? 'announced' : 'withdrawn'}${v.healthy ? '' : ` (${v.reason})`}`);
  }
  out.push('', 'Virtual servers');
  if (s.virtualServers.length === 0) out.push('  (none configured)');
  for (const vs of s.virtualServers) {
    const q = vs.quorum;
    const quorum = `quorum ${q.configured}${q.hysteresis ? `±${q.hysteresis}` : ''} ${q.up ? 'up' : 'LOST'}${q.liveWeight !== null ? ` (live weight ${q.liveWeight})` : ''}`;
    const persist = vs.persistenceS ? `  persistent ${vs.persistenceS}s` : '';
    out.push(`  ${vs.name}  ${vs.scheduler} ${vs.forwarding}${persist}  ${quorum}${vs.suspended ? '  checks SUSPENDED (VIP not local)' : ''}`);
    for (const svc of vs.services) {
      const st = svc.stats;
      out.push(`    ${svc.key}: ${svc.inKernel ? `conns ${st.conns}  in ${st.inPkts} pkts/${st.inBytes} B  out ${st.outPkts} pkts/${st.outBytes} B` : 'not in the kernel'}`);
    }
    const sum = vs.summary;
    if (sum) {
      out.push(`    real servers ${sum.realServers}: ${sum.up} up, ${sum.down} down, ${sum.pending} pending; ${sum.inTable} in the table, ${sum.destinations} destinations in the kernel`);
      continue;
    }
    for (const rs of vs.realServers) out.push(realServerLine(rs, now));
    const named = new Set(vs.realServers.map((r) => hostPort(r.address, r.port)));
    for (const d of vs.services[0]?.destinations ?? []) {
      const key = hostPort(d.address, d.port);
      if (named.has(key)) continue;
      const what = key === vs.sorryServer ? 'sorry server' : 'not configured (draining)';
      out.push(`    -> ${key.padEnd(22)} ${what}  weight ${d.weight}  active ${d.activeConns} inactive ${d.inactiveConns}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** Counters older than this are said to be (they are read in the background, at most a tenth of the time). */
const STALE_MS = 30_000;

function realServerLine(rs: RealServerStatus, now: number): string {
  const state = rs.up === null ? 'PENDING' : rs.up ? 'UP' : 'DOWN';
  const weight = `weight ${rs.weight ?? '-'}/${rs.configuredWeight}`;
  const check = rs.latencyMs !== null ? `${rs.latencyMs.toFixed(1)} ms` : '';
  const since = rs.since !== null ? `since ${clock(rs.since)} (${age(now - rs.since)})` : '';
  const conns = `active ${rs.activeConns} inactive ${rs.inactiveConns}`;
  return `    -> ${hostPort(rs.address, rs.port).padEnd(22)} ${state.padEnd(7)} ${rs.forward.padEnd(4)} ${weight}${rs.inTable ? '' : ' (not in table)'}  ${conns}  ${check}  ${rs.reason}  ${since}`.trimEnd();
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}
