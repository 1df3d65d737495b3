// Runs INSIDE the test VM (a kernel with IPVS); started by test/kernel/ipvs.vmtest.ts. Conformance with the
// reference client both ways, the reconciler against a live table, and the kernel's error paths.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { IpvsClient } from '../../../src/ipvs/client.ts';
import { formatListing, sortListing } from '../../../src/ipvs/format.ts';
import { reconcile } from '../../../src/ipvs/reconcile.ts';
import { SCHEDULERS } from '../../../src/ipvs/constants.ts';
import type { IpvsOp, IpvsTable } from '../../../src/ipvs/types.ts';
import { availableSchedulers, ipvsadmRules, ipvsadmThresholds, NO_FLAGS, real, sh, tableRules, tableThresholds, tcp } from './ipvs-kit.ts';

const schedulers = availableSchedulers(SCHEDULERS);
let client: IpvsClient;
before(async () => {
  // One modprobe for everything: module loading is slow under TCG, so don't leave it to on-demand autoload.
  sh(`modprobe -a ip_vs ${schedulers.map((s) => `ip_vs_${s}`).join(' ')}`);
  client = await IpvsClient.open();
});
after(() => client.close());

async function applyAll(ops: IpvsOp[]): Promise<void> {
  const r = await client.apply(ops);
  assert.deepEqual(r.failed.map((f) => f.error.message), []);
}


/** A table that exercises every setting ipvsadm can show. */
function richTable(): IpvsTable {
  const services: IpvsTable['services'][number][] = schedulers.map((s, i) => ({
    service: tcp(`10.10.${i}.1`, 80, s),
    destinations: [real(`10.20.${i}.1`, 8080, { weight: i + 1 }), real(`10.20.${i}.2`, 80, { forward: 'droute', weight: 0 })],
  }));
  services.push(
    {
      service: tcp('10.11.0.1', 443, 'sh', { flags: { ...NO_FLAGS, persistent: true, shFallback: true, shPort: true }, timeoutS: 600, netmask: '255.255.255.0' }),
      destinations: [
        real('10.21.0.1', 443, { forward: 'tunnel', tunnel: { type: 'ipip' }, upperThreshold: 100, lowerThreshold: 50 }),
        real('10.21.0.2', 443, { forward: 'tunnel', tunnel: { type: 'gue', port: 6080, csum: 'remote' } }),
        real('10.21.0.3', 443, { forward: 'tunnel', tunnel: { type: 'gre', csum: 'checksum' } }),
      ],
    },
    {
      service: { ...tcp('10.11.0.2', 53, 'rr', { flags: { ...NO_FLAGS, onePacket: true } }), id: { kind: 'addr', family: 4, protocol: 'UDP', address: '10.11.0.2', port: 53 } },
      destinations: [real('10.21.1.1', 53)],
    },
    {
      service: { ...tcp('10.11.0.3', 3868, 'wlc'), id: { kind: 'addr', family: 4, protocol: 'SCTP', address: '10.11.0.3', port: 3868 } },
      destinations: [real('10.21.2.1', 3868, { forward: 'droute' })],
    },
    {
      service: tcp('2001:db8::80', 80, 'mh', { flags: { ...NO_FLAGS, persistent: true, shFallback: true }, timeoutS: 30, netmask: '64' }),
      destinations: [real('2001:db8:1::1', 8080), real('2001:db8:1::2', 80, { forward: 'droute', weight: 5, upperThreshold: 9 })],
    },
    {
      service: { ...tcp('10.0.0.0', 0, 'lc', { flags: { ...NO_FLAGS, persistent: true }, timeoutS: 300 }), id: { kind: 'fwmark', family: 4, mark: 42 } },
      destinations: [real('10.22.0.1', 0, { forward: 'droute' })],
    },
    {
      service: { ...tcp('::', 0, 'wrr'), id: { kind: 'fwmark', family: 6, mark: 43 } },
      destinations: [real('2001:db8:2::1', 0, { forward: 'droute', weight: 3 })],
    },
  );
  return { services };
}

function addOps(t: IpvsTable): IpvsOp[] {
  return t.services.flatMap((s) => [{ op: 'add-service', service: s.service } as IpvsOp, ...s.destinations.map((dest): IpvsOp => ({ op: 'add-dest', service: s.service.id, dest }))]);
}

test('ipvs-ts → ipvsadm: every scheduler, NAT/DR/TUN, IPv4/IPv6, fwmark, persistence, flags, thresholds read back exactly', async () => {
  sh('ipvsadm -C');
  const table = richTable();
  await applyAll(addOps(table));
  assert.deepEqual(ipvsadmRules(), tableRules(table));
  assert.deepEqual(ipvsadmThresholds(), tableThresholds(table));
});

