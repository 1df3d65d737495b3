// Namespace lab: use_vmac. ipvs-ts and Debian's keepalived 2.2.7 both run an instance with a VMAC on one LAN: one
// master, whose VIP sits on its vrrp.VRID macvlan and whose adverts leave with the virtual router MAC; a client's
// neighbour entry for the VIP is that MAC, and stays so (no new ARP resolution needed) through failovers either
// way. The VMAC goes when the daemon stops, is adopted (not duplicated) after kill -9, follows a reload, and an
// interface of that name that is not ipvs-ts's is refused and left alone. A VMAC deleted by hand under a running
// master is made again at once; one a killed run left is removed by the next run when its configuration no longer
// names it, and a look-alike macvlan ipvs-ts did not make survives that.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { haveCommand, instanceConf, Lab, labUnavailable, readPcap, START_MS, sleep, waitFor } from './lab.ts';
import { addrToBytes } from '../../src/vrrp/addr.ts';

const skip = labUnavailable() ?? (haveCommand('keepalived') && haveCommand('tcpdump') && haveCommand('ping') ? undefined : 'needs keepalived, tcpdump and ping (Debian packages)');
const ADV = 100;

/** Addresses on any interface of a node, as `ADDRESS dev`. */
function held(lab: Lab, node: string): string[] {
  const out = lab.sh(lab.ns(node), 'ip -o addr show');
  return [...out.matchAll(/^\d+: (\S+?)(?:@\S+)?\s+inet6? ([0-9a-f.:]+)\//gm)].map((m) => `${m[2]} ${m[1]}`);
}

/** The link of that name on a node: its index, kind and MAC; undefined if there is none. */
function link(lab: Lab, node: string, name: string): { index: number; kind: string; mac: string } | undefined {
  try {
    const j = JSON.parse(lab.sh(lab.ns(node), `ip -d -j link show dev ${name} 2>/dev/null`)) as { ifindex: number; address: string; linkinfo?: { info_kind?: string } }[];
    const l = j[0];
    return l ? { index: l.ifindex, kind: l.linkinfo?.info_kind ?? '', mac: l.address } : undefined;
  } catch {
    return undefined;
  }
}

function ping(lab: Lab, addr: string): boolean {
  try {
    lab.sh(lab.ns('client'), `ping -c 1 -W 1 ${addr} >/dev/null`);
    return true;
  } catch {
    return false;
  }
}

/** The client's neighbour entry for an address: its MAC, or undefined when it has none (or it failed). */
function neighbour(lab: Lab, addr: string): string | undefined {
  return /lladdr (\S+)/.exec(lab.sh(lab.ns('client'), `ip neigh show ${addr} dev eth0`))?.[1];
}

const mac = (frame: Buffer, at: number) => Array.from(frame.subarray(at, at + 6), (b) => b.toString(16).padStart(2, '0')).join(':');

test('use_vmac with keepalived as the peer: the VIP is on the VMAC, answered with the virtual MAC, through failovers both ways', { skip }, async (t) => {
  const lab = new Lab('vmac');
  t.after(() => lab.cleanup());
  lab.setup({ d1: ['10.82.0.1/24'], d2: ['10.82.0.2/24'], client: ['10.82.0.9/24'] });
  const VIP = '10.82.0.100';
  const VMAC = '00:00:5e:00:01:3d';
  const conf = (priority: number) => instanceConf({ vrid: 61, priority, advert: ADV / 1000, vips: [`${VIP}/24`], extra: '  use_vmac' });
  const cap = await lab.capture('vmac', 'ip proto 112 or arp or igmp');

  const ts = lab.ipvsTs('d1', conf(150));
  await waitFor('ipvs-ts master with the VIP on vrrp.61', () => held(lab, 'd1').includes(`${VIP} vrrp.61`), START_MS).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails()}`);
  });
  assert.deepEqual(link(lab, 'd1', 'vrrp.61')?.kind, 'macvlan');
  assert.equal(link(lab, 'd1', 'vrrp.61')?.mac, VMAC);
  assert.match(lab.sh(lab.ns('d1'), 'ip -d link show dev vrrp.61'), /macvlan mode private/);
  assert.equal(lab.sh(lab.ns('d1'), 'cat /proc/sys/net/ipv4/conf/eth0/arp_ignore /proc/sys/net/ipv4/conf/eth0/arp_announce /proc/sys/net/ipv4/conf/vrrp.61/rp_filter').trim(), '1\n2\n0');
  // keepalived 2.2.7 leaves its base's arp_announce at 0, so its replies from the VIP make the base ask ARP with the
  // VIP as sender and the base's MAC, and the client's entry for the VIP becomes that MAC (see docs/vrrp.md):
  // give its node what ipvs-ts sets for itself, so the client's entry can be checked through both failovers.
  lab.sh(lab.ns('d2'), 'sysctl -qw net.ipv4.conf.eth0.arp_announce=2');
  const ka = lab.keepalived('d2', conf(100));
  await waitFor('keepalived backup', () => lab.entered(ka, 'BACKUP') > 0, START_MS);
  await waitFor('keepalived made its VMAC', () => link(lab, 'd2', 'vrrp.61') !== undefined, START_MS);
  await sleep(10 * ADV);
  assert.equal(lab.entered(ka, 'MASTER'), 0, `keepalived hears the ipvs-ts master through its VMAC\n${lab.logTails()}`);
  assert.ok(ping(lab, VIP), 'the client reaches the VIP');
  assert.equal(neighbour(lab, VIP), VMAC, "the client's neighbour entry is the virtual router MAC");

  // ipvs-ts stops: keepalived takes over, the client reaches the VIP with the neighbour entry it has.
  assert.equal(await lab.stop(ts), 0);
  assert.equal(link(lab, 'd1', 'vrrp.61'), undefined, 'the VMAC is gone after stop');
  assert.equal(lab.sh(lab.ns('d1'), 'cat /proc/sys/net/ipv4/conf/eth0/arp_ignore /proc/sys/net/ipv4/conf/eth0/arp_announce').trim(), '0\n0', "the base's ARP settings are restored");
  await waitFor('keepalived master', () => held(lab, 'd2').includes(`${VIP} vrrp.61`), START_MS);
  assert.equal(neighbour(lab, VIP), VMAC);
  await waitFor('the client reaches the VIP on keepalived', () => ping(lab, VIP), START_MS, 100);
  assert.equal(neighbour(lab, VIP), VMAC, 'no ARP change after the failover to keepalived');

  // ipvs-ts comes back with the higher priority and preempts: the client's entry still does not change.
  const ts2 = lab.ipvsTs('d1', conf(150), 'ipvs-ts-d1-2');
  await waitFor('ipvs-ts master again', () => held(lab, 'd1').includes(`${VIP} vrrp.61`) && !held(lab, 'd2').includes(`${VIP} vrrp.61`), START_MS);
  await waitFor('the client reaches the VIP on ipvs-ts', () => ping(lab, VIP), START_MS, 100);
  assert.equal(neighbour(lab, VIP), VMAC, 'no ARP change after the failover to ipvs-ts');

  // kill -9: the VMAC stays; keepalived takes over; the next run adopts the same link instead of making another.
  const before = link(lab, 'd1', 'vrrp.61');
  ts2.child.kill('SIGKILL');
  await ts2.exited;
  await waitFor('keepalived master after the kill', () => lab.entered(ka, 'MASTER') >= 2, START_MS);
  const ts3 = lab.ipvsTs('d1', conf(150), 'ipvs-ts-d1-3');
  await waitFor('ipvs-ts master after the restart', () => lab.entered(ts3, 'MASTER') > 0 && held(lab, 'd1').includes(`${VIP} vrrp.61`), START_MS);
  assert.match(lab.readLog(ts3), /adopted VMAC vrrp\.61 on eth0/);
  assert.equal(link(lab, 'd1', 'vrrp.61')?.index, before?.index, 'the same link, adopted');
  assert.equal(lab.sh(lab.ns('d1'), 'ip -o link show type macvlan').trim().split('\n').length, 1, 'one macvlan');
  await waitFor('the client reaches the VIP', () => ping(lab, VIP), START_MS, 100);
  assert.equal(neighbour(lab, VIP), VMAC);

  // On the wire: every advert and gratuitous ARP for the VIP left from the virtual router MAC, from either daemon.
  await lab.stop(ts3);
  const frames = readPcap(cap.pcap);
  await cap.stop();
  const adverts = frames.filter((f) => f.frame.readUInt16BE(12) === 0x0800 && f.frame[23] === 112);
  assert.ok(adverts.length > 10);
  assert.deepEqual([...new Set(adverts.map((f) => mac(f.frame, 6)))], [VMAC], 'adverts come from the virtual MAC');
  const garps = frames.filter((f) => f.frame.readUInt16BE(12) === 0x0806 && f.frame.readUInt16BE(20) === 1 && f.frame.subarray(28, 32).equals(Buffer.from([10, 82, 0, 100])));
  assert.ok(garps.length > 0);
  assert.deepEqual([...new Set(garps.map((f) => `${mac(f.frame, 6)} ${mac(f.frame, 22)}`))], [`${VMAC} ${VMAC}`], 'gratuitous ARPs carry the virtual MAC');
  // The VRRP group's IGMP reports leave from the base interfaces (a report from the virtual MAC would draw the master's traffic).
  const igmp = frames.filter((f) => f.frame.readUInt16BE(12) === 0x0800 && f.frame[23] === 2);
  assert.ok(igmp.length > 0, 'the joins were reported');
  assert.ok(igmp.every((f) => mac(f.frame, 6) !== VMAC), 'no IGMP report from the virtual MAC');
});

test('use_vmac: a reload that drops it moves the VIP to the interface and removes the VMAC; adding it back makes it again', { skip: labUnavailable() }, async (t) => {
  const lab = new Lab('vmrl');
  t.after(() => lab.cleanup());
  lab.setup({ d1: ['10.83.0.1/24'] });
  const VIP = '10.83.0.100';
  const conf = (extra: string) => instanceConf({ vrid: 7, priority: 150, advert: ADV / 1000, vips: [`${VIP}/24`], extra });
  const ts = lab.ipvsTs('d1', conf('  use_vmac vmac7'));
  await waitFor('VIP on vmac7', () => held(lab, 'd1').includes(`${VIP} vmac7`), START_MS).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails()}`);
  });
  assert.equal(link(lab, 'd1', 'vmac7')?.mac, '00:00:5e:00:01:07');
  lab.reload(ts, 'ipvs-ts-d1', conf(''));
  await waitFor('VIP on eth0, vmac7 gone', () => held(lab, 'd1').includes(`${VIP} eth0`) && link(lab, 'd1', 'vmac7') === undefined, START_MS);
  lab.reload(ts, 'ipvs-ts-d1', conf('  use_vmac 02:11:22:33:44'));
  await waitFor('VIP on vrrp.7', () => held(lab, 'd1').includes(`${VIP} vrrp.7`) && !held(lab, 'd1').includes(`${VIP} eth0`), START_MS);
  assert.equal(link(lab, 'd1', 'vrrp.7')?.mac, '02:11:22:33:44:07', 'five octets given: the VRID is the sixth');
  const index = link(lab, 'd1', 'vrrp.7')?.index;
  lab.reload(ts, 'ipvs-ts-d1', conf('  use_vmac'));
  await waitFor('the default MAC on the same link', () => link(lab, 'd1', 'vrrp.7')?.mac === '00:00:5e:00:01:07', START_MS);
  await waitFor('the VIP back after the restart', () => held(lab, 'd1').includes(`${VIP} vrrp.7`), START_MS);
  assert.equal(link(lab, 'd1', 'vrrp.7')?.index, index);
  // Renamed (same MAC): the new link stays down until the old one is gone (the kernel refuses two up), then comes up.
  lab.reload(ts, 'ipvs-ts-d1', conf('  use_vmac vmac7b'));
  await waitFor('VIP on vmac7b, vrrp.7 gone', () => held(lab, 'd1').includes(`${VIP} vmac7b`) && link(lab, 'd1', 'vrrp.7') === undefined, START_MS).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails()}`);
  });
  assert.match(lab.sh(lab.ns('d1'), 'ip link show dev vmac7b'), /[<,]UP[,>]/);
  assert.doesNotMatch(lab.readLog(ts), /reload rejected/);
  assert.equal(await lab.stop(ts), 0);
  assert.equal(link(lab, 'd1', 'vmac7b'), undefined);
});

test('use_vmac: a VMAC deleted by hand under the master is made again within a second; the VIP answers again, from the virtual MAC, with the same neighbour entry', { skip: labUnavailable() ?? (haveCommand('tcpdump') && haveCommand('ping') ? undefined : 'needs tcpdump and ping') }, async (t) => {
  const lab = new Lab('vmdl');
  t.after(() => lab.cleanup());
  lab.setup({ d1: ['10.86.0.1/24'], client: ['10.86.0.9/24'] });
  const VIP = '10.86.0.100';
  const VMAC = '00:00:5e:00:01:0b';
  const ts = lab.ipvsTs('d1', instanceConf({ vrid: 11, priority: 150, advert: ADV / 1000, vips: [`${VIP}/24`], extra: '  use_vmac' }));
  await waitFor('VIP on vrrp.11', () => held(lab, 'd1').includes(`${VIP} vrrp.11`), START_MS).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails()}`);
  });
  assert.match(lab.sh(lab.ns('d1'), 'ip link show dev vrrp.11'), /alias ipvs-ts VMAC/, 'marked as ours');
  await waitFor('the client reaches the VIP', () => ping(lab, VIP), START_MS, 100);
  assert.equal(neighbour(lab, VIP), VMAC);
  const before = link(lab, 'd1', 'vrrp.11');
  const cap = await lab.capture('vmdl', 'ip proto 112 or arp');

  const t0 = Date.now();
  lab.sh(lab.ns('d1'), 'ip link del vrrp.11');
  await waitFor('vrrp.11 made again with the VIP', () => {
    const l = link(lab, 'd1', 'vrrp.11');
    return l !== undefined && l.index !== before?.index && held(lab, 'd1').includes(`${VIP} vrrp.11`);
  }, START_MS, 10).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails()}`);
  });
  const tookMs = Date.now() - t0;
  // The daemon's own times (its log lines are stamped by the same clock): from `ip link del` to the link made again,
  // free of this test's polling (each poll runs `ip` twice in the namespace).
  const at = (re: RegExp) => Date.parse(re.exec(lab.readLog(ts))?.[1] ?? 'NaN');
  const noticed = at(/^(\S+) VMAC vrrp\.11 was deleted/m) - t0;
  const made = at(/^(\S+) \(VI_1\) created VMAC vrrp\.11 .*\n(?![\s\S]*created VMAC vrrp\.11)/m) - t0;
  t.diagnostic(`after ip link del: deletion seen at ${noticed} ms, VMAC made again at ${made} ms (daemon log); VMAC and VIP seen by the test at ${tookMs} ms`);
  assert.ok(made < 1000, `made again within a second (${made} ms)`);
  const again = link(lab, 'd1', 'vrrp.11');
  assert.equal(again?.kind, 'macvlan');
  assert.equal(again?.mac, VMAC);
  assert.match(lab.sh(lab.ns('d1'), 'ip -d link show dev vrrp.11'), /macvlan mode private/);
  assert.match(lab.sh(lab.ns('d1'), 'ip link show dev vrrp.11'), /alias ipvs-ts VMAC/);
  assert.match(lab.readLog(ts), /VMAC vrrp\.11 was deleted; making it again/);
  assert.equal(lab.entered(ts, 'MASTER'), 1, 'still master, no new election');
  await waitFor('the client reaches the VIP again', () => ping(lab, VIP), START_MS, 100);
  assert.equal(neighbour(lab, VIP), VMAC, 'the same neighbour entry');

  // On the new link: adverts (from a reopened socket) and the gratuitous ARPs for the VIP leave with the virtual MAC.
  await sleep(5 * ADV);
  const frames = readPcap(cap.pcap).filter((f) => f.timeMs >= t0 - 50);
  await cap.stop();
  const adverts = frames.filter((f) => f.frame.readUInt16BE(12) === 0x0800 && f.frame[23] === 112 && f.timeMs >= t0 + tookMs);
  assert.ok(adverts.length >= 2, `adverts after the VMAC came back (${adverts.length})`);
  assert.deepEqual([...new Set(adverts.map((f) => mac(f.frame, 6)))], [VMAC]);
  const garps = frames.filter((f) => f.frame.readUInt16BE(12) === 0x0806 && f.frame.readUInt16BE(20) === 1 && f.frame.subarray(28, 32).equals(Buffer.from([10, 86, 0, 100])));
  assert.ok(garps.length > 0, 'the VIP was announced again');
  assert.deepEqual([...new Set(garps.map((f) => `${mac(f.frame, 6)} ${mac(f.frame, 22)}`))], [`${VMAC} ${VMAC}`]);
  assert.equal(await lab.stop(ts), 0);
  assert.equal(link(lab, 'd1', 'vrrp.11'), undefined, 'the VMAC made again is removed on stop too');
});

test('use_vmac: after kill -9, the next run removes the VMACs its configuration no longer names (renamed, then dropped); a look-alike macvlan survives', { skip: labUnavailable() }, async (t) => {
  const lab = new Lab('vmst');
  t.after(() => lab.cleanup());
  lab.setup({ d1: ['10.87.0.1/24'] });
  const VIP = '10.87.0.100';
  const conf = (extra: string) => instanceConf({ vrid: 8, priority: 150, advert: ADV / 1000, vips: [`${VIP}/24`], extra });
  // What keepalived would have made for VRID 9 on this host: same kind, mode, base and MAC scheme, no alias.
  lab.sh(lab.ns('d1'), 'ip link add vrrp.9 link eth0 address 00:00:5e:00:01:09 type macvlan mode private');
  const kill = async (p: ReturnType<Lab['ipvsTs']>) => {
    p.child.kill('SIGKILL');
    await p.exited;
  };

  const ts1 = lab.ipvsTs('d1', conf('  use_vmac'), 'ipvs-ts-d1-1');
  await waitFor('VIP on vrrp.8', () => held(lab, 'd1').includes(`${VIP} vrrp.8`), START_MS).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails()}`);
  });
  await kill(ts1);
  assert.equal(link(lab, 'd1', 'vrrp.8')?.kind, 'macvlan', 'kill -9 leaves the VMAC');

  // Renamed: the new run makes vmac8 and removes vrrp.8.
  const ts2 = lab.ipvsTs('d1', conf('  use_vmac vmac8'), 'ipvs-ts-d1-2');
  await waitFor('VIP on vmac8, vrrp.8 gone', () => held(lab, 'd1').includes(`${VIP} vmac8`) && link(lab, 'd1', 'vrrp.8') === undefined, START_MS).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails()}`);
  });
  assert.match(lab.readLog(ts2), /removed VMAC vrrp\.8 left by an earlier run/);
  await kill(ts2);

  // Dropped: the new run holds the VIP on eth0 and removes vmac8.
  const ts3 = lab.ipvsTs('d1', conf(''), 'ipvs-ts-d1-3');
  await waitFor('VIP on eth0, vmac8 gone', () => held(lab, 'd1').includes(`${VIP} eth0`) && link(lab, 'd1', 'vmac8') === undefined, START_MS).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails()}`);
  });
  assert.match(lab.readLog(ts3), /removed VMAC vmac8 left by an earlier run/);
  assert.equal(link(lab, 'd1', 'vrrp.9')?.kind, 'macvlan', 'the look-alike is not touched');
  assert.equal(link(lab, 'd1', 'vrrp.9')?.mac, '00:00:5e:00:01:09');
  assert.equal(await lab.stop(ts3), 0);
  assert.equal(link(lab, 'd1', 'vrrp.9')?.kind, 'macvlan', 'nor on stop');
  // Named as the VMAC of an instance, the look-alike is refused, not adopted.
  const ts4 = lab.ipvsTs('d1', conf('  use_vmac vrrp.9'), 'ipvs-ts-d1-4');
  assert.notEqual(await ts4.exited, 0);
  assert.match(lab.readLog(ts4), /interface vrrp\.9 already exists and is a private macvlan on eth0 without the alias "ipvs-ts VMAC"/);
  assert.equal(link(lab, 'd1', 'vrrp.9')?.mac, '00:00:5e:00:01:09', 'and left as it was');
});

