// `ipvs_sysctl { KEY VALUE … }`, the ipvs-ts extension block for the kernel's IPVS settings (net.ipv4.vs.KEY in the
// daemon's network namespace; docs/ipvs.md). The keys are the kernel's own names, so `sysctl net.ipv4.vs.KEY` and
// the kernel's ipvs-sysctl documentation apply unchanged. Only settings an LVS operator has a reason to tune are
// accepted; each value is checked here against the domain the kernel accepts, so check-config catches what the
// kernel would refuse at start. keepalived itself reports every line of the block as an unknown keyword.
import { posOf, type Token } from './lexer.ts';
import { walk, type Handler } from './blocks.ts';
import type { IpvsSysctl, IpvsSysctls } from './model.ts';
import type { Stmt } from './tree.ts';
import type { ArgReader } from './values.ts';

type Domain =
  | { readonly kind: 'bool' }
  | { readonly kind: 'int'; readonly min: number; readonly max: number }
  /** A power of two (sync_ports). */
  | { readonly kind: 'pow2'; readonly max: number }
  /** sync_threshold: THRESHOLD PERIOD, threshold below period unless the period is 0. */
  | { readonly kind: 'threshold' };

const BOOL = { kind: 'bool' } as const;
const INT_MAX = 2_147_483_647;

/** The accepted keys and their domains, grouped by why an operator sets them (docs/ipvs.md says more). */
export const IPVS_SYSCTL_KEYS: Readonly<Record<string, Domain>> = {
  // A connection the director has no entry for (a takeover, a director joining an ECMP group): schedule mid-flow
  // packets instead of dropping them to the local stack, which resets the connection.
  sloppy_tcp: BOOL,
  sloppy_sctp: BOOL,
  // Failed and drained real servers: drop (and expire) connections to a removed destination, and persistence
  // templates to a quiescent (weight 0) one, so clients reconnect to a live server.
  expire_nodest_conn: BOOL,
  expire_quiescent_template: BOOL,
  // A reused client port while the old entry is in TIME_WAIT: bit 1 reschedules, bit 2 also on a sync backup.
  conn_reuse_mode: { kind: 'int', min: 0, max: 3 },
  // netfilter state for IPVS connections (NAT with iptables/nftables rules on the director).
  conntrack: BOOL,
  snat_reroute: BOOL,
  // The connection sync daemon (lvs_sync_daemon): what is sent and how often.
  sync_threshold: { kind: 'threshold' },
  sync_refresh_period: { kind: 'int', min: 0, max: INT_MAX / 1000 },
  sync_retries: { kind: 'int', min: 0, max: 3 },
  sync_persist_mode: BOOL,
  sync_version: BOOL,
  sync_ports: { kind: 'pow2', max: 128 },
  sync_qlen_max: { kind: 'int', min: 1, max: INT_MAX },
  sync_sock_size: { kind: 'int', min: 0, max: INT_MAX },
  // A backup that also serves (ECMP, or a sync backup taking traffic): process packets in backup state.
  backup_only: BOOL,
  // ICMP errors and tunnels.
  schedule_icmp: BOOL,
  ignore_tunneled: BOOL,
  pmtu_disc: BOOL,
  nat_icmp_send: BOOL,
  // Defence under memory pressure (a SYN flood): drop entries or packets, shorten timeouts.
  amemthresh: { kind: 'int', min: 0, max: INT_MAX },
  am_droprate: { kind: 'int', min: 0, max: INT_MAX },
  drop_entry: { kind: 'int', min: 0, max: 3 },
  drop_packet: { kind: 'int', min: 0, max: 3 },
  secure_tcp: { kind: 'int', min: 0, max: 3 },
  // Rate estimation for the counters (`ipvsadm --rate`, /metrics rates); 0 saves CPU with very many services.
  run_estimation: BOOL,
  cache_bypass: BOOL,
};

export function readIpvsSysctl(s: Stmt, r: ArgReader): IpvsSysctls {
  r.arity(s, 0, 0, 'ipvs_sysctl { sloppy_tcp 1  expire_nodest_conn 1 … }');
  const values: IpvsSysctl[] = [];
  const keywords: Record<string, Handler<undefined>> = {};
  for (const [key, domain] of Object.entries(IPVS_SYSCTL_KEYS)) {
    keywords[key] = (t) => {
      const value = readValue(t, key, domain, r);
      if (value === undefined) return;
      const prev = values.find((v) => v.key === key);
      if (prev) r.problems.error('duplicate', `ipvs_sysctl: ${key} is set twice (first at line ${prev.pos.line})`, posOf(t.key));
      else values.push({ key, value, pos: posOf(t.key) });
    };
  }
  walk(r.needBlock(s), { name: 'ipvs_sysctl', keywords }, undefined, r, s);
  return { values, pos: posOf(s.key) };
}

/** The value as the kernel prints it (sync_threshold's two numbers joined by one space), or undefined. */
function readValue(t: Stmt, key: string, d: Domain, r: ArgReader): string | undefined {
  r.noBlock(t);
  const n = d.kind === 'threshold' ? 2 : 1;
  const usage = d.kind === 'threshold' ? `${key} THRESHOLD PERIOD` : d.kind === 'bool' ? `${key} 0|1` : `${key} N`;
  if (!r.arity(t, n, n, usage)) return undefined;
  const [a, b] = t.args as [Token, Token | undefined];
  const what = `ipvs_sysctl ${key}`;
  switch (d.kind) {
    case 'bool': {
      const v = r.integer(a, what, 0, 1);
      return v === undefined ? undefined : String(v);
    }
    case 'int': {
      const v = r.integer(a, what, d.min, d.max);
      return v === undefined ? undefined : String(v);
    }
    case 'pow2': {
      const v = r.integer(a, what, 1, d.max);
      if (v === undefined) return undefined;
      if ((v & (v - 1)) !== 0) {
        r.problems.error('bad-value', `${what}: ${v} is not a power of two (the kernel accepts 1, 2, 4 … ${d.max})`, posOf(a));
        return undefined;
      }
      return String(v);
    }
    case 'threshold': {
      const threshold = r.integer(a, what, 0, INT_MAX, ' threshold');
      const period = r.integer(b as Token, what, 0, INT_MAX, ' period');
      if (threshold === undefined || period === undefined) return undefined;
      if (period !== 0 && threshold >= period) {
        r.problems.error('bad-value', `${what}: the threshold (${threshold}) must be below the period (${period}), or the period 0 (sync once)`, posOf(a));
        return undefined;
      }
      return `${threshold} ${period}`;
    }
  }
}
