// Defaults, inheritance, every modelled block, validation and host facts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText, type Problem } from '../../src/config/index.ts';
import type { HttpCheck, MiscCheck } from '../../src/config/model.ts';

const opts = { skipHostChecks: true } as const;
const parse = (text: string, o: object = opts) => parseConfigText(text, 'k.conf', o);
const summary = (ps: Problem[]): string[] => ps.map((p) => `${p.severity} ${p.code} ${p.pos?.line}:${p.pos?.col} ${p.message}`);

test('checker settings: defaults per type and inheritance virtual_server → real_server → checker', () => {
  const r = parse(`
virtual_server 10.0.0.1 80 {
  delay_loop 10
  connect_timeout 7
  lb_algo wlc
  lb_kind NAT
  real_server 10.0.1.1 8080 {
    retry 4
    TCP_CHECK {
      delay_before_retry 2.5
    }
    HTTP_GET {
      url {
        path /health
        digest 0123456789ABCDEF0123456789abcdef
        status_code 200 301-302
      }
    }
    MISC_CHECK {
      misc_path "/usr/local/bin/check.sh --port 8080"
      misc_dynamic
    }
  }
  real_server 10.0.1.2 8080 {
    delay_loop 3
    SSL_GET {
      url {
        path /
      }
      connect_port 8443
      warmup 0
      enable_sni
    }
  }
}
global_defs {
  enable_script_security
}`);
  assert.deepEqual(summary(r.problems), []);
  const [a, b] = r.config?.virtualServers[0]?.realServers ?? [];
  const [tcp, http, misc] = a?.checkers ?? [];
  assert.deepEqual(
    [tcp?.type, tcp?.delayLoopMs, tcp?.connectTimeoutMs, tcp?.retry, tcp?.delayBeforeRetryMs, tcp?.warmupMs, tcp?.connectIp, tcp?.connectPort],
    ['TCP_CHECK', 10_000, 7000, 4, 2500, 10_000, '10.0.1.1', 8080],
  );
  const h = http as HttpCheck;
  assert.deepEqual([h.type, h.retry, h.delayBeforeRetryMs, h.connectTimeoutMs, h.httpProtocol, h.enableSni], ['HTTP_GET', 4, 3000, 7000, '1.0', false]);
  assert.deepEqual(h.urls[0] && [h.urls[0].path, h.urls[0].digest, h.urls[0].statusCodes], ['/health', '0123456789abcdef0123456789abcdef', [{ from: 200, to: 200 }, { from: 301, to: 302 }]]);
  const m = misc as MiscCheck;
  assert.deepEqual([m.type, m.path, m.timeoutMs, m.dynamic, m.retry, m.delayBeforeRetryMs], ['MISC_CHECK', '/usr/local/bin/check.sh --port 8080', 10_000, true, 4, 1000]);
  const s = b?.checkers[0] as HttpCheck;
  assert.deepEqual([b?.delayLoopMs, s.type, s.delayLoopMs, s.warmupMs, s.connectPort, s.retry, s.delayBeforeRetryMs, s.enableSni], [3000, 'SSL_GET', 3000, 0, 8443, 1, 3000, true]);
});

test('MISC_CHECK without retry settings retries 0 times; everything without delay_loop uses 60 s', () => {
  const r = parse('virtual_server 10.0.0.1 80 {\n lb_algo rr\n lb_kind DR\n real_server 10.0.1.1 80 {\n  MISC_CHECK {\n   misc_path /bin/true\n   misc_timeout 4\n   user nobody nogroup\n  }\n }\n}\n');
  const m = r.config?.virtualServers[0]?.realServers[0]?.checkers[0] as MiscCheck;
  assert.deepEqual([m.retry, m.delayBeforeRetryMs, m.delayLoopMs, m.warmupMs, m.timeoutMs, m.connectTimeoutMs, m.user], [0, 1000, 60_000, 60_000, 4000, 5000, { user: 'nobody', group: 'nogroup' }]);
});

