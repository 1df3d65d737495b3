// What keepalived announces — on its notify FIFOs and in its alert mails — for the director's events, in its order:
// a VRRP instance each state it enters unless its sync group carried it there (vrrp_notify.c send_instance_notifies),
// a sync group each state it enters (vrrp_sync.c), a real server each change of health from what keepalived assumes
// at start, a virtual server each gain or loss of quorum (check/ipwrapper.c). Alert mails (alert-rules.ts) and the
// FIFO lines (notify-fifo.ts) are two renderings of these notices.
import { endpointLabel, virtualServerLabel } from '../check/labels.ts';
import type { Config, RealServer, VirtualServer } from '../config/model.ts';
import type { DirectorEvent } from '../director/events.ts';

/** Instance and group states as keepalived names them; MASTER_RX_LOWER_PRI is an event, not a state. */
export type NoticeState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP' | 'MASTER_RX_LOWER_PRI';

export type Notice =
  | { readonly kind: 'instance'; readonly name: string; readonly state: NoticeState; readonly priority: number }
  | { readonly kind: 'group'; readonly name: string; readonly state: NoticeState }
  | { readonly kind: 'real-server'; readonly virtualServer: VirtualServer; readonly realServer: RealServer; readonly vsLabel: string; readonly rsLabel: string; readonly up: boolean; readonly shutdown?: true }
  | { readonly kind: 'virtual-server'; readonly virtualServer: VirtualServer; readonly vsLabel: string; readonly up: boolean; readonly liveWeight: number; readonly shutdown?: true };

const STATES: ReadonlySet<string> = new Set<NoticeState>(['MASTER', 'BACKUP', 'FAULT', 'STOP']);

export class KeepalivedNotices {
  readonly #instances = new Map<string, string>();
  /** Sync group states as keepalived keeps them, which is not always "all members agree" (see #vrrp). */
  readonly #groups = new Map<string, string>();
  /** keepalived's notifies_sent: instances that have been notified about at least once. */
  readonly #notified = new Set<string>();
  /** Per real server, the health keepalived believes it has. */
  readonly #up = new Map<string, boolean>();
  readonly #quorum = new Map<string, boolean>();
  #stopping = false;
  #byLabel: { readonly config: Config; readonly map: Map<string, VirtualServer> } | undefined;

  /** The notices one event calls for, usually none. */
  noticesFor(config: Config, e: DirectorEvent): Notice[] {
    if (e.type === 'stopping') return this.#omega(config);
    if (e.type === 'vrrp') return this.#vrrp(config, e.instance, e.from, e.to, e.priority);
    if (e.type === 'vrrp-rx-lower-pri') return [{ kind: 'instance', name: e.instance, state: 'MASTER_RX_LOWER_PRI', priority: e.priority }];
    if (e.type === 'verdict') return this.#verdict(config, e.virtualServer, e.realServer, e.up);
    if (e.type === 'quorum') return this.#quorumChange(config, e.virtualServer, e.up, e.liveWeight);
    return [];
  }

  #vrrp(config: Config, instance: string, from: string, entered: string, priority: number): Notice[] {
    // An instance a reload removes is reported as entering FAULT, and not at all from FAULT (clear_diff_vrrp without
    // notify_deleted); only the daemon's own stop reports STOP.
    const to = entered === 'STOP' && !this.#stopping ? 'FAULT' : entered;
    const before = this.#instances.get(instance) ?? from;
    this.#instances.set(instance, to);
    if (!STATES.has(to) || (to === 'FAULT' && entered === 'STOP' && before === 'FAULT')) return [];
    const state = to as NoticeState;
    const group = config.vrrpSyncGroups.find((sg) => sg.members.includes(instance));
    const out: Notice[] = [];
    const groupNotice = (): void => {
      this.#groups.set(group!.name, state);
      out.push({ kind: 'group', name: group!.name, state });
    };
    // At start the group is BACKUP before its members enter it, and is notified first (vrrp_init_state).
    const starting = group !== undefined && !this.#groups.has(group.name) && from === 'INIT' && state === 'BACKUP';
    if (starting && group.members.every((m) => m === instance || (this.#instances.get(m) ?? 'INIT') === 'INIT')) groupNotice();
    // A member its sync group carries into the state the group is already in is not notified about, except the
    // first time (send_instance_notifies).
    const carried = group !== undefined && this.#notified.has(instance) && this.#groups.get(group.name) === state;
    this.#notified.add(instance);
    if (!carried) out.push({ kind: 'instance', name: instance, state, priority });
    // The group enters MASTER with its first member (vrrp_sync_master, before the others follow, so they count as
    // carried), and BACKUP, FAULT or STOP once every member is there (the others are moved first).
    if (group && this.#groups.get(group.name) !== state && (state === 'MASTER' || group.members.every((m) => this.#instances.get(m) === state))) groupNotice();
    return out;
  }

  /**
   * The daemon stops: a virtual server with omega reports each real server it still has up as DOWN, then itself as
   * DOWN (clear_services); the others say nothing. With lvs_flush_onstop keepalived removes no real server one by
   * one, so only the virtual servers report.
   */
  #omega(config: Config): Notice[] {
    this.#stopping = true;
    const oneByOne = !config.globalDefs.lvs.flushOnStop;
    return config.virtualServers.flatMap((vs): Notice[] => {
      if (!vs.omega) return [];
      const vsLabel = virtualServerLabel(vs);
      const live = oneByOne ? vs.realServers.filter((rs) => this.#up.get(`${endpointLabel(rs)} of ${vsLabel}`) ?? !rs.checkers.some((c) => c.alpha)) : [];
      return [
        ...live.map((rs) => ({ kind: 'real-server' as const, virtualServer: vs, realServer: rs, vsLabel, rsLabel: endpointLabel(rs), up: false, shutdown: true as const })),
        { kind: 'virtual-server', virtualServer: vs, vsLabel, up: false, liveWeight: 0, shutdown: true },
      ];
    });
  }

  #verdict(config: Config, vsLabel: string, rsLabel: string, up: boolean): Notice[] {
    const vs = this.#virtualServer(config, vsLabel);
    const rs = vs?.realServers.find((r) => endpointLabel(r) === rsLabel);
    if (!vs || !rs) return [];
    const key = `${rsLabel} of ${vsLabel}`;
    // keepalived starts a real server up, or down if a checker is alpha, and notifies the changes from there.
    const before = this.#up.get(key) ?? !rs.checkers.some((c) => c.alpha);
    this.#up.set(key, up);
    return before === up ? [] : [{ kind: 'real-server', virtualServer: vs, realServer: rs, vsLabel, rsLabel, up }];
  }

  #quorumChange(config: Config, vsLabel: string, up: boolean, liveWeight: number): Notice[] {
    const vs = this.#virtualServer(config, vsLabel);
    if (!vs) return [];
    // keepalived's quorum at start counts the real servers it starts up (set_quorum_states).
    const startWeight = vs.realServers.reduce((sum, rs) => (rs.checkers.some((c) => c.alpha) ? sum : sum + rs.weight), 0);
    const before = this.#quorum.get(vsLabel) ?? startWeight >= vs.quorum + vs.hysteresis;
    this.#quorum.set(vsLabel, up);
    return before === up ? [] : [{ kind: 'virtual-server', virtualServer: vs, vsLabel, up, liveWeight }];
  }

  #virtualServer(config: Config, label: string): VirtualServer | undefined {
    if (this.#byLabel?.config !== config) this.#byLabel = { config, map: new Map(config.virtualServers.map((vs) => [virtualServerLabel(vs), vs])) };
    return this.#byLabel.map.get(label);
  }
}
