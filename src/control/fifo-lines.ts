// What keepalived's notify FIFOs carry: the line for each notice (vrrp_notify.c notify_fifo, ipwrapper.c
// notify_fifo_vs/notify_fifo_rs), and which FIFO gets which lines — notify_fifo everything, vrrp_notify_fifo the
// VRRP lines, lvs_notify_fifo the checker lines, each FIFO written once however many keywords name it.
import type { Config, NotifyFifo, NotifyFifoScript, ScriptUser } from '../config/model.ts';
import { realServerName, virtualServerName } from './keepalived-names.ts';
import type { Notice } from './keepalived-notices.ts';

export type LineKind = 'vrrp' | 'lvs';

/** `INSTANCE "VI_1" MASTER 100`, `GROUP "G" BACKUP 0`, `VS [10.0.0.1]:tcp:80 UP`, `RS [10.1.0.1]:tcp:80 [10.0.0.1]:tcp:80 DOWN`; newline-terminated. */
export function noticeLine(config: Config, n: Notice): string {
  if (n.kind === 'instance') return `INSTANCE "${n.name}" ${n.state} ${n.priority}\n`;
  if (n.kind === 'group') return `GROUP "${n.name}" ${n.state} 0\n`;
  const state = n.up ? 'UP' : 'DOWN';
  const vs = virtualServerName(config, n.virtualServer);
  if (n.kind === 'virtual-server') return `VS ${vs} ${state}\n`;
  return `RS ${realServerName(config, n.virtualServer, n.realServer)} ${vs} ${state}\n`;
}

export function lineKind(n: Notice): LineKind {
  return n.kind === 'instance' || n.kind === 'group' ? 'vrrp' : 'lvs';
}

/** One FIFO to keep open: the lines it gets, who owns it if it is created, and the script that reads it. */
export interface FifoSink {
  readonly path: string;
  readonly kinds: ReadonlySet<LineKind>;
  readonly owner?: ScriptUser;
  readonly script?: NotifyFifoScript;
}

/**
 * The FIFOs a configuration asks for of a process that runs `parts`. As in keepalived, vrrp_notify_fifo is opened
 * only where VRRP runs (some vrrp_instance) and lvs_notify_fifo only where the checkers run (some virtual_server);
 * the FIFO's owner defaults to script_user and a script's user to script_user too (run time). The config has
 * already dropped a vrrp_ or lvs_ FIFO that is notify_fifo's own, and the lvs_ script of a FIFO the vrrp_ script reads.
 */
export function fifoSinks(config: Config, parts: readonly LineKind[] = ['vrrp', 'lvs']): FifoSink[] {
  const g = config.globalDefs;
  const wanted: { fifo: NotifyFifo; kinds: LineKind[] }[] = [];
  if (g.notifyFifo) wanted.push({ fifo: g.notifyFifo, kinds: [...parts] });
  if (g.vrrp.notifyFifo && config.vrrpInstances.length > 0 && parts.includes('vrrp')) wanted.push({ fifo: g.vrrp.notifyFifo, kinds: ['vrrp'] });
  if (g.lvs.notifyFifo && config.virtualServers.length > 0 && parts.includes('lvs')) wanted.push({ fifo: g.lvs.notifyFifo, kinds: ['lvs'] });
  const byPath = new Map<string, FifoSink>();
  for (const { fifo, kinds } of wanted) {
    const had = byPath.get(fifo.path);
    const owner = had?.owner ?? fifo.user ?? g.scriptUser;
    const script = had?.script ?? fifo.script;
    byPath.set(fifo.path, { path: fifo.path, kinds: new Set([...(had?.kinds ?? []), ...kinds]), ...(owner ? { owner } : {}), ...(script ? { script } : {}) });
  }
  return [...byPath.values()];
}
