// The control socket's protocol: one JSON request line in, one JSON reply line out, then the daemon closes.
//   → {"cmd":"status"}   ← {"ok":true,"status":{…DirectorStatus…}}
//   → {"cmd":"reload"}   ← {"ok":true,"reload":{"applied":true,"problems":[]}}   (applied false: config kept)
//   ← {"ok":false,"error":{"code":"…","message":"…"}}
import type { DirectorStatus } from '../director/status.ts';

export const DEFAULT_CONTROL_SOCKET = '/run/ipvs-ts/control.sock';

export type ControlRequest = { readonly cmd: 'status' } | { readonly cmd: 'reload' };

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
    const r = JSON.parse(line) as { cmd?: unknown };
    return r.cmd === 'status' || r.cmd === 'reload' ? { cmd: r.cmd } : undefined;
  } catch {
    return undefined;
  }
}
