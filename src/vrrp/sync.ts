// Sync groups and notify scripts: what other members and the operator's scripts are told when an instance moves.
import type { NotifyScripts, ScriptUser } from '../config/model.ts';
import { quoteArgument } from '../check/command-line.ts';
import type { MachineEvent, VrrpStateName } from './machine.ts';

/**
 * The event every other member of a sync group receives when one member enters `to`: members become master
 * together, fall back together, and a FAULT in one faults them all (keepalived's vrrp_sync_group).
 */
export function syncForce(to: VrrpStateName): MachineEvent | undefined {
  if (to === 'MASTER' || to === 'BACKUP' || to === 'FAULT') return { kind: 'force', state: to };
  return undefined;
}

export interface NotifyRun {
  readonly command: string;
  /** The script's own `USERNAME [GROUPNAME]`; absent = script_user. */
  readonly user?: ScriptUser;
}

/**
 * The command lines to run for one transition: the state's own script as written, then `notify` with keepalived's
 * four arguments (GROUP|INSTANCE, name, state, priority), quoted for the no-shell splitter that runs them.
 */
export function notifyCommands(n: NotifyScripts, kind: 'INSTANCE' | 'GROUP', name: string, state: VrrpStateName, priority: number): NotifyRun[] {
  const event = ({ MASTER: 'master', BACKUP: 'backup', FAULT: 'fault', STOP: 'stop', INIT: undefined } as const)[state];
  const run = (command: string, user: ScriptUser | undefined): NotifyRun => (user ? { command, user } : { command });
  const out: NotifyRun[] = [];
  const own = event && n[event];
  if (event && own !== undefined) out.push(run(own, n.users?.[event]));
  if (n.any !== undefined) out.push(run([n.any, ...[kind, name, state, String(priority)].map(quoteArgument)].join(' '), n.users?.any));
  return out;
}
