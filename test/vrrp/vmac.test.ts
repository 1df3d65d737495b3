// use_vmac without a kernel: keepalived's naming and MAC rules, the macvlan and addr_gen_mode requests byte for
// byte, what an existing link of the VMAC's name leads to, the alias that marks ours and the removal of a killed run's
// VMACs, and the IGMP/MLD firewall script.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText, type Problem } from '../../src/config/index.ts';
import { decodeAttrs } from '../../src/netlink/attributes.ts';
import { NLM_F_CREATE, NLM_F_EXCL } from '../../src/netlink/message.ts';
import {
  addrGenModeRequest, decodeLinkKind, IFLA_ADDRESS, IFLA_AF_SPEC, IFLA_IFNAME, IFLA_INET6_ADDR_GEN_MODE, IFLA_INFO_DATA, IFLA_INFO_KIND, IFLA_LINK,
  IFLA_IFALIAS, IFLA_LINKINFO, IFLA_MACVLAN_MODE, linkAliasRequest, macvlanRequest, MACVLAN_MODE, RTM_DELLINK, RTM_NEWLINK, type LinkKind,
} from '../../src/netlink/rtnetlink.ts';
import type { NetlinkConnection } from '../../src/netlink/socket.ts';
import { AF_INET6 } from '../../src/sys/constants.ts';
import { vipsOf } from '../../src/vrrp/instance-settings.ts';
import { vrrpInstances } from '../../src/vrrp/instance-status.ts';
import { removeStaleVmacs, VMAC_ALIAS, vmacAction, vmacAddress } from '../../src/vrrp/vmac.ts';
import { vmacRules } from '../../src/vrrp/vmac-nft.ts';

const parse = (text: string) => parseConfigText(text, 'k.conf', { skipHostChecks: true });
const messages = (ps: Problem[]) => ps.map((p) => `${p.severity} ${p.code}: ${p.message}`);
const inst = (name: string, vrid: number, body: string, vip = '10.0.0.100/24') =>
  `vrrp_instance ${name} {\n  interface eth0\n  virtual_router_id ${vrid}\n${body}\n  virtual_ipaddress {\n    ${vip}\n  }\n}\n`;

test('the VMAC MAC: 00:00:5e:00:01:VRID for IPv4, 00:00:5e:00:02:VRID for IPv6, else as configured', () => {
  assert.equal(vmacAddress({ vrid: 51, family: 4 }), '00:00:5e:00:01:33');
  assert.equal(vmacAddress({ vrid: 7, family: 6 }), '00:00:5e:00:02:07');
  assert.equal(vmacAddress({ vrid: 255, family: 4, vmacAddress: '02:11:22:33:44:ff' }), '02:11:22:33:44:ff');
});

test('default VMAC names as keepalived makes them: vrrp.VRID, for IPv6 then vrrp6.VRID, then vrrp1.VRID …; a name given twice is an error', () => {
  const r = parse(
    inst('A', 5, '  use_vmac') + inst('B', 5, '  use_vmac\n  version 3', 'fd00::100/64') + inst('C', 6, '  use_vmac\n  version 3', 'fd00::101/64') +
      inst('D', 7, '  use_vmac vrrp.9') + inst('E', 9, '  use_vmac') + inst('F', 9, '  use_vmac\n  version 3', 'fd00::102/64'),
  );
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.config?.vrrpInstances.map((i) => i.useVmac), ['vrrp.5', 'vrrp6.5', 'vrrp.6', 'vrrp.9', 'vrrp1.9', 'vrrp6.9']);
  const dup = parse(inst('A', 5, '  use_vmac v1') + inst('B', 6, '  use_vmac v1'));
  assert.deepEqual(messages(dup.problems), ['error duplicate: vrrp_instance B: use_vmac v1 is already the VMAC of vrrp_instance A']);
});

test('vmac_xmit_base, use_vmac_addr and the rules that tie use_vmac to the rest of the instance', () => {
  const base = parse(inst('A', 5, '  use_vmac\n  vmac_xmit_base'));
  assert.deepEqual(base.problems, []);
  assert.equal(base.config?.vrrpInstances[0]?.vmacXmitBase, true);
  const alone = parse(inst('A', 5, '  vmac_xmit_base'));
  assert.deepEqual(messages(alone.problems), ['warning lenient: vrrp_instance A: vmac_xmit_base without use_vmac does nothing; ignored']);
  const unicast = parse(inst('A', 5, '  use_vmac\n  unicast_src_ip 10.0.0.1\n  unicast_peer {\n    10.0.0.2\n  }'));
  assert.match(messages(unicast.problems).join(), /unicast with use_vmac sends and receives on the base interface: vmac_xmit_base set/);
  assert.equal(unicast.config?.vrrpInstances[0]?.vmacXmitBase, true);
  const strict = parse(`global_defs {\n  vrrp_strict\n}\n${inst('A', 5, '  use_vmac\n  vmac_xmit_base\n  version 3')}`);
  assert.match(messages(strict.problems).join(), /strict mode: vmac_xmit_base is incompatible with strict mode; reset/);
  assert.equal(strict.config?.vrrpInstances[0]?.vmacXmitBase, undefined);
  const addr = parse(inst('A', 5, '  use_vmac\n  use_vmac_addr'));
  assert.match(messages(addr.problems).join(), /warning unsupported: vrrp_instance A: use_vmac_addr .* is not supported; ignored/);
});

