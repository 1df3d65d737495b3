// Whether a block sends SMTP alerts. keepalived keeps each `smtp_alert` unset while parsing and resolves it once the
// whole file is read (vrrp.c for instances and sync groups, check_data.c for virtual and real servers), so a
// global_defs anywhere in the file counts; the model keeps what was written and this applies the same rule.
import type { GlobalDefs } from './model.ts';

/** `vrrp`: instances and sync groups; `virtual_server`: quorum mails; `real_server`: up/down mails. */
export type AlertScope = 'vrrp' | 'virtual_server' | 'real_server';

/** The block's own setting, else `smtp_alert_vrrp`/`smtp_alert_checker`, else `smtp_alert`, else off. */
export function smtpAlertOf(g: GlobalDefs, scope: AlertScope, own: boolean | undefined): boolean {
  if (own !== undefined) return own;
  const specific = scope === 'vrrp' ? g.smtpAlertVrrp : g.smtpAlertChecker;
  // Except for real servers, which keepalived leaves on when nothing says otherwise, "for backwards compatibility".
  return specific ?? g.smtpAlert ?? scope === 'real_server';
}
