// What a real server behind an LVS director needs, per forwarding method, as data: the VIPs as host addresses on a
// device that never answers ARP for them, that device up, and the sysctls without which DR and TUN fail quietly.
// The director sends DR packets with the VIP as destination to the real server's MAC and TUN packets inside IPIP,
// so the real server must accept the VIP as local, yet must neither answer ARP for it (Linux answers for any local
// address on any interface by default) nor use it as the source of its own ARP requests.
import { inetFamily, inetNtop, inetPton } from '../sys/inet.ts';
import { RealServerError } from './errors.ts';

export type RealServerMode = 'dr' | 'tun';

export interface Vip {
  readonly address: string;
  readonly family: 4 | 6;
}

export interface AddressNeed extends Vip {
  readonly prefix: 32 | 128;
  readonly device: string;
}

export interface SysctlNeed {
  /** Dotted name as `sysctl` prints it, e.g. net.ipv4.conf.all.arp_ignore. */
  readonly key: string;
  /** Values that work; anything else is wrong. */
  readonly good: readonly string[];
  /** What `up` writes when the value is not good. */
  readonly set: string;
  /** What goes wrong with another value. */
  readonly why: string;
}

export interface Needs {
  readonly mode: RealServerMode;
  /** Kernel module that creates `device` when it is missing (tunl0 comes with ipip). */
  readonly module?: string;
  readonly device: string;
  readonly addresses: readonly AddressNeed[];
  readonly sysctls: readonly SysctlNeed[];
}

const ARP_IGNORE_WHY = 'this host answers ARP requests for the VIP, so the LAN can send the VIP\'s traffic here instead of to the director';
const ARP_ANNOUNCE_WHY = 'this host may use the VIP as the source of its ARP requests, and neighbours then send the VIP\'s traffic here';
const RP_FILTER_WHY = 'strict reverse-path filtering drops the decapsulated packets: their client source is not routed via tunl0';

export function parseVip(text: string): Vip {
  const family = inetFamily(text);
  if (!family) throw new RealServerError('REALSERVER_ARGUMENT', `--vip ${text}: not an IP address (give the bare address; it is added as /32 or /128)`);
  // Canonical form, so 2001:DB8:0::1 and 2001:db8::1 are one VIP in the record and in messages.
  return { address: inetNtop(inetPton(text)), family };
}

export function needs(mode: RealServerMode, vips: readonly Vip[]): Needs {
  const device = mode === 'dr' ? 'lo' : 'tunl0';
  const v6 = vips.find((v) => v.family === 6);
  // IPVS tunnels IPv6 in IPv6 through ip6tnl0, which this command does not prepare.
  if (mode === 'tun' && v6) throw new RealServerError('REALSERVER_ARGUMENT', `--vip ${v6.address}: TUN mode prepares IPIP (tunl0), which carries IPv4 VIPs only`);
  const addresses = vips.map((v): AddressNeed => ({ ...v, prefix: v.family === 4 ? 32 : 128, device }));
  // ARP is IPv4's: IPv6 neighbour discovery answers only for addresses on the receiving interface, never for lo's.
  const arp = vips.some((v) => v.family === 4);
  const sysctls: SysctlNeed[] = [];
  // The kernel uses the larger of `all` and the interface's own value; the VIP's device is set too, as the guides do.
  for (const where of ['all', device]) {
    if (arp) {
      sysctls.push({ key: `net.ipv4.conf.${where}.arp_ignore`, good: ['1', '2'], set: '1', why: ARP_IGNORE_WHY });
      sysctls.push({ key: `net.ipv4.conf.${where}.arp_announce`, good: ['2'], set: '2', why: ARP_ANNOUNCE_WHY });
    }
    // Loose mode (2) still validates the source against the whole routing table; 0 does not validate.
    if (mode === 'tun') sysctls.push({ key: `net.ipv4.conf.${where}.rp_filter`, good: ['0', '2'], set: '2', why: RP_FILTER_WHY });
  }
  return { mode, device, addresses, sysctls, ...(mode === 'tun' ? { module: 'ipip' } : {}) };
}