test('with use_vmac, the VIPs of the instance family on its interface go on the VMAC (labels follow); the others stay', () => {
  const r = parse(
    'vrrp_instance A {\n  interface eth0\n  virtual_router_id 5\n  use_vmac\n  virtual_ipaddress {\n    10.0.0.100/24 label eth0:vip\n    10.1.0.100/24 dev eth1\n  }\n' +
      '  virtual_ipaddress_excluded {\n    10.0.0.101/24\n    fd00::1/64\n  }\n}\n',
  );
  const vips = vipsOf(r.config!.vrrpInstances[0]!).map((v) => `${v.address} ${v.dev}${v.label ? ` ${v.label}` : ''}`);
  assert.deepEqual(vips, ['10.0.0.100 vrrp.5 vrrp.5:vip', '10.1.0.100 eth1', '10.0.0.101 vrrp.5', 'fd00::1 eth0']);
});

test('the macvlan request: RTM_NEWLINK, CREATE|EXCL, linkinfo kind macvlan with mode private, lower link, name, MAC', () => {
  const req = macvlanRequest({ name: 'vrrp.51', parent: 3, mac: '00:00:5e:00:01:33', mode: 'private' });
  assert.equal(req.type, RTM_NEWLINK);
  assert.equal(req.flags, NLM_F_CREATE | NLM_F_EXCL);
  const p = req.payload;
  assert.deepEqual([p.readUInt8(0), p.readInt32LE(4), p.readUInt32LE(8), p.readUInt32LE(12)], [0, 0, 0, 0], 'ifinfomsg: AF_UNSPEC, new link');
  const a = decodeAttrs(p.subarray(16));
  const info = a.nested(IFLA_LINKINFO)!;
  assert.equal(info.string(IFLA_INFO_KIND), 'macvlan');
  assert.equal(info.nested(IFLA_INFO_DATA)?.u32(IFLA_MACVLAN_MODE), MACVLAN_MODE.private);
  assert.equal(a.u32(IFLA_LINK), 3);
  assert.equal(a.string(IFLA_IFNAME), 'vrrp.51');
  assert.deepEqual(a.get(IFLA_ADDRESS), Buffer.from('00005e000133', 'hex'));
  assert.equal(a.error, undefined);
  // The same bytes as iproute2 / keepalived lay them out: nested attributes carry NLA_F_NESTED.
  assert.equal(p.readUInt16LE(18), IFLA_LINKINFO | 0x8000);
});

test('addr_gen_mode none: IFLA_AF_SPEC { AF_INET6 { IFLA_INET6_ADDR_GEN_MODE u8 1 } } on the link', () => {
  const req = addrGenModeRequest(9, 1);
  assert.equal(req.payload.readInt32LE(4), 9);
  const a = decodeAttrs(req.payload.subarray(16));
  assert.equal(a.nested(IFLA_AF_SPEC)?.nested(AF_INET6)?.u8(IFLA_INET6_ADDR_GEN_MODE), 1);
});

test('a link message decodes to its kind, lower link and macvlan mode', () => {
  const req = macvlanRequest({ name: 'vm', parent: 4, mac: '02:00:00:00:00:01', mode: 'bridge' });
  const k = decodeLinkKind({ type: RTM_NEWLINK, flags: 0, seq: 0, pid: 0, payload: req.payload } as never);
  assert.deepEqual([k.link.name, k.kind, k.parent, k.macvlanMode, k.link.mac], ['vm', 'macvlan', 4, MACVLAN_MODE.bridge, '02:00:00:00:00:01']);
});

