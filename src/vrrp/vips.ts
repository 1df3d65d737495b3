// The instances' addresses in the kernel, over src/netlink's rtnetlink: added on becoming master, removed on
// leaving it. The engine runs every change through one queue (engine.ts #syncVips) so add/remove never cross.
import type { VirtualIp } from '../config/model.ts';
import { NetlinkError } from '../netlink/errors.ts';
import { addAddress, deleteAddress, IFA_F_NODAD } from '../netlink/rtnetlink.ts';
import type { NetlinkSocket } from '../netlink/socket.ts';
import { sys } from '../sys/native.ts';

export async function addVip(nl: NetlinkSocket, v: VirtualIp): Promise<void> {
  try {
    await addAddress(nl, {
      address: v.address,
      prefixLength: v.prefix,
      ifindex: sys().ifNameToIndex(v.dev),
      ...(v.label !== undefined ? { label: v.label } : {}),
      ...(v.broadcast !== undefined ? { broadcast: v.broadcast } : {}),
      ...(v.scope !== undefined ? { scope: v.scope as 'global' } : {}),
      // An IPv6 VIP must answer at once, not after duplicate address detection (keepalived adds it nodad too).
      ...(v.family === 6 ? { flags: IFA_F_NODAD } : {}),
    });
  } catch (err) {
    if (err instanceof NetlinkError && err.code === 'EEXIST') return;
    throw err;
  }
}

export async function deleteVip(nl: NetlinkSocket, v: VirtualIp): Promise<void> {
  let ifindex: number;
  try {
    ifindex = sys().ifNameToIndex(v.dev);
  } catch {
    return; // the device is gone and its addresses with it
  }
  try {
    await deleteAddress(nl, { address: v.address, prefixLength: v.prefix, ifindex });
  } catch (err) {
    if (err instanceof NetlinkError && (err.code === 'EADDRNOTAVAIL' || err.code === 'ENODEV')) return;
    throw err;
  }
}
