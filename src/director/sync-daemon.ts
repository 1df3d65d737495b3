// The IPVS connection-sync daemon, as keepalived runs it from lvs_sync_daemon: when it follows a VRRP instance, the
// director whose instance is MASTER sends connection state (master daemon) and every other one receives it (backup
// daemon), so a takeover keeps established connections; when it follows none, both daemons run from start to stop.
import type { Config } from '../config/model.ts';
import type { SyncDaemon } from '../ipvs/codec.ts';
import type { VrrpStateName } from '../vrrp/machine.ts';

export interface SyncFollow {
  /** The VRRP instance whose state decides; absent: both roles run for the director's whole life. */
  readonly instance?: string;
  readonly daemon: (state: SyncDaemon['state']) => SyncDaemon;
}

/** From the model's lvs_sync_daemon (which also holds an instance's older `lvs_sync_daemon_interface`). */
export function syncFollow(config: Config): SyncFollow | undefined {
  const g = config.globalDefs.lvs.syncDaemon;
  if (!g) return undefined;
  return {
    ...(g.instance !== undefined ? { instance: g.instance } : {}),
    daemon: (state) => ({
      state,
      interface: g.interface,
      syncId: g.syncId,
      ...(g.maxlen !== undefined ? { maxlen: g.maxlen } : {}),
      ...(g.group !== undefined ? { group: g.group } : {}),
      ...(g.port !== undefined ? { port: g.port } : {}),
      ...(g.ttl !== undefined ? { ttl: g.ttl } : {}),
    }),
  };
}

/** The roles to run: both when no instance is followed, else the one for the followed instance's state. */
export function syncRoles(follow: SyncFollow, state: VrrpStateName): SyncDaemon['state'][] {
  if (follow.instance === undefined) return ['master', 'backup'];
  return [state === 'MASTER' ? 'master' : 'backup'];
}
