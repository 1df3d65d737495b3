import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/index.ts';
import type { Config } from '../../src/config/model.ts';
import { smtpAlertOf } from '../../src/config/smtp-alert.ts';

function parse(globals: string, extra = ''): { config: Config; problems: string[] } {
  const text = `${extra}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 1
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_id 2
  smtp_alert off
}
vrrp_sync_group G {
  group {
    VI_1
    VI_2
  }
}
virtual_server 10.0.0.1 80 {
  lb_algo rr
  lb_kind DR
  real_server 10.1.0.1 80 {
    TCP_CHECK {
    }
  }
  real_server 10.1.0.2 80 {
    smtp_alert no
    TCP_CHECK {
    }
  }
}
virtual_server 10.0.0.2 80 {
  lb_algo rr
  lb_kind DR
  smtp_alert
}
global_defs {
${globals}
}
`;
  const { config, problems } = parseConfigText(text, 'k.conf', { skipHostChecks: true });
  assert.ok(config, problems.map((p) => p.message).join('\n'));
  return { config, problems: problems.map((p) => `${p.code} ${p.message}`) };
}

/** [VI_1, VI_2, G, first VS, second VS, first RS, second RS] resolved. */
function resolved(c: Config): boolean[] {
  const g = c.globalDefs;
  const [vs1, vs2] = c.virtualServers;
  return [
    smtpAlertOf(g, 'vrrp', c.vrrpInstances[0]!.smtpAlert),
    smtpAlertOf(g, 'vrrp', c.vrrpInstances[1]!.smtpAlert),
    smtpAlertOf(g, 'vrrp', c.vrrpSyncGroups[0]!.smtpAlert),
    smtpAlertOf(g, 'virtual_server', vs1!.smtpAlert),
    smtpAlertOf(g, 'virtual_server', vs2!.smtpAlert),
    smtpAlertOf(g, 'real_server', vs1!.realServers[0]!.smtpAlert),
    smtpAlertOf(g, 'real_server', vs1!.realServers[1]!.smtpAlert),
  ];
}

test('smtp_alert resolves as keepalived does, wherever global_defs is: own setting, smtp_alert_vrrp/_checker, smtp_alert, else off (real servers: on)', () => {
  // VI_1, VI_2 (off), G, VS1, VS2 (on), RS1, RS2 (off)
  assert.deepEqual(resolved(parse('').config), [false, false, false, false, true, true, false]);
  assert.deepEqual(resolved(parse('smtp_alert').config), [true, false, true, true, true, true, false]);
  assert.deepEqual(resolved(parse('smtp_alert off').config), [false, false, false, false, true, false, false]);
  assert.deepEqual(resolved(parse('smtp_alert\nsmtp_alert_vrrp off').config), [false, false, false, true, true, true, false]);
  assert.deepEqual(resolved(parse('smtp_alert off\nsmtp_alert_checker').config), [false, false, false, true, true, true, false]);
  assert.deepEqual(resolved(parse('smtp_alert_vrrp\nsmtp_alert_checker false').config), [true, false, true, false, true, false, false]);
});

test('the mail settings are modelled without warnings; the host-name leniency says when it is resolved', () => {
  const { config, problems } = parse(`notification_email {
    ops@example.com
    "Night Shift <night@example.com>"
  }
  notification_email_from lb1@example.com
  smtp_server mail.example.com 2525
  smtp_connect_timeout 5
  smtp_helo_name lb1.example.com
  no_email_faults
  no_checker_emails`);
  const g = config.globalDefs;
  assert.deepEqual(
    [g.notificationEmail, g.notificationEmailFrom, g.smtpServer, g.smtpConnectTimeoutMs, g.smtpHeloName, g.noEmailFaults],
    [['ops@example.com', 'Night Shift <night@example.com>'], 'lb1@example.com', { host: 'mail.example.com', port: 2525 }, 5_000, 'lb1.example.com', true],
  );
  assert.deepEqual(problems, ['lenient smtp_server mail.example.com is a host name: accepted, resolved when alerts are mailed (keepalived -t wants an IP address)']);
  assert.equal(parse('').config.globalDefs.noEmailFaults, false);
});
