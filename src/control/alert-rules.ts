// Which director events become alert mails, by keepalived's rules: the notices keepalived gives (keepalived-notices.ts),
// each mailed only where its smtp_alert, resolved as keepalived resolves it, is on, and a VRRP instance or sync group
// only for a state other than the last one it mailed (vrrp_notify.c).
import { hostname } from 'node:os';
import type { Config, GlobalDefs } from '../config/model.ts';
import { smtpAlertOf } from '../config/smtp-alert.ts';
import type { DirectorEvent } from '../director/events.ts';
import { quorumText, realServerText, shutdownText, vrrpGroupText, vrrpInstanceText, type AlertText, type MailedVrrpState } from './alert-text.ts';
import { KeepalivedNotices, type Notice } from './keepalived-notices.ts';

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
  readonly #notices = new KeepalivedNotices();
  /** keepalived's last_email_state, per instance and group key. */
  readonly #mailed = new Map<string, string>();

  /** The mails one event calls for, usually none. */
  alertsFor(config: Config, e: DirectorEvent): Alert[] {
    return this.#notices.noticesFor(config, e).flatMap((n) => this.#alert(config, n) ?? []);
  }

  #alert(config: Config, n: Notice): Alert | undefined {
    const g = config.globalDefs;
    const routerId = routerIdOf(g);
    if (n.kind === 'instance') {
      const own = config.vrrpInstances.find((i) => i.name === n.name);
      return own && this.#vrrpAlert(g, `instance ${n.name}`, smtpAlertOf(g, 'vrrp', own.smtpAlert), n.state, (s) => vrrpInstanceText(routerId, n.name, s));
    }
    if (n.kind === 'group') {
      const group = config.vrrpSyncGroups.find((sg) => sg.name === n.name);
      return group && this.#vrrpAlert(g, `group ${n.name}`, smtpAlertOf(g, 'vrrp', group.smtpAlert), n.state, (s) => vrrpGroupText(routerId, n.name, s));
    }
    if (n.kind === 'real-server') {
      if (!smtpAlertOf(g, 'real_server', n.realServer.smtpAlert)) return undefined;
      const text = n.shutdown ? shutdownText(routerId, config, n.virtualServer, n.realServer) : realServerText(routerId, config, n.virtualServer, n.realServer, n.up);
      return text && { key: `real server ${n.rsLabel} of ${n.vsLabel}`, state: n.up ? 'UP' : 'DOWN', ...text };
    }
    if (!smtpAlertOf(g, 'virtual_server', n.virtualServer.smtpAlert)) return undefined;
    const text = n.shutdown ? shutdownText(routerId, config, n.virtualServer) : quorumText(routerId, config, n.virtualServer, n.up, n.liveWeight);
    return { key: `virtual server ${n.vsLabel}`, state: n.up ? 'UP' : 'DOWN', ...text };
  }

  /** keepalived's vrrp_smtp_notifier: only a state other than the last one mailed, FAULT not with no_email_faults. */
  #vrrpAlert(g: GlobalDefs, key: string, enabled: boolean, to: string, text: (s: MailedVrrpState) => AlertText): Alert | undefined {
    if (!enabled || !mailed(to) || (to === 'FAULT' && g.noEmailFaults) || this.#mailed.get(key) === to) return undefined;
    this.#mailed.set(key, to);
    return { key, state: to, ...text(to) };
  }
}

/** keepalived's router_id defaults to the host's name. */
function routerIdOf(g: GlobalDefs): string {
  return g.routerId ?? hostname();
}
