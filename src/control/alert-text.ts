// keepalived's alert mails, word for word (core/smtp.c for the subjects, vrrp/vrrp_notify.c, check/ipwrapper.c and
// check/check_*.c for the bodies), so the filters and habits built on keepalived's mails keep working.
import type { Config, RealServer, VirtualServer } from '../config/model.ts';
import type { VrrpStateName } from '../vrrp/machine.ts';
import { realServerName, virtualServerName } from './keepalived-names.ts';

export interface AlertText {
  readonly subject: string;
  readonly body: string;
}

/** keepalived's notifier mails these states only. */
export type MailedVrrpState = Extract<VrrpStateName, 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP'>;

const VRRP_SUBJECT: Readonly<Record<MailedVrrpState, string>> = {
  MASTER: 'Entering MASTER state',
  BACKUP: 'Entering BACKUP state',
  FAULT: 'Entering FAULT state',
  STOP: 'Stopping',
};

const INSTANCE_BODY: Readonly<Record<MailedVrrpState, string>> = {
  MASTER: '=> VRRP Instance is now owning VRRP VIPs <=',
  BACKUP: '=> VRRP Instance is no longer owning VRRP VIPs <=',
  FAULT: '=> VRRP Instance is no longer owning VRRP VIPs <=',
  STOP: '=> VRRP Instance stopping <=',
};

const GROUP_BODY: Readonly<Record<MailedVrrpState, string>> = {
  MASTER: '=> All VRRP group instances are now in MASTER state <=',
  BACKUP: '=> All VRRP group instances are now in BACKUP state <=',
  FAULT: '=> All VRRP group instances are now in FAULT state <=',
  STOP: '=> All VRRP group instances are now stopping <=',
};

/**
 * The body of a real server's mail by checker type; each checker names itself its own way. FILE_CHECK is null:
 * keepalived's check_file.c sends no mail.
 */
const CHECK_BODY: Readonly<Record<string, { readonly up: string; readonly down: string } | null>> = {
  TCP_CHECK: { up: '=> TCP CHECK succeed on service <=', down: '=> TCP CHECK failed on service <=' },
  HTTP_GET: { up: '=> CHECK succeed on service <=', down: '=> CHECK failed on service : HTTP/SSL request failed <=' },
  SSL_GET: { up: '=> CHECK succeed on service <=', down: '=> CHECK failed on service : HTTP/SSL request failed <=' },
  MISC_CHECK: { up: '=> MISC CHECK succeeded on service <=', down: '=> MISC CHECK failed on service <=' },
  PING_CHECK: { up: '=> ICMP CHECK succeed on service <=', down: '=> ICMP CHECK failed on service <=' },
  UDP_CHECK: { up: '=> UDP CHECK succeed on service <=', down: '=> UDP CHECK failed on service <=' },
  DNS_CHECK: { up: '=> DNS_CHECK: succeed on service <=', down: '=> DNS_CHECK: failed on service <=' },
  SMTP_CHECK: { up: '=> CHECK succeed on service <=', down: '=> CHECK failed on service <=' },
  FILE_CHECK: null,
};

/** SMTP_CHECK's words, which say nothing about the kind of check: used when a real server's checkers differ. */
const ANY_CHECK_BODY = { up: '=> CHECK succeed on service <=', down: '=> CHECK failed on service <=' };

export function vrrpInstanceText(routerId: string, instance: string, state: MailedVrrpState): AlertText {
  return { subject: `[${routerId}] VRRP Instance ${instance} - ${VRRP_SUBJECT[state]}`, body: INSTANCE_BODY[state] };
}

export function vrrpGroupText(routerId: string, group: string, state: MailedVrrpState): AlertText {
  return { subject: `[${routerId}] VRRP Group ${group} - ${VRRP_SUBJECT[state]}`, body: GROUP_BODY[state] };
}

/** Undefined when keepalived would send nothing (only FILE_CHECKs decide the server). */
export function realServerText(routerId: string, config: Config, vs: VirtualServer, rs: RealServer, up: boolean): AlertText | undefined {
  const types = new Set(rs.checkers.map((c) => c.type));
  const [only] = types;
  const words = types.size === 1 && only !== undefined ? CHECK_BODY[only] : ANY_CHECK_BODY;
  if (!words) return undefined;
  const subject = `[${routerId}] Realserver ${realServerName(config, vs, rs)} of virtual server ${virtualServerName(config, vs)} - ${up ? 'UP' : 'DOWN'}`;
  return { subject, body: up ? words.up : words.down };
}

/**
 * keepalived's quorum mail prints `QUORUM+HYSTERESIS=THRESHOLD <= LIVE` with the threshold that was crossed (quorum +
 * hysteresis to gain it, quorum − hysteresis to lose it), the "+" included either way.
 */
export function quorumText(routerId: string, config: Config, vs: VirtualServer, up: boolean, liveWeight: number): AlertText {
  const threshold = up ? vs.quorum + vs.hysteresis : vs.quorum - vs.hysteresis;
  return {
    subject: `[${routerId}] Virtualserver ${virtualServerName(config, vs)} - ${up ? 'UP' : 'DOWN'}`,
    body: `=> ${up ? 'Gained quorum' : 'Lost quorum'} ${vs.quorum}+${vs.hysteresis}=${threshold} <= ${liveWeight} <=`,
  };
}

/** omega: at shutdown a virtual server, and each real server it still had up, mail that they are going (ipwrapper.c). */
export function shutdownText(routerId: string, config: Config, vs: VirtualServer, rs?: RealServer): AlertText {
  const what = rs ? `Realserver ${realServerName(config, vs, rs)} of virtual server ${virtualServerName(config, vs)}` : `Virtualserver ${virtualServerName(config, vs)}`;
  return { subject: `[${routerId}] ${what} - DOWN`, body: '=> Shutting down <=' };
}
