// The control socket's protocol: one JSON request line in, one JSON reply line out, then the daemon closes.
//   → {"cmd":"status"}   ← {"ok":true,"status":{…DirectorStatus…}}
//   → {"cmd":"status","virtualServer":"10.0.0.1:80","summary":true}   (both optional: only the virtual servers whose
//     name or any service's address matches; without their real servers' and destinations' rows, counted instead)
//   → {"cmd":"reload"}   ← {"ok":true,"reload":{"applied":true,"problems":[]}}   (applied false: config kept)
//   ← {"ok":false,"error":{"code":"…","message":"…"}}
import type { DirectorStatus, VirtualServerStatus } from '../director/status.ts';
import { hostPort } from '../sys/inet.ts';

export const DEFAULT_CONTROL_SOCKET = '/run/ipvs-ts/control.sock';

export interface StatusRequest {
  readonly cmd: 'status';
  /** A virtual server's name (`TCP 10.0.0.1:80`, `fwmark 7`, `group NAME`) or a VIP[:port] one of its services has. */
  readonly virtualServer?: string;
  /** Per virtual server, counts instead of one row per real server and destination (100,000 rows are ~45 MB). */
  readonly summary?: boolean;
}

export type ControlRequest = StatusRequest | { readonly cmd: 'reload' };

export interface ReloadOutcome {
  readonly applied: boolean;
  /** Config problems as `file:line:col: severity: message`; with applied false, why the reload was refused. */
  readonly problems: readonly string[];
}

export type ControlReply =
  | { readonly ok: true; readonly status: DirectorStatus }
  | { readonly ok: true; readonly reload: ReloadOutcome }
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string } };

export function parseRequest(line: string): ControlRequest | undefined {
  try {
    const r = JSON.parse(line) as { cmd?: unknown; virtualServer?: unknown; summary?: unknown };
    if (r.cmd === 'reload') return { cmd: r.cmd };
    if (r.cmd !== 'status') return undefined;
    if (r.virtualServer !== undefined && typeof r.virtualServer !== 'string') return undefined;
    return { cmd: r.cmd, ...(r.virtualServer !== undefined && { virtualServer: r.virtualServer }), ...(r.summary === true && { summary: true }) };
  } catch {
    return undefined;
  }
}

/** What a status request asked for: the matching virtual servers, in full or summarised. */
export function selectStatus(s: DirectorStatus, req: StatusRequest): DirectorStatus {
  if (req.virtualServer === undefined && !req.summary) return s;
  const want = req.virtualServer;
  const vss = want === undefined ? s.virtualServers : s.virtualServers.filter((vs) => vs.name === want || vs.name.endsWith(` ${want}`) || vs.services.some((svc) => svc.key.endsWith(` ${want}`) || svc.address === want || hostPort(svc.address, svc.port) === want));
  return { ...s, virtualServers: req.summary ? vss.map(summarised) : vss };
}

function summarised(vs: VirtualServerStatus): VirtualServerStatus {
  if (vs.summary) return vs;
  let up = 0;
  let down = 0;
  let inTable = 0;
  for (const rs of vs.realServers) {
    if (rs.up === true) up++;
    else if (rs.up === false) down++;
    if (rs.inTable) inTable++;
  }
  return {
    ...vs,
    realServers: [],
    services: vs.services.map((svc) => ({ ...svc, destinations: [] })),
    summary: { realServers: vs.realServers.length, up, down, pending: vs.realServers.length - up - down, inTable, destinations: vs.services[0]?.destinations.length ?? 0 },
  };
}
