// The IPVS connection-sync daemon follows one VRRP instance, as keepalived's lvs_sync_daemon does: the director
// whose instance is MASTER sends connection state (master daemon), every other one receives it (backup daemon), so
// a takeover keeps established connections.
import type { Config } from '../config/model.ts';
import type { SyncDaemon } from '../ipvs/codec.ts';
import type { VrrpStateName } from '../vrrp/machine.ts';

export interface SyncFollow {
  /** The VRRP instance whose state decides. */
  readonly instance: string;
  readonly daemon: (state: SyncDaemon['state']) => SyncDaemon;
}

/** From `global_defs { lvs_sync_daemon IFACE INSTANCE … }`, or the older `lvs_sync_daemon_interface` in an instance. */
export function syncFollow(config: Config): SyncFollow | undefined {
  const g = config.globalDefs.lvs.syncDaemon;
  if (g) {
    const instance = g.instance ?? config.vrrpInstances[0]?.name;
    if (instance === undefined) return undefined;
    return {
      instance,
      daemon: (state) => ({
        state,
        interface: g.interface,
        syncId: g.syncId ?? 0,
        ...(g.maxlen !== undefined ? { maxlen: g.maxlen } : {}),
        ...(g.group !== undefined ? { group: g.group } : {}),
        ...(g.port !== undefined ? { port: g.port } : {}),
        ...(g.ttl !== undefined ? { ttl: g.ttl } : {}),
      }),
    };
  }
  const inst = config.vrrpInstances.find((i) => i.lvsSyncDaemonInterface !== undefined);
  if (!inst?.lvsSyncDaemonInterface) return undefined;
  const ifname = inst.lvsSyncDaemonInterface;
  return { instance: inst.name, daemon: (state) => ({ state, interface: ifname, syncId: inst.vrid }) };
}

/** Which daemon runs for a VRRP state. */
export function syncRole(state: VrrpStateName): SyncDaemon['state'] {
  return state === 'MASTER' ? 'master' : 'backup';
}