test('virtual servers by fwmark, by group, IPv6; groups with ranges; tunnels, sorry server, persistence', () => {
  const r = parse(`
virtual_server_group web {
  10.0.0.10-20 80
  2001:DB8:0:0::a-1f 443
  fwmark 7
}
virtual_server group web {
  lb_algo sh
  sh-port
  lb_kind TUN type gue port 6080 csum
  persistence_granularity 255.255.255.0
  sorry_server 10.9.9.9 8080
  sorry_server_lvs_method NAT
  real_server 10.0.1.1 {
    weight 0
    lvs_method DR
  }
}
virtual_server fwmark 9 {
  ip_family inet6
  lb_algo mh
  lb_kind DR
  persistence_timeout
  protocol UDP
  ops
}
virtual_server 2001:DB8::0:1 443 {
  lb_algo wrr
  lb_kind NAT
  quorum 2
  hysteresis 1
  alpha
  omega
  inhibit_on_failure
}`);
  // keepalived too: "protocol specified for fwmark - protocol will be ignored" (ops is checked before that).
  assert.deepEqual(summary(r.problems), ['warning lenient 24:3 virtual_server fwmark 9: protocol is ignored for a fwmark service (the mark selects the packets, whatever their protocol), as keepalived ignores it']);
  const c = r.config;
  assert.deepEqual(c?.virtualServerGroups[0]?.members.map((m) => (m.kind === 'addr' ? [m.address, m.port, m.count] : [m.mark])), [
    ['10.0.0.10', 80, 11], ['2001:db8::a', 443, 22], [7],
  ]);
  const [g, fw, v6] = c?.virtualServers ?? [];
  assert.deepEqual(g?.key, { kind: 'group', name: 'web' });
  assert.deepEqual([g?.lbAlgo, g?.schedulerFlags, g?.lbKind, g?.tunnel, g?.persistenceGranularity, g?.persistenceTimeoutS], ['sh', ['sh-port'], 'TUN', { type: 'gue', port: 6080, checksum: 'checksum' }, '255.255.255.0', 360]);
  assert.deepEqual(g?.sorryServer, { address: '10.9.9.9', family: 4, port: 8080, lbKind: 'NAT' });
  assert.deepEqual([g?.realServers[0]?.port, g?.realServers[0]?.weight, g?.realServers[0]?.lbKind], [0, 0, 'DR']);
  assert.deepEqual(fw?.key, { kind: 'fwmark', mark: 9, family: 6 });
  assert.deepEqual([fw?.persistenceTimeoutS, fw?.protocol, fw?.onePacket], [360, 'UDP', true]);
  assert.deepEqual(v6?.key, { kind: 'addr', address: '2001:db8::1', family: 6, port: 443 });
  assert.deepEqual([v6?.quorum, v6?.hysteresis, v6?.alpha, v6?.omega, v6?.inhibitOnFailure], [2, 1, true, true, true]);
});