test('ipvs-ts list is laid out exactly like ipvsadm -Ln --exact, with --stats and --rate too', async () => {
  const info = await client.info();
  const table = sortListing(await client.listing(true));
  assert.equal(formatListing(info, table).toString(), sh('ipvsadm -Ln --exact'));
  // No traffic flows here, so the counters are the same for both reads.
  assert.equal(formatListing(info, table, 'stats').toString(), sh('ipvsadm -Ln --stats --exact'));
  assert.equal(formatListing(info, table, 'rate').toString(), sh('ipvsadm -Ln --rate --exact'));
});

test('ipvsadm → ipvs-ts: what ipvsadm-restore programs, ipvs-ts reads back identically', async () => {
  const rules = ipvsadmRules();
  sh('ipvsadm -C');
  sh('ipvsadm-restore', rules.join('\n') + '\n');
  const back = await client.table();
  assert.deepEqual(tableRules(back), rules);
  assert.deepEqual(tableThresholds(back), ipvsadmThresholds());
});

test('an unknown service has an empty destination dump, and a single-service read gives undefined', async () => {
  const unknown = { kind: 'addr', family: 4, protocol: 'TCP', address: '192.0.2.99', port: 1 } as const;
  assert.deepEqual(await client.destinations(unknown), []);
  assert.equal(await client.service(unknown), undefined);
  const [first] = await client.services();
  assert.ok(first);
  assert.deepEqual(await client.service(first.id), first);
});

test('reconciler against a live table: minimal plans, idempotent, repairs drift, leaves foreign services alone', async () => {
  sh('ipvsadm -C');
  sh('ipvsadm -A -t 192.0.2.200:25 -s rr && ipvsadm -a -t 192.0.2.200:25 -r 10.99.0.1:25 -m');
  const foreign = ipvsadmRules();
  const stateFile = join(mkdtempSync(join(tmpdir(), 'ipvs-state-')), 'state.json');
  const web = tcp('192.0.2.1', 80, 'wrr');
  const mark = { ...tcp('0.0.0.0', 0, 'rr'), id: { kind: 'fwmark', family: 4, mark: 7 } } as const;
  const base: IpvsTable = {
    services: [
      { service: web, destinations: [real('10.0.1.1', 80, { weight: 1 }), real('10.0.1.2', 80, { weight: 2 }), real('10.0.1.3', 80, { weight: 3 })] },
      { service: mark, destinations: [real('10.0.2.1', 0, { forward: 'droute' }), real('10.0.2.2', 0, { forward: 'droute' })] },
    ],
  };
  const step = async (desired: IpvsTable): Promise<string[]> => {
    const r = await reconcile(client, desired, { stateFile });
    assert.deepEqual(r.failed, []);
    assert.deepEqual(ipvsadmRules(), [...foreign, ...tableRules(desired)].sort());
    return r.plan.map((o) => o.op);
  };
  assert.deepEqual(await step(base), ['add-service', 'add-dest', 'add-dest', 'add-dest', 'add-service', 'add-dest', 'add-dest']);
  assert.deepEqual(await step(base), []);

  const reweighted: IpvsTable = { services: [{ ...base.services[0]!, destinations: [real('10.0.1.1', 80), real('10.0.1.2', 80, { weight: 7 }), real('10.0.1.3', 80, { weight: 3 })] }, base.services[1]!] };
  assert.deepEqual(await step(reweighted), ['edit-dest']);

  const removed: IpvsTable = { services: [{ ...reweighted.services[0]!, destinations: reweighted.services[0]!.destinations.slice(0, 2) }, base.services[1]!] };
  assert.deepEqual(await step(removed), ['del-dest']);

  const added: IpvsTable = { services: [...removed.services, { service: tcp('2001:db8::1', 443, 'wlc'), destinations: [real('2001:db8::10', 443)] }] };
  assert.deepEqual(await step(added), ['add-service', 'add-dest']);

  // Someone wipes the table: everything of ours comes back (the foreign service is gone too, by their hand).
  sh('ipvsadm -C');
  sh('ipvsadm -A -t 192.0.2.200:25 -s rr && ipvsadm -a -t 192.0.2.200:25 -r 10.99.0.1:25 -m');
  assert.deepEqual(await step(added), ['add-service', 'add-dest', 'add-dest', 'add-service', 'add-dest', 'add-dest', 'add-service', 'add-dest']);

  // Someone edits a weight and a scheduler by hand: exactly those two are put back.
  sh('ipvsadm -e -t 192.0.2.1:80 -r 10.0.1.1:80 -m -w 50 && ipvsadm -E -f 7 -s wlc');
  assert.deepEqual((await step(added)).sort(), ['edit-dest', 'edit-service']);

  // A service that leaves the config is deleted because we own it; the foreign one stays.
  assert.deepEqual(await step({ services: added.services.slice(1) }), ['del-service']);
});