test('an existing link of the VMAC name: a private macvlan on the base is adopted (MAC fixed if need be); anything else is refused', () => {
  const spec = { name: 'vrrp.5', base: 'eth0', baseIndex: 2, mac: '00:00:5e:00:01:05' };
  const link = (o: Partial<LinkKind> & { mac?: string }): LinkKind => ({
    link: { index: 7, name: 'vrrp.5', flags: 0, up: true, lowerUp: true, operState: 'up', mtu: 1500, mac: o.mac ?? spec.mac },
    kind: 'macvlan', parent: 2, macvlanMode: MACVLAN_MODE.private, alias: VMAC_ALIAS, ...o,
  });
  assert.deepEqual(vmacAction(undefined, spec), { kind: 'create' });
  assert.deepEqual(vmacAction(link({}), spec), { kind: 'adopt', ifindex: 7, setMac: false });
  assert.deepEqual(vmacAction(link({ mac: '00:00:5e:00:01:06' }), spec), { kind: 'adopt', ifindex: 7, setMac: true });
  for (const [o, what] of [
    [{ kind: 'bridge' }, 'a bridge interface'],
    [{ kind: undefined }, 'a physical interface'],
    [{ macvlanMode: MACVLAN_MODE.bridge }, 'a macvlan (mode bridge) on link 2'],
    [{ parent: 3 }, 'a macvlan (mode private) on link 3'],
  ] as const) {
    const a = vmacAction(link(o), spec);
    assert.equal(a.kind, 'refuse');
    assert.match(a.kind === 'refuse' ? a.why : '', new RegExp(`interface vrrp\\.5 already exists and is ${what.replace(/[()]/g, '\\$&')}, not a private macvlan on eth0; ipvs-ts never takes over or deletes`));
  }
  // The look-alike keepalived makes (same kind, mode, base, name and MAC) without our alias is not ours either.
  for (const alias of [undefined, 'keepalived']) {
    const a = vmacAction(link({ alias }), spec);
    assert.equal(a.kind, 'refuse');
    assert.match(a.kind === 'refuse' ? a.why : '', /a private macvlan on eth0 without the alias "ipvs-ts VMAC" \(keepalived's\?\); ipvs-ts never takes over/);
  }
});

test('the mark of ours: IFLA_IFALIAS on the link, set by RTM_NEWLINK on its index, read back from a link message', () => {
  const req = linkAliasRequest(9, VMAC_ALIAS);
  assert.equal(req.type, RTM_NEWLINK);
  assert.equal(req.payload.readInt32LE(4), 9);
  assert.equal(decodeAttrs(req.payload.subarray(16)).string(IFLA_IFALIAS), 'ipvs-ts VMAC');
  const created = macvlanRequest({ name: 'vrrp.5', parent: 2, mac: '00:00:5e:00:01:05', mode: 'private' });
  const msg = (payload: Buffer) => ({ type: RTM_NEWLINK, flags: 0, seq: 0, pid: 0, payload }) as never;
  assert.equal(decodeLinkKind(msg(created.payload)).alias, undefined);
  assert.equal(decodeLinkKind(msg(Buffer.concat([created.payload, req.payload.subarray(16)]))).alias, VMAC_ALIAS);
});

test('a killed run\'s VMACs: ours (macvlan with the alias) not named by the configuration are deleted; look-alikes and kept names stay', async () => {
  const alias = linkAliasRequest(0, VMAC_ALIAS).payload.subarray(16);
  const linkMsg = (index: number, name: string, mode: keyof typeof MACVLAN_MODE, marked: boolean) => {
    const p = Buffer.from(macvlanRequest({ name, parent: 2, mac: '00:00:5e:00:01:05', mode }).payload);
    p.writeInt32LE(index, 4);
    return { type: RTM_NEWLINK, flags: 0, seq: 0, pid: 0, payload: marked ? Buffer.concat([p, alias]) : p };
  };
  const deleted: number[] = [];
  const nl = {
    dump: async () => [linkMsg(5, 'vrrp.5', 'private', true), linkMsg(6, 'vrrp.6', 'private', false), linkMsg(7, 'vmac7', 'private', true), linkMsg(8, 'vrrp.8', 'bridge', true)],
    request: async (r: { type: number; payload: Buffer }) => {
      assert.equal(r.type, RTM_DELLINK);
      deleted.push(r.payload.readInt32LE(4));
      return [];
    },
  } as unknown as NetlinkConnection;
  const log: string[] = [];
  assert.deepEqual(await removeStaleVmacs(nl, new Set(['vmac7']), (l) => log.push(l)), ['vrrp.5', 'vrrp.8']);
  assert.deepEqual(deleted, [5, 8], 'vrrp.6 has no alias (keepalived\'s?) and vmac7 is still configured');
  assert.deepEqual(log, ['removed VMAC vrrp.5 left by an earlier run', 'removed VMAC vrrp.8 left by an earlier run']);
});

test('the IGMP/MLD firewall: per VMAC, reports are duplicated to the base and dropped; no VMAC deletes the tables', () => {
  const script = vmacRules([{ name: 'vrrp.5', base: 'eth0' }]);
  assert.match(script, /^table ip ipvs-ts-vmac \{\}\ndelete table ip ipvs-ts-vmac\ntable ip ipvs-ts-vmac \{/);
  assert.match(script, /oifname "vrrp\.5" ip protocol igmp dup to ip daddr device "eth0" drop/);
  assert.match(script, /oifname "vrrp\.5" icmpv6 type \{ mld-listener-report, mld2-listener-report \} dup to ip6 daddr device "eth0" drop/);
  assert.match(script, /oifname "vrrp\.5" icmpv6 type nd-router-solicit drop/);
  assert.equal(vmacRules([]), 'table ip ipvs-ts-vmac {}\ndelete table ip ipvs-ts-vmac\ntable ip6 ipvs-ts-vmac {}\ndelete table ip6 ipvs-ts-vmac\n');
});

test('status: an instance reports its VMAC (null without use_vmac)', () => {
  const r = parse(inst('A', 5, '  use_vmac') + inst('B', 6, ''));
  const s = vrrpInstances(r.config!, { live: undefined, views: new Map(), failure: undefined }, 0);
  assert.deepEqual(s.map((i) => [i.name, i.interface, i.vmac]), [['A', 'eth0', 'vrrp.5'], ['B', 'eth0', null]]);
});
