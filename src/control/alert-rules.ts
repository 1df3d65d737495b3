// Which director events become alert mails, by keepalived's rules: a VRRP instance or sync group mails each state it
// enters (vrrp_notify.c), a real server each change of health from what keepalived assumes at start (check_*.c), a
// virtual server each gain or loss of quorum (ipwrapper.c); each only where its smtp_alert, resolved as keepalived
// resolves it, is on.
import { hostname } from 'node:os';
import { endpointLabel, virtualServerLabel } from '../check/labels.ts';
import type { Config, GlobalDefs, VirtualServer } from '../config/model.ts';
import { smtpAlertOf } from '../config/smtp-alert.ts';
import type { DirectorEvent } from '../director/events.ts';
import { quorumText, realServerText, vrrpGroupText, vrrpInstanceText, type AlertText, type MailedVrrpState } from './alert-text.ts';

export interface Alert extends AlertText {
  /** One per instance, sync group, virtual server and real server: what the rate limiter coalesces on. */
  readonly key: string;
  /** The state it reports. */
  readonly state: string;
}

const MAILED: ReadonlySet<string> = new Set<MailedVrrpState>(['MASTER', 'BACKUP', 'FAULT', 'STOP']);

function mailed(state: string): state is MailedVrrpState {
  return MAILED.has(state);
}

export class AlertRules {
  readonly #instances = new Map<string, string>();
  /** Sync group states as keepalived keeps them, which is not always "all members agree" (see #vrrp). */
  readonly #groups = new Map<string, string>();
  /** keepalived's last_email_state, per instance and group key. */
  readonly #mailed = new Map<string, string>();
  /** keepalived's notifies_sent: instances that have been notified about at least once. */
  readonly #notified = new Set<string>();
  /** Per real server, the health keepalived believes it has. */
  readonly #up = new Map<string, boolean>();
  readonly #quorum = new Map<string, boolean>();
  #byLabel: { readonly config: Config; readonly map: Map<string, VirtualServer> } | undefined;

  /** The mails one event calls for, usually none. */
  alertsFor(config: Config, e: DirectorEvent): Alert[] {
    if (e.type === 'vrrp') return this.#vrrp(config, e.instance, e.to);
    if (e.type === 'verdict') return this.#verdict(config, e.virtualServer, e.realServer, e.up);
    if (e.type === 'quorum') return this.#quorumChange(config, e.virtualServer, e.up, e.liveWeight);
    return [];
  }

  #vrrp(config: Config, instance: string, to: string): Alert[] {
    const g = config.globalDefs;
    const routerId = routerIdOf(g);
    const own = config.vrrpInstances.find((i) => i.name === instance);
    const group = config.vrrpSyncGroups.find((sg) => sg.members.includes(instance));
    this.#instances.set(instance, to);
    const out: Alert[] = [];
    // A member its sync group carries into the state the group is already in is not notified about, except the
    // first time (send_instance_notifies).
    const carried = group !== undefined && this.#notified.has(instance) && this.#groups.get(group.name) === to;
    this.#notified.add(instance);
    if (own && !carried) {
      const a = this.#vrrpAlert(g, `instance ${instance}`, smtpAlertOf(g, 'vrrp', own.smtpAlert), to, (s) => vrrpInstanceText(routerId, instance, s));
      if (a) out.push(a);
    }
    // The group enters MASTER with its first member (vrrp_sync_master, before the others follow, so they count as
    // carried), and BACKUP, FAULT or STOP once every member is there (the others are moved first).
    if (group && this.#groups.get(group.name) !== to && (to === 'MASTER' || group.members.every((m) => this.#instances.get(m) === to))) {
      this.#groups.set(group.name, to);
      const a = this.#vrrpAlert(g, `group ${group.name}`, smtpAlertOf(g, 'vrrp', group.smtpAlert), to, (s) => vrrpGroupText(routerId, group.name, s));
      if (a) out.push(a);
    }
    return out;
  }

  /** keepalived's vrrp_smtp_notifier: only a state other than the last one mailed, FAULT not with no_email_faults. */
  #vrrpAlert(g: GlobalDefs, key: string, enabled: boolean, to: string, text: (s: MailedVrrpState) => AlertText): Alert | undefined {
    if (!enabled || !mailed(to) || (to === 'FAULT' && g.noEmailFaults) || this.#mailed.get(key) === to) return undefined;
    this.#mailed.set(key, to);
    return { key, state: to, ...text(to) };
  }

  #verdict(config: Config, vsLabel: string, rsLabel: string, up: boolean): Alert[] {
    const vs = this.#virtualServer(config, vsLabel);
    const rs = vs?.realServers.find((r) => endpointLabel(r) === rsLabel);
    if (!vs || !rs) return [];
    const key = `real server ${rsLabel} of ${vsLabel}`;
    // keepalived starts a real server up, or down if a checker is alpha, and mails the changes from there.
    const before = this.#up.get(key) ?? !rs.checkers.some((c) => c.alpha);
    this.#up.set(key, up);
    const g = config.globalDefs;
    if (before === up || !smtpAlertOf(g, 'real_server', rs.smtpAlert)) return [];
    const text = realServerText(routerIdOf(g), config, vs, rs, up);
    return text ? [{ key, state: up ? 'UP' : 'DOWN', ...text }] : [];
  }

  #quorumChange(config: Config, vsLabel: string, up: boolean, liveWeight: number): Alert[] {
    const vs = this.#virtualServer(config, vsLabel);
    if (!vs) return [];
    // keepalived's quorum at start counts the real servers it starts up (set_quorum_states).
    const startWeight = vs.realServers.reduce((sum, rs) => (rs.checkers.some((c) => c.alpha) ? sum : sum + rs.weight), 0);
    const before = this.#quorum.get(vsLabel) ?? startWeight >= vs.quorum + vs.hysteresis;
    this.#quorum.set(vsLabel, up);
    const g = config.globalDefs;
    if (before === up || !smtpAlertOf(g, 'virtual_server', vs.smtpAlert)) return [];
    return [{ key: `virtual server ${vsLabel}`, state: up ? 'UP' : 'DOWN', ...quorumText(routerIdOf(g), config, vs, up, liveWeight) }];
  }

  #virtualServer(config: Config, label: string): VirtualServer | undefined {
    if (this.#byLabel?.config !== config) this.#byLabel = { config, map: new Map(config.virtualServers.map((vs) => [virtualServerLabel(vs), vs])) };
    return this.#byLabel.map.get(label);
  }
}

/** keepalived's router_id defaults to the host's name. */
function routerIdOf(g: GlobalDefs): string {
  return g.routerId ?? hostname();
}