test('error paths: unknown scheduler, destination of a missing service, invalid netmask → errno, clear message, table unchanged', async () => {
  const before = ipvsadmRules();
  const missing = tcp('192.0.2.77', 80);
  const cases: [IpvsOp, string, RegExp][] = [
    [{ op: 'add-service', service: tcp('192.0.2.50', 80, 'nosuchsched') }, 'ENOENT', /no scheduler "nosuchsched"/],
    [{ op: 'add-dest', service: missing.id, dest: real('10.0.0.1', 80) }, 'ESRCH', /virtual service does not exist/],
    [{ op: 'add-service', service: tcp('2001:db8::50', 80, 'rr', { flags: { ...NO_FLAGS, persistent: true }, timeoutS: 60, netmask: '129' }) }, 'EINVAL', /persistence netmask/],
  ];
  for (const [op, errno, message] of cases) {
    const r = await client.apply([op]);
    assert.equal(r.applied.length, 0);
    assert.equal(r.failed.length, 1);
    assert.equal(r.failed[0]!.error.errno, errno);
    assert.match(r.failed[0]!.error.message, message);
    assert.doesNotMatch(r.failed[0]!.error.message, /\n|at .*\.ts/);
  }
  assert.deepEqual(ipvsadmRules(), before);
});

test('ipvs apply -f twice: the second run changes nothing; ipvs list matches ipvsadm', async () => {
  sh('ipvsadm -C');
  const dir = mkdtempSync(join(tmpdir(), 'ipvs-apply-'));
  const conf = join(dir, 'keepalived.conf');
  writeFileSync(
    conf,
    `virtual_server_group WEB {\n  10.50.0.1-3 80\n  fwmark 9\n}\nvirtual_server group WEB {\n  lb_algo wlc\n  lb_kind DR\n  protocol TCP\n  persistence_timeout 120\n  real_server 10.60.0.1 80 {\n    weight 2\n  }\n  real_server 10.60.0.2 80 {\n    weight 4\n  }\n}\n` +
      `virtual_server 10.50.1.1 443 {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  real_server 10.60.1.1 8443 {\n    weight 1\n    uthreshold 100\n  }\n}\n`,
  );
  const state = join(dir, 'state.json');
  // In-process: a node start costs seconds under TCG; bin/ipvs-ts.js is a thin wrapper around these.
  const { runIpvsApply } = await import('../../../src/cli/ipvs-apply-run.ts');
  const { runIpvsList } = await import('../../../src/cli/ipvs-list-run.ts');
  const capture = (): Writable & { text: string } => {
    const w = new Writable({ write: (chunk, _enc, done) => ((w.text += String(chunk)), done()) }) as Writable & { text: string };
    w.text = '';
    return w;
  };
  const run = async (dryRun = false): Promise<{ code: number; out: string }> => {
    const out = capture();
    const code = await runIpvsApply({ file: conf, state, dryRun }, out, capture());
    return { code, out: out.text };
  };
  const first = await run();
  assert.equal(first.code, 0);
  assert.match(first.out, /14 of 14 changes applied/);
  assert.match((await run(true)).out, /dry run: the kernel already matches/);
  assert.match((await run()).out, /no changes/);
  const list = capture();
  assert.equal(await runIpvsList({}, list), 0);
  assert.equal(list.text, sh('ipvsadm -Ln'));
  assert.match(sh('ipvsadm -Sn'), /-A -f 9 -s wlc -p 120/);
  assert.match(sh('ipvsadm -Ln --thresholds'), /10\.60\.1\.1:8443\s+100\s+0\s/);
});

test('timeouts, zeroing and the connection sync daemon agree with ipvsadm', async () => {
  await client.setTimeouts({ tcp: 901, tcpFin: 121, udp: 301 });
  assert.deepEqual(await client.timeouts(), { tcp: 901, tcpFin: 121, udp: 301 });
  assert.match(sh('ipvsadm -L --timeout'), /Timeout \(tcp tcpfin udp\): 901 121 301/);
  await client.setTimeouts({ tcp: 900, tcpFin: 120, udp: 300 });
  await client.zero();

  sh('ip link add ipvst-s0 type veth peer name ipvst-s1 && ip link set ipvst-s0 up && ip link set ipvst-s1 up');
  try {
    await client.startDaemon({ state: 'master', interface: 'ipvst-s0', syncId: 7, port: 8850, ttl: 2 });
    assert.deepEqual(await client.daemons(), [{ state: 'master', interface: 'ipvst-s0', syncId: 7, maxlen: 1472, group: '224.0.0.81', port: 8850, ttl: 2 }]);
    assert.match(sh('ipvsadm -L --daemon'), /master sync daemon \(mcast=ipvst-s0, syncid=7/);
    await client.stopDaemon('master');
    assert.deepEqual(await client.daemons(), []);
  } finally {
    sh('ip link del ipvst-s0');
  }
});
