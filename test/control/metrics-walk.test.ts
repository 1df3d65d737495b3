// /metrics walks the director's state (Director.tables) instead of reading status rows: the text must be the one
// the status rows gave, byte for byte, on a table with every kind of row.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DirectorMetrics } from '../../src/control/metrics.ts';
import { desiredTable } from '../../src/ipvs/desired.ts';
import { config, FakeKernel, harness, ZERO_STATS } from '../director/fakes.ts';
import { tablesOfStatus } from './status-tables.ts';

const WEB = (rss: string) => `virtual_server 10.0.0.1 80 {
  lb_algo wrr
  lb_kind DR
  quorum 2
  sorry_server 10.9.9.9 80
${rss}
}`;
const RS = (a: string, extra = '') => `  real_server ${a} 80 {\n    weight 2\n${extra}    TCP_CHECK {\n    }\n  }`;
const REST = `virtual_server_group g {
  10.0.0.10-11 443
  fwmark 9
}
virtual_server group g {
  lb_algo rr
  real_server 10.2.0.1 443 {
    TCP_CHECK {
    }
  }
  real_server 10.2.0.2 443 {
    TCP_CHECK {
    }
  }
}
virtual_server fwmark 7 {
  lb_algo rr
  real_server 10.3.0.1 0 {
  }
}
virtual_server 2001:db8::1 443 {
  lb_algo sh
  protocol TCP
  real_server 2001:db8::10 8443 {
    weight 5
    TCP_CHECK {
    }
  }
  real_server 2001:db8::11 8443 {
    TCP_CHECK {
    }
  }
}
virtual_server 10.0.0.2 53 {
  protocol UDP
  quorum 5
  sorry_server 10.9.9.8 53
  real_server 10.4.0.1 53 {
    MISC_CHECK {
      misc_path /bin/true
    }
  }
}`;

test('/metrics from the director walk equals /metrics from status rows, byte for byte: up, down, pending, draining, quorum lost, fwmark, group, IPv6, UDP', async () => {
  const first = config(`${WEB([RS('10.1.0.1'), RS('10.1.0.2'), RS('10.1.0.3'), RS('10.1.0.4')].join('\n'))}\n${REST}`);
  const kernel = new FakeKernel();
  kernel.load(desiredTable(first));
  const h = harness(first, { kernel, owned: [] });
  await h.director.start();
  const web = h.checker('10.0.0.1');
  web.verdict('10.1.0.1', true);
  web.verdict('10.1.0.2', false);
  web.verdict('10.1.0.3', true);
  web.verdict('10.1.0.4', false);
  h.checks.find((c) => c.vs.key.kind === 'group')!.verdict('10.2.0.1', true);
  h.checker('2001:db8::1').verdict('2001:db8::10', true);
  h.checker('2001:db8::1').verdict('2001:db8::11', false);
  const udp = h.checker('10.0.0.2');
  udp.verdict('10.4.0.1', false);
  udp.emit({ kind: 'quorum', virtualServer: udp.vs, up: false, liveWeight: 0, at: 0 });
  await h.director.idle();
  // 10.1.0.3 carries connections when a reload removes it: it drains at weight 0. 10.2.0.2 was never checked.
  kernel.setConnections('TCP 10.0.0.1:80', '10.1.0.3:80', 5);
  await h.director.reload(config(`${WEB([RS('10.1.0.1'), RS('10.1.0.2'), RS('10.1.0.4'), RS('10.1.0.5')].join('\n'))}\n${REST}`));
  await h.director.idle();
  // Traffic counters, per service and per destination.
  let n = 1;
  for (const s of kernel.services.values()) {
    s.service = { ...s.service, stats: { ...ZERO_STATS, conns: BigInt(n), inPkts: BigInt(n * 10), outPkts: BigInt(n * 9), inBytes: BigInt(n * 1000), outBytes: 2n ** 40n + BigInt(n) } };
    for (const [k, d] of s.destinations) s.destinations.set(k, { ...d, activeConns: n, inactiveConns: n + 1, stats: { ...ZERO_STATS, conns: BigInt(n * 3), inPkts: BigInt(n), outPkts: 7n, inBytes: BigInt(n * 64), outBytes: 0n } }), n++;
  }
  await h.director.status(); // the first counters read, which the scrapes below share

  const opts = { nodeIpvsNames: true, backendTraffic: true };
  const walked = new DirectorMetrics(() => h.director.tables(), opts);
  const rows = new DirectorMetrics(async () => tablesOfStatus(await h.director.status()), opts);
  try {
    // The counters' age is read at each call: the one value that may differ between two renders.
    const age = /^ipvs_ts_kernel_counters_age_seconds .*$/m;
    const a = await walked.render();
    const b = await rows.render();
    assert.match(a, age);
    assert.equal(a.replace(age, 'AGE'), b.replace(age, 'AGE'));
    for (const line of [
      'ipvs_ts_real_server_up{virtual_server="TCP 10.0.0.1:80",real_server="10.1.0.2:80"} 0',
      'ipvs_ts_real_server_up{virtual_server="TCP 10.0.0.1:80",real_server="10.1.0.5:80"} -1',
      'ipvs_ts_real_server_up{virtual_server="TCP [2001:db8::1]:443",real_server="[2001:db8::10]:8443"} 1',
      'ipvs_ts_backend_weight{local_address="10.0.0.1",local_port="80",remote_address="10.1.0.3",remote_port="80",proto="TCP",local_mark=""} 0',
      'ipvs_ts_virtual_server_quorum_up{virtual_server="TCP 10.0.0.1:80"} 1',
      'ipvs_ts_virtual_server_quorum_up{virtual_server="UDP 10.0.0.2:53"} 0',
    ]) assert.ok(a.includes(`\n${line}\n`), line);
    assert.match(a, /^ipvs_ts_backend_connections_active\{local_address="2001:db8::1",local_port="443",remote_address="2001:db8::10",remote_port="8443",proto="TCP",local_mark=""\} \d+$/m);
    assert.match(a, /^ipvs_ts_service_outgoing_bytes_total\{local_address="",local_port="0",proto="FWM",local_mark="00000009"\} 1099511627\d\d\d$/m);
    assert.match(a, /^ipvs_ts_backend_incoming_packets_total\{local_address="10\.0\.0\.11",local_port="443",/m);
  } finally {
    walked.close();
    rows.close();
  }
  await h.director.stop();
});
