// Sync groups and notify scripts: what other members and the operator's scripts are told when an instance moves.
import type { MachineEvent, VrrpStateName } from './machine.ts';

/**
 * The event every other member of a sync group receives when one member enters `to`: members become master
 * together, fall back together, and a FAULT in one faults them all (keepalived's vrrp_sync_group).
 */
export function syncForce(to: VrrpStateName): MachineEvent | undefined {
  if (to === 'MASTER' || to === 'BACKUP' || to === 'FAULT') return { kind: 'force', state: to };
  return undefined;
}

export interface NotifyConfig {
  readonly master?: string;
  readonly backup?: string;
  readonly fault?: string;
  readonly stop?: string;
  readonly any?: string;
}

/**
 * The command lines to run for one transition: the state's own script as written, then `notify` with keepalived's
 * four arguments (GROUP|INSTANCE, name, state, priority), quoted for the no-shell splitter that runs them.
 */
export function notifyCommands(n: NotifyConfig, kind: 'INSTANCE' | 'GROUP', name: string, state: VrrpStateName, priority: number): string[] {
  const own = { MASTER: n.master, BACKUP: n.backup, FAULT: n.fault, STOP: n.stop, INIT: undefined }[state];
  const out: string[] = [];
  if (own !== undefined) out.push(own);
  if (n.any !== undefined) out.push([n.any, ...[kind, name, state, String(priority)].map(quote)].join(' '));
  return out;
}

function quote(arg: string): string {
  return `"${arg.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