test('vrrp: tracking with weights, unicast, VIP options, VRRPv3, sync groups, globals', () => {
  const r = parse(`
global_defs {
  router_id lb1
  enable_script_security
  script_user keepalived_script
  vrrp_version 3
  vrrp_mcast_group4 224.0.0.19
  vrrp_garp_master_delay 2
  lvs_sync_daemon eth1 VI_1 id 3 maxlen 1400 port 8848 ttl 2 group 239.1.1.1
  lvs_timeouts tcp 900 tcpfin 120 udp 300
  lvs_flush
  smtp_server 192.0.2.25 2525
}
vrrp_script chk {
  script "/bin/check"
  interval 0.5
  timeout 2
  weight 10 reverse
  init_fail
}
vrrp_instance VI_1 {
  state backup
  interface eth0
  virtual_router_id 51
  priority 200
  advert_int 0.5
  nopreempt
  preempt_delay 30
  unicast_src_ip 192.0.2.1
  unicast_peer {
    192.0.2.2
    192.0.2.3
  }
  virtual_ipaddress {
    192.0.2.100/24 dev eth0.10 label eth0.10:vip brd 192.0.2.255 scope global
    2001:db8::100/64
  }
  virtual_ipaddress_excluded {
    198.51.100.1
  }
  track_interface {
    eth1 weight -20
  }
  track_script {
    chk weight -30
  }
  notify "/bin/notify.sh"
  smtp_alert
}
vrrp_sync_group G1 {
  group {
    VI_1
  }
  notify_master /bin/master.sh
}`);
  assert.deepEqual(summary(r.problems), [
    'warning lenient 21:1 vrrp_instance VI_1: preempt_delay is incompatible with nopreempt; reset to 0, as keepalived does',
    'warning lenient 36:5 vrrp_instance VI_1: 2001:db8::100 is IPv6 in an IPv4 instance; treated as virtual_ipaddress_excluded (as keepalived does)',
    // The instance is in sync group G1: keepalived does not let a member's priority float.
    'warning lenient 42:5 vrrp_instance VI_1: tracked interface eth1: its weight is taken as 0 (down puts the instance and its group in FAULT) because of sync group G1, as keepalived does; add sync_group_tracking_weight to the group to keep weights',
    'warning lenient 45:5 vrrp_instance VI_1: tracked script chk has a weight, so it is not tracked at all: sync group G1 cannot have a floating priority (as keepalived does)',
  ]);
  const c = r.config;
  const g = c?.globalDefs;
  assert.deepEqual([g?.routerId, g?.scriptUser, g?.vrrp.version, g?.vrrp.mcastGroup4, g?.vrrp.garpMasterDelayMs, g?.smtpServer], ['lb1', { user: 'keepalived_script' }, 3, '224.0.0.19', 2000, { host: '192.0.2.25', port: 2525 }]);
  assert.deepEqual(g?.lvs, {
    flushOnStop: false, flushOnStart: true, timeouts: { tcpMs: 900_000, tcpFinMs: 120_000, udpMs: 300_000 },
    syncDaemon: { interface: 'eth1', instance: 'VI_1', syncId: 3, maxlen: 1400, port: 8848, ttl: 2, group: '239.1.1.1', pos: { file: 'k.conf', line: 9, col: 3 } },
  });
  const s = c?.vrrpScripts[0];
  assert.deepEqual([s?.intervalMs, s?.timeoutMs, s?.weight, s?.weightReverse, s?.initFail, s?.rise, s?.fall], [500, 2000, 10, true, true, 1, 1]);
  const i = c?.vrrpInstances[0];
  assert.deepEqual([i?.state, i?.version, i?.advertIntMs, i?.priority, i?.nopreempt, i?.preemptDelayMs, i?.garpMasterDelayMs, i?.smtpAlert], ['BACKUP', 3, 500, 200, true, 0, 2000, true]);
  assert.deepEqual([i?.unicastSrcIp, i?.unicastPeers], ['192.0.2.1', ['192.0.2.2', '192.0.2.3']]);
  const vip = i?.virtualIps[0];
  assert.deepEqual(vip && [vip.address, vip.prefix, vip.dev, vip.label, vip.broadcast, vip.scope], ['192.0.2.100', 24, 'eth0.10', 'eth0.10:vip', '192.0.2.255', 'global']);
  assert.deepEqual(i?.virtualIpsExcluded.map((v) => `${v.address}/${v.prefix}@${v.dev}`), ['198.51.100.1/32@eth0', '2001:db8::100/64@eth0']);
  assert.deepEqual(i?.trackInterfaces.map((t) => [t.name, t.weight]), [['eth1', -20]]);
  assert.deepEqual(i?.trackScripts.map((t) => [t.name, t.weight]), [['chk', -30]]);
  assert.equal(i?.notify.any, '/bin/notify.sh');
  assert.deepEqual([c?.vrrpSyncGroups[0]?.members, c?.vrrpSyncGroups[0]?.notify.master], [['VI_1'], '/bin/master.sh']);
});

test('unsupported keywords warn with file:line, --strict makes them errors; typos get a hint', () => {
  const text = 'global_defs {\n  enable_snmp_vrrp\n}\nvrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 1\n  priorty 100\n}\nvrrp_instanse VI_2 {\n}\n';
  const r = parse(text);
  assert.deepEqual(summary(r.problems), [
    'warning unsupported 2:3 not supported: enable_snmp_vrrp (k.conf:2); ignored',
    "error unknown-keyword 7:3 unknown keyword 'priorty' in vrrp_instance VI_1; did you mean 'priority'?",
    "error unknown-keyword 9:1 unknown keyword 'vrrp_instanse' in the top level; did you mean 'vrrp_instance'?",
  ]);
  const strict = parse('global_defs {\n  enable_snmp_vrrp\n}\n', { ...opts, strict: true });
  assert.equal(strict.config, undefined);
  assert.deepEqual(summary(strict.problems), ['error unsupported 2:3 not supported: enable_snmp_vrrp (k.conf:2); ignored']);
});

