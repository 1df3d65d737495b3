// SMTP alerts: keepalived's events and words (alert-rules.ts, alert-text.ts), rate limited (alert-limiter.ts) and
// sent in the background through a bounded queue (mail-queue.ts, smtp.ts). Director events come in synchronously
// and are dealt with at once: no verdict, reconcile or VRRP transition ever waits for a mail server.
import { performance } from 'node:perf_hooks';
import type { Config } from '../config/model.ts';
import type { DirectorEvent, DirectorEventBody } from '../director/events.ts';
import { AlertLimiter, type Decision, type DropReason } from './alert-limiter.ts';
import { AlertRules, type Alert } from './alert-rules.ts';
import { MailQueue } from './mail-queue.ts';
import { sendAlertMail, smtpSettings, type SmtpSettings } from './smtp.ts';

export interface AlertLimits {
  /** A key (an instance, group, virtual or real server) mails at most once per window; see alert-limiter.ts. */
  readonly coalesceMs: number;
  /** All keys together. */
  readonly perMinute: number;
  /** Mails waiting for the mail server. */
  readonly queue: number;
}

export const ALERT_LIMITS: AlertLimits = { coalesceMs: 60_000, perMinute: 30, queue: 30 };

export type AlertEvent = Extract<DirectorEventBody, { type: 'alert' }>;

export interface AlertsOptions {
  /** The configuration in force (a reload changes the recipients, the server and the smtp_alert settings). */
  readonly config: () => Config;
  /** Every mail's fate: sent, failed or dropped. */
  readonly report: (e: AlertEvent) => void;
  readonly limits?: AlertLimits;
}

export class Alerts {
  readonly #opts: AlertsOptions;
  readonly #limits: AlertLimits;
  readonly #rules = new AlertRules();
  readonly #limiter: AlertLimiter<Alert>;
  /** Each mail goes with the settings in force when the limiter let it through (a reload may change them later). */
  readonly #queue: MailQueue<{ readonly alert: Alert; readonly smtp: SmtpSettings }>;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: AlertsOptions) {
    this.#opts = opts;
    this.#limits = opts.limits ?? ALERT_LIMITS;
    this.#limiter = new AlertLimiter(this.#limits, () => performance.now());
    this.#queue = new MailQueue({
      capacity: this.#limits.queue,
      // Each step has smtp_connect_timeout (as in keepalived); the whole conversation gets two of them.
      timeoutMs: (m) => 2 * m.smtp.stepTimeoutMs,
      send: (m, signal) => sendAlertMail(m.smtp, m.alert, signal),
      settled: (m, o) => opts.report({ type: 'alert', result: o.result, subject: m.alert.subject, reason: o.reason }),
    });
  }

  /** Subscribe this to the director's events. */
  readonly onEvent = (e: DirectorEvent): void => {
    const config = this.#opts.config();
    // The rules follow every event, so that states are right once a reload turns mail on.
    const alerts = this.#rules.alertsFor(config, e);
    if (alerts.length === 0 || !smtpSettings(config.globalDefs)) return;
    for (const a of alerts) this.#decide(this.#limiter.offer(a));
    this.#schedule();
  };

  /** Sends what the rate limiter holds back and what waits, for at most `boundMs`; the rest is dropped. */
  async stop(boundMs: number): Promise<void> {
    clearTimeout(this.#timer);
    this.#decide(this.#limiter.flush());
    await this.#queue.stop(boundMs);
  }

  #decide(d: Decision<Alert>): void {
    for (const { alert, reason } of d.dropped) this.#opts.report({ type: 'alert', result: 'dropped', subject: alert.subject, reason: this.#dropWords(reason) });
    if (d.send.length === 0) return;
    // A held alert is released under the configuration of its release; without a mail server it is not sent.
    const smtp = smtpSettings(this.#opts.config().globalDefs);
    for (const alert of d.send) {
      if (smtp) this.#queue.push({ alert, smtp });
      else this.#opts.report({ type: 'alert', result: 'dropped', subject: alert.subject, reason: 'a reload removed smtp_server or notification_email' });
    }
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    const at = this.#limiter.nextReleaseAt();
    if (at === undefined) return;
    this.#timer = setTimeout(() => {
      this.#decide(this.#limiter.release());
      this.#schedule();
    }, Math.max(0, at - performance.now()));
    this.#timer.unref();
  }

  #dropWords(reason: DropReason): string {
    const window = `${this.#limits.coalesceMs / 1000} s`;
    if (reason === 'coalesced') return `a newer alert about the same thing came within ${window} of the last one sent`;
    if (reason === 'unchanged') return `it flapped back, within ${window}, to what the last alert about it said`;
    return `more than ${this.#limits.perMinute} alerts in a minute`;
  }
}
