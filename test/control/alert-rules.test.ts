import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AlertRules } from '../../src/control/alert-rules.ts';
import type { Config } from '../../src/config/model.ts';
import type { DirectorEvent, DirectorEventBody } from '../../src/director/events.ts';
import { config } from '../director/fakes.ts';

const GLOBALS = 'global_defs {\n  router_id lb1\n  smtp_alert\n}\n';

function run(c: Config, events: DirectorEventBody[]): string[] {
  const rules = new AlertRules();
  return events.flatMap((e) => rules.alertsFor(c, { ...e, at: 0 } as DirectorEvent)).map((a) => `${a.subject} | ${a.body}`);
}

const vrrp = (instance: string, from: string, to: string): DirectorEventBody => ({ type: 'vrrp', instance, from, to, priority: 100 });
const verdict = (virtualServer: string, realServer: string, up: boolean): DirectorEventBody => ({
  type: 'verdict', virtualServer, realServer, up, present: up, weight: up ? 1 : 0, reason: '', latencyMs: 1,
});

const instance = (name: string, vrid: number) => `vrrp_instance ${name} {\n interface eth0\n virtual_router_id ${vrid}\n}\n`;

test('sync group: the group and then every member mail BACKUP at start (vrrp_init_state); the group takes MASTER with its first member, the members it carries do not mail, nor their return to the state last mailed', () => {
  const c = config(`${GLOBALS}${instance('VI_1', 1)}${instance('VI_2', 2)}vrrp_sync_group G {\n group {\n VI_1\n VI_2\n }\n}\n`);
  assert.deepEqual(run(c, [
    vrrp('VI_1', 'INIT', 'BACKUP'),
    vrrp('VI_2', 'INIT', 'BACKUP'),
    vrrp('VI_1', 'BACKUP', 'MASTER'),
    vrrp('VI_2', 'BACKUP', 'MASTER'),
    vrrp('VI_2', 'MASTER', 'BACKUP'),
    vrrp('VI_1', 'MASTER', 'BACKUP'),
    { type: 'stopping' },
    vrrp('VI_1', 'BACKUP', 'STOP'),
    vrrp('VI_2', 'BACKUP', 'STOP'),
  ]), [
    '[lb1] VRRP Group G - Entering BACKUP state | => All VRRP group instances are now in BACKUP state <=',
    '[lb1] VRRP Instance VI_1 - Entering BACKUP state | => VRRP Instance is no longer owning VRRP VIPs <=',
    '[lb1] VRRP Instance VI_2 - Entering BACKUP state | => VRRP Instance is no longer owning VRRP VIPs <=',
    '[lb1] VRRP Instance VI_1 - Entering MASTER state | => VRRP Instance is now owning VRRP VIPs <=',
    '[lb1] VRRP Group G - Entering MASTER state | => All VRRP group instances are now in MASTER state <=',
    // VI_2's last mail still says BACKUP (its MASTER was not mailed), so keepalived's last_email_state holds it back.
    '[lb1] VRRP Instance VI_1 - Entering BACKUP state | => VRRP Instance is no longer owning VRRP VIPs <=',
    '[lb1] VRRP Group G - Entering BACKUP state | => All VRRP group instances are now in BACKUP state <=',
    '[lb1] VRRP Instance VI_1 - Stopping | => VRRP Instance stopping <=',
    '[lb1] VRRP Instance VI_2 - Stopping | => VRRP Instance stopping <=',
    '[lb1] VRRP Group G - Stopping | => All VRRP group instances are now stopping <=',
  ]);
});

test('no_email_faults: FAULT is not mailed, and coming back to the state last mailed is not a change', () => {
  const c = config(`global_defs {\n router_id lb1\n smtp_alert\n no_email_faults\n}\n${instance('VI_1', 1)}`);
  assert.deepEqual(run(c, [vrrp('VI_1', 'INIT', 'BACKUP'), vrrp('VI_1', 'BACKUP', 'FAULT'), vrrp('VI_1', 'FAULT', 'BACKUP'), vrrp('VI_1', 'BACKUP', 'FAULT'), vrrp('VI_1', 'FAULT', 'MASTER')]), [
    '[lb1] VRRP Instance VI_1 - Entering BACKUP state | => VRRP Instance is no longer owning VRRP VIPs <=',
    '[lb1] VRRP Instance VI_1 - Entering MASTER state | => VRRP Instance is now owning VRRP VIPs <=',
  ]);
  const plain = config(`${GLOBALS}${instance('VI_1', 1)}`);
  assert.deepEqual(run(plain, [vrrp('VI_1', 'BACKUP', 'FAULT')]), ['[lb1] VRRP Instance VI_1 - Entering FAULT state | => VRRP Instance is no longer owning VRRP VIPs <=']);
});