test('use_vmac: an interface of that name that ipvs-ts did not make is refused and left alone', { skip: labUnavailable() }, async (t) => {
  const lab = new Lab('vmcf');
  t.after(() => lab.cleanup());
  lab.setup({ d1: ['10.84.0.1/24'] });
  lab.sh(lab.ns('d1'), 'ip link add vrrp.9 type bridge');
  const ts = lab.ipvsTs('d1', instanceConf({ vrid: 9, priority: 150, advert: ADV / 1000, vips: ['10.84.0.100/24'], extra: '  use_vmac' }));
  const code = await ts.exited;
  assert.notEqual(code, 0);
  assert.match(lab.readLog(ts), /VRRP_VMAC_CONFLICT|interface vrrp\.9 already exists and is a bridge interface, not a private macvlan on eth0/);
  assert.equal(link(lab, 'd1', 'vrrp.9')?.kind, 'bridge', 'the bridge is still there');
});

test('use_vmac, IPv6, with keepalived as the peer: the VMAC carries 00:00:5e:00:02:VRID and the base link-local; the client keeps the virtual MAC through a VMAC deleted under the master and a failover', { skip }, async (t) => {
  const lab = new Lab('vm6');
  t.after(() => lab.cleanup());
  lab.setup({ d1: ['fd82::1/64'], d2: ['fd82::2/64'], client: ['fd82::9/64'] });
  const VIP = 'fd82::100';
  const VMAC = '00:00:5e:00:02:3e';
  const conf = (priority: number) => instanceConf({ vrid: 62, priority, advert: ADV / 1000, vips: [`${VIP}/64`], extra: '  use_vmac' });
  const cap = await lab.capture('vm6', 'ip6 proto 112');
  const ts = lab.ipvsTs('d1', conf(150));
  await waitFor('ipvs-ts master with the VIP on vrrp.62', () => held(lab, 'd1').includes(`${VIP} vrrp.62`), START_MS).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails()}`);
  });
  assert.equal(link(lab, 'd1', 'vrrp.62')?.mac, VMAC);
  const ll = lab.linkLocal('d1');
  assert.ok(held(lab, 'd1').includes(`${ll} vrrp.62`), 'the VMAC carries the base link-local address');
  assert.match(lab.sh(lab.ns('d1'), 'ip -d link show dev vrrp.62'), /addrgenmode none/);
  const ka = lab.keepalived('d2', conf(100));
  await waitFor('keepalived backup', () => lab.entered(ka, 'BACKUP') > 0, START_MS);
  await sleep(10 * ADV);
  assert.equal(lab.entered(ka, 'MASTER'), 0, `keepalived hears the ipvs-ts master\n${lab.logTails()}`);
  await waitFor('the client reaches the VIP', () => ping(lab, VIP), START_MS, 100);
  assert.equal(neighbour(lab, VIP), VMAC);

  // The VMAC deleted under the master: made again with the link-local and the VIP, adverts resume from it before
  // keepalived's master-down timer (3 × 0.1 s + skew) runs out, so keepalived stays BACKUP.
  const index = link(lab, 'd1', 'vrrp.62')?.index;
  lab.sh(lab.ns('d1'), 'ip link del vrrp.62');
  await waitFor('vrrp.62 made again with the link-local and the VIP', () => {
    const h = held(lab, 'd1');
    return link(lab, 'd1', 'vrrp.62')?.index !== index && h.includes(`${VIP} vrrp.62`) && h.includes(`${ll} vrrp.62`);
  }, START_MS).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails()}`);
  });
  await sleep(10 * ADV);
  assert.equal(lab.entered(ka, 'MASTER'), 0, `keepalived did not take over\n${lab.logTails()}`);
  await waitFor('the client reaches the VIP again', () => ping(lab, VIP), START_MS, 100);
  assert.equal(neighbour(lab, VIP), VMAC);

  assert.equal(await lab.stop(ts), 0);
  assert.equal(link(lab, 'd1', 'vrrp.62'), undefined);
  await waitFor('keepalived master', () => held(lab, 'd2').includes(`${VIP} vrrp.62`), START_MS);
  await waitFor('the client reaches the VIP on keepalived', () => ping(lab, VIP), START_MS, 100);
  assert.equal(neighbour(lab, VIP), VMAC, 'no neighbour change after the failover');
  const ads = readPcap(cap.pcap).filter((f) => f.frame.readUInt16BE(12) === 0x86dd && f.frame[20] === 112);
  await cap.stop();
  const fromD1 = ads.filter((f) => f.frame.subarray(22, 38).equals(addrToBytes(ll)));
  assert.ok(fromD1.length > 5, 'ipvs-ts sent adverts from its base link-local address');
  assert.deepEqual([...new Set(fromD1.map((f) => mac(f.frame, 6)))], [VMAC], 'with the virtual MAC');
});

