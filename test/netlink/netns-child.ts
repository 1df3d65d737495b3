// Runs inside a network namespace made by rtnetlink-netns.test.ts: exercises address add/list/delete on a veth
// and records the rtnetlink events it receives, then prints one JSON object for the parent to check.
import { execFileSync } from 'node:child_process';
import { NetlinkError } from '../../src/netlink/errors.ts';
import {
  addAddress, decodeRtEvent, deleteAddress, IFA_F_NODAD, listAddresses, listLinks, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_LINK, type RtEvent,
} from '../../src/netlink/rtnetlink.ts';
import { NetlinkSocket } from '../../src/netlink/socket.ts';
import { NETLINK_ROUTE } from '../../src/sys/constants.ts';

const ifname = process.argv[2] ?? 'nlt0';
const nl = NetlinkSocket.open(NETLINK_ROUTE);
const events = NetlinkSocket.open(NETLINK_ROUTE);
const seen: RtEvent[] = [];
let waiter: (() => void) | undefined;
events.subscribe([RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_LINK], (m) => {
  const e = decodeRtEvent(m);
  if (e) seen.push(e);
  waiter?.();
});

/** Waits (bounded) until an event matching `pred` has been seen. */
async function eventually(pred: (e: RtEvent) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!seen.some(pred)) {
    if (Date.now() > deadline) throw new Error(`no ${what} event within 5 s`);
    await new Promise<void>((r) => {
      waiter = r;
      setTimeout(r, 100);
    });
  }
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e instanceof NetlinkError ? `${e.code}:${e.extack ?? ''}` : String(e);
  }
}

const link = (await listLinks(nl)).find((l) => l.name === ifname);
if (!link) throw new Error(`${ifname} not found`);
const v4 = { address: '10.99.0.1', prefixLength: 24, ifindex: link.index, label: `${ifname}:vip`, broadcast: '10.99.0.255' };
const v6 = { address: 'fd00:99::1', prefixLength: 64, ifindex: link.index, flags: IFA_F_NODAD };
const out: Record<string, unknown> = { link: { name: link.name, up: link.up, operState: link.operState } };

out.add4 = await code(addAddress(nl, v4));
out.add6 = await code(addAddress(nl, v6));
out.add4again = await code(addAddress(nl, v4));
await eventually((e) => e.kind === 'newaddr' && e.address.address === v4.address, 'IPv4 newaddr');
await eventually((e) => e.kind === 'newaddr' && e.address.address === v6.address, 'IPv6 newaddr');
out.listed = (await listAddresses(nl, { ifindex: link.index }))
  .filter((a) => a.scope === 0)
  .map((a) => ({ family: a.family, address: a.address, prefixLength: a.prefixLength, label: a.label, broadcast: a.broadcast }));
out.del4 = await code(deleteAddress(nl, v4));
out.del6 = await code(deleteAddress(nl, v6));
out.del4again = await code(deleteAddress(nl, v4));
await eventually((e) => e.kind === 'deladdr' && e.address.address === v4.address, 'IPv4 deladdr');
await eventually((e) => e.kind === 'deladdr' && e.address.address === v6.address, 'IPv6 deladdr');
out.after = (await listAddresses(nl, { ifindex: link.index })).filter((a) => a.scope === 0).length;

execFileSync('ip', ['link', 'set', ifname, 'down']);
await eventually((e) => e.kind === 'newlink' && e.link.name === ifname && !e.link.up, 'link down');

out.events = seen
  .filter((e) => e.kind === 'newaddr' || e.kind === 'deladdr')
  .filter((e) => 'address' in e && e.address.scope === 0)
  .map((e) => ('address' in e ? `${e.kind} ${e.address.address}/${e.address.prefixLength}` : e.kind));
out.linkDown = true;
nl.close();
events.close();
console.log(JSON.stringify(out));