test('validation names file:line:col for ranges, enums, digests, duplicates and references', () => {
  const r = parse(`vrrp_script chk_web {
  script /bin/true
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 0
  priority 256
  advert_int 0.5
  track_script {
    chk_wb
  }
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_id 7
}
vrrp_instance VI_3 {
  interface eth0
  virtual_router_id 7
}
vrrp_sync_group G {
  group {
    VI_2
    VI_9
  }
}
virtual_server 10.0.0.1 80 {
  lb_algo fastest
  lb_kind DIRECT
  real_server 10.0.1.1 80 {
    HTTP_GET {
      url {
        path /
        digest abc
        status_code 700
      }
    }
  }
  real_server 10.0.1.1 80 {
  }
}
global_defs {
  enable_script_security
}
`);
  assert.equal(r.config, undefined);
  assert.deepEqual(summary(r.problems), [
    'error range 6:21 virtual_router_id 0 is out of range 1-255',
    'error range 7:12 priority 256 is out of range 1-255',
    'error range 8:14 advert_int 0.5 is out of range for VRRPv2 (1-255 seconds; use version 3 for sub-second adverts)',
    "error reference 10:5 vrrp_instance VI_1: track_script chk_wb names no vrrp_script; did you mean 'chk_web'?",
    'error duplicate 17:1 vrrp_instance VI_3: virtual_router_id 7 on eth0 is already used by vrrp_instance VI_2',
    "error reference 21:1 vrrp_sync_group G: group member VI_9 names no vrrp_instance; did you mean 'VI_1'?",
    'error bad-value 28:11 unknown lb_algo \'fastest\'; expected one of: rr wrr lc wlc lblc lblcr dh sh sed nq mh fo ovf twos',
    "error bad-value 29:11 unknown lb_kind 'DIRECT'; expected one of: NAT DR TUN",
    "error bad-value 34:16 digest 'abc' is not an MD5 digest (32 hex digits)",
    "error bad-value 35:21 status_code '700' is not an HTTP status (100-599) or range N-M",
    'error duplicate 39:3 duplicate real_server 10.0.1.1 80 in virtual_server 10.0.0.1 80 (first at k.conf:30:3)',
  ]);
});

test('lenient where the intent is clear: each acceptance says what it took', () => {
  const r = parse(`global_defs {
  lvs_id old_name
  smtp_server smtp.example.com
  vrrp_garp_interval 0
}
virtual_server 10.0.0.1 80 {
  lb_algo rr
  lb_kind DR
  nat_mask 255.255.255.0
  persistence_timeout 0
  real_server 10.0.1.1 80 {
    TCP_CHECK {
      nb_get_retry 2
    }
  }
}
`);
  assert.ok(r.config);
  assert.deepEqual(r.problems.map((p) => `${p.code} ${p.pos?.line}`), ['deprecated 2', 'lenient 3', 'lenient 4', 'lenient 9', 'lenient 10', 'deprecated 13']);
  assert.equal(r.config.globalDefs.routerId, 'old_name');
  assert.equal(r.config.virtualServers[0]?.persistenceTimeoutS, undefined);
  assert.equal(r.config.virtualServers[0]?.realServers[0]?.checkers[0]?.retry, 2);
});

test('host facts are warnings by default and errors with host: true', () => {
  const text = 'vrrp_instance VI_1 {\n interface eth9\n virtual_router_id 1\n mcast_src_ip 192.0.2.1\n track_interface {\n  eth0\n }\n}\n';
  const hostFacts = { interfaces: new Set(['lo', 'eth0']), addresses: new Set(['127.0.0.1']) };
  const soft = parseConfigText(text, 'k.conf', { hostFacts });
  assert.ok(soft.config);
  assert.deepEqual(soft.problems.map((p) => `${p.severity} ${p.code} ${p.pos?.line}`), ['warning host 1', 'warning host 1']);
  assert.match(soft.problems[0]?.message ?? '', /interface eth9 does not exist/);
  assert.match(soft.problems[1]?.message ?? '', /mcast_src_ip 192\.0\.2\.1 is not an address of this host/);
  const hard = parseConfigText(text, 'k.conf', { hostFacts, host: true });
  assert.equal(hard.config, undefined);
  assert.deepEqual(hard.problems.map((p) => p.severity), ['error', 'error']);
});

test('state and priority follow from each other when only one is given, as in keepalived', () => {
  const r = parse(['MASTER', 'BACKUP'].map((st, i) => `vrrp_instance S${i} {\n interface eth0\n virtual_router_id ${i + 1}\n state ${st}\n}\n`).join('') +
    'vrrp_instance P {\n interface eth0\n virtual_router_id 9\n priority 255\n}\nvrrp_instance N {\n interface eth0\n virtual_router_id 10\n}\n');
  assert.deepEqual(r.config?.vrrpInstances.map((i) => [i.name, i.state, i.priority]), [
    ['S0', 'MASTER', 255], ['S1', 'BACKUP', 100], ['P', 'MASTER', 255], ['N', 'BACKUP', 100],
  ]);
});