test('use_vmac: vmac_xmit_base sends from the base MAC; a non-zero all.rp_filter is cleared without changing any interface, then restored', { skip: labUnavailable() ?? (haveCommand('tcpdump') ? undefined : 'needs tcpdump') }, async (t) => {
  const lab = new Lab('vmxb');
  t.after(() => lab.cleanup());
  lab.setup({ d1: ['10.85.0.1/24'] });
  const rp = () => lab.sh(lab.ns('d1'), 'cd /proc/sys/net/ipv4/conf && cat all/rp_filter default/rp_filter eth0/rp_filter').trim().split('\n').join(' ');
  lab.sh(lab.ns('d1'), 'sysctl -qw net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.default.rp_filter=1 net.ipv4.conf.eth0.rp_filter=0');
  const cap = await lab.capture('xb');
  const ts = lab.ipvsTs('d1', instanceConf({ vrid: 8, priority: 150, advert: ADV / 1000, vips: ['10.85.0.100/24'], extra: '  use_vmac\n  vmac_xmit_base' }));
  await waitFor('VIP on vrrp.8', () => held(lab, 'd1').includes('10.85.0.100 vrrp.8'), START_MS).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails()}`);
  });
  assert.equal(rp(), '0 2 2', 'all cleared; default and eth0 raised to its value, so their effective filtering is unchanged');
  assert.equal(lab.sh(lab.ns('d1'), 'cat /proc/sys/net/ipv4/conf/vrrp.8/rp_filter').trim(), '0');
  await sleep(5 * ADV);
  assert.equal(await lab.stop(ts), 0);
  assert.equal(rp(), '2 1 0', 'restored on stop');
  const frames = readPcap(cap.pcap);
  await cap.stop();
  const base = link(lab, 'd1', 'eth0')?.mac;
  const macs = new Set(frames.filter((f) => f.frame.readUInt16BE(12) === 0x0800).map((f) => mac(f.frame, 6)));
  assert.deepEqual([...macs], [base], 'adverts leave from the base interface');
});