test("real servers mail changes from keepalived's start state (up; down when alpha), with the checker's own words", () => {
  const c = config(`${GLOBALS}virtual_server 10.0.0.1 80 {
  lb_algo rr
  lb_kind DR
  real_server 10.1.0.1 80 {
    TCP_CHECK {
    }
  }
  real_server 10.1.0.2 80 {
    HTTP_GET {
      alpha
      url {
        path /
      }
    }
  }
  real_server 10.1.0.3 80 {
    MISC_CHECK {
      misc_path /bin/true
    }
    TCP_CHECK {
    }
  }
}
virtual_server fwmark 7 {
  lb_algo rr
  lb_kind DR
  real_server 2001:db8::5 443 {
    MISC_CHECK {
      misc_path /bin/true
    }
  }
}
`);
  const vs = 'TCP 10.0.0.1:80';
  assert.deepEqual(run(c, [
    verdict(vs, '10.1.0.1:80', true),
    verdict(vs, '10.1.0.1:80', false),
    verdict(vs, '10.1.0.2:80', false),
    verdict(vs, '10.1.0.2:80', true),
    verdict(vs, '10.1.0.3:80', false),
    verdict('fwmark 7', '[2001:db8::5]:443', false),
  ]), [
    '[lb1] Realserver [10.1.0.1]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - DOWN | => TCP CHECK failed on service <=',
    '[lb1] Realserver [10.1.0.2]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - UP | => CHECK succeed on service <=',
    '[lb1] Realserver [10.1.0.3]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - DOWN | => CHECK failed on service <=',
    '[lb1] Realserver [2001:db8::5]:none:443 of virtual server FWM 7 - DOWN | => MISC CHECK failed on service <=',
  ]);
});

test('quorum: Lost and Gained with the threshold crossed, only where the virtual server has smtp_alert', () => {
  const c = config(`global_defs {\n router_id lb1\n}\nvirtual_server 10.0.0.1 80 {
  lb_algo rr
  lb_kind DR
  quorum 3
  hysteresis 1
  smtp_alert
  real_server 10.1.0.1 80 {
    weight 2
  }
  real_server 10.1.0.2 80 {
    weight 2
  }
}
virtual_server 10.0.0.2 80 {
  lb_algo rr
  lb_kind DR
  quorum 3
  real_server 10.1.0.1 80 {
    weight 2
  }
}
`);
  const quorum = (virtualServer: string, up: boolean, liveWeight: number): DirectorEventBody => ({ type: 'quorum', virtualServer, up, liveWeight });
  assert.deepEqual(run(c, [quorum('TCP 10.0.0.1:80', true, 4), quorum('TCP 10.0.0.1:80', false, 0), quorum('TCP 10.0.0.1:80', true, 4), quorum('TCP 10.0.0.2:80', false, 0)]), [
    '[lb1] Virtualserver [10.0.0.1]:tcp:80 - DOWN | => Lost quorum 3+1=2 <= 0 <=',
    '[lb1] Virtualserver [10.0.0.1]:tcp:80 - UP | => Gained quorum 3+1=4 <= 4 <=',
  ]);
});

test('smtp_alert off suppresses, per block; the router id defaults to the host name', () => {
  const c = config(`global_defs {\n smtp_alert off\n}\n${instance('VI_1', 1)}vrrp_instance VI_2 {\n interface eth0\n virtual_router_id 2\n smtp_alert\n}\n`);
  const got = run(c, [vrrp('VI_1', 'INIT', 'MASTER'), vrrp('VI_2', 'INIT', 'MASTER')]);
  assert.equal(got.length, 1);
  assert.match(got[0]!, /^\[[^\]]+\] VRRP Instance VI_2 - Entering MASTER state \|/);
});
