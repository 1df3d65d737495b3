// One alert mail over SMTP, through nodemailer, as keepalived sends it: to every notification_email at once, from
// notification_email_from, plain SMTP without authentication or TLS, every step bounded by smtp_connect_timeout.
import { hostname, userInfo } from 'node:os';
import type { GlobalDefs } from '../config/model.ts';
import type { AlertText } from './alert-text.ts';

export interface SmtpSettings {
  /** An address, or a host name nodemailer resolves when it sends (keeping the answer 5 minutes). */
  readonly host: string;
  readonly port: number;
  /** Connecting, the greeting, each reply and the DNS lookup (keepalived's smtp_connect_timeout). */
  readonly stepTimeoutMs: number;
  readonly heloName: string;
  readonly from: string;
  readonly to: readonly string[];
}

/** Undefined when keepalived would not mail: no smtp_server, or nobody to mail to. */
export function smtpSettings(g: GlobalDefs): SmtpSettings | undefined {
  if (!g.smtpServer || g.notificationEmail.length === 0) return undefined;
  return {
    ...g.smtpServer,
    stepTimeoutMs: g.smtpConnectTimeoutMs,
    heloName: g.smtpHeloName ?? hostname(),
    // keepalived's default sender is the user it runs as, at this host.
    from: g.notificationEmailFrom ?? `${userInfo().username}@${hostname()}`,
    to: g.notificationEmail,
  };
}

/** Resolves with where the mail went; rejects with nodemailer's error (its `code` says which step failed). */
export async function sendAlertMail(s: SmtpSettings, text: AlertText, signal: AbortSignal): Promise<string> {
  const t = s.stepTimeoutMs;
  // Loaded with the first mail: a daemon that never mails never loads nodemailer's 39 modules.
  const { createTransport } = await import('nodemailer');
  const transport = createTransport({
    host: s.host,
    port: s.port,
    secure: false,
    // keepalived speaks plain SMTP to a relay it trusts; a STARTTLS offer with a certificate nobody configured a
    // trust for would only add a way to fail.
    ignoreTLS: true,
    name: s.heloName,
    connectionTimeout: t,
    greetingTimeout: t,
    socketTimeout: t,
    dnsTimeout: t,
  });
  try {
    const info = await transport.sendMail({ from: s.from, to: [...s.to], subject: text.subject, text: text.body, xMailer: 'ipvs-ts', signal });
    const refused = info.rejected.length ? `; refused by the server: ${info.rejected.join(', ')}` : '';
    return `to ${info.accepted.join(', ')} via ${s.host}:${s.port}${refused}`;
  } finally {
    transport.close();
  }
}
