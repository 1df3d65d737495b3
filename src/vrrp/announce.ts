// The packets a new master sends so neighbours update their caches at once: a gratuitous ARP request for each
// IPv4 address (sent on an AF_PACKET socket, which adds the Ethernet header) and an unsolicited neighbour
// advertisement for each IPv6 address (sent on an ICMPv6 raw socket, which fills in the checksum). Both are laid
// out as keepalived's vrrp_arp.c / vrrp_ndisc.c do.
import { AF_INET6, AF_PACKET, ETH_P_ARP, IPPROTO_ICMPV6, IPV6_MULTICAST_HOPS, IPV6_MULTICAST_IF, SOCK_DGRAM, SOCK_RAW, SOL_IPV6 } from '../sys/constants.ts';
import { inetFamily, inetPton } from '../sys/inet.ts';
import { sys } from '../sys/native.ts';
import { DatagramSocket } from '../sys/socket.ts';

export const BROADCAST_MAC = Buffer.from('ffffffffffff', 'hex');
export const ALL_NODES = 'ff02::1';

export function macBytes(mac: string): Buffer {
  return Buffer.from(mac.replace(/:/g, ''), 'hex');
}

/** ARP request with sender and target protocol address both the VIP and target hardware address broadcast. */
export function gratuitousArp(mac: Buffer, address: string): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt16BE(1, 0); // Ethernet
  b.writeUInt16BE(0x0800, 2);
  b[4] = 6;
  b[5] = 4;
  b.writeUInt16BE(1, 6); // request
  mac.copy(b, 8);
  inetPton(address).copy(b, 14);
  BROADCAST_MAC.copy(b, 18);
  inetPton(address).copy(b, 24);
  return b;
}

/** ICMPv6 neighbour advertisement (type 136) with the Override flag and a target link-layer address option. */
export function unsolicitedNa(mac: Buffer, address: string, router = false): Buffer {
  const b = Buffer.alloc(32);
  b[0] = 136;
  b.writeUInt32BE(((router ? 0x80000000 : 0) | 0x20000000) >>> 0, 4);
  inetPton(address).copy(b, 8);
  b[24] = 2; // target link-layer address
  b[25] = 1; // in units of 8 octets
  mac.copy(b, 26);
  return b;
}

/** Sends the announcements on one interface: AF_PACKET for ARP, an ICMPv6 raw socket for NA. */
export class Announcer {
  readonly #ifname: string;
  #ifindex: number;
  readonly #mac: Buffer;
  #arp: DatagramSocket | undefined;
  #icmp6: DatagramSocket | undefined;

  constructor(ifname: string, mac: Buffer) {
    this.#ifname = ifname;
    this.#ifindex = sys().ifNameToIndex(ifname);
    this.#mac = mac;
  }

  /** The interface was made again (a VMAC deleted under us): sends on the new link from now on. */
  reopen(): void {
    this.close();
    this.#arp = undefined;
    this.#icmp6 = undefined;
    this.#ifindex = sys().ifNameToIndex(this.#ifname);
  }

  announce(address: string): void {
    if (inetFamily(address) === 4) {
      this.#arp ??= DatagramSocket.open(AF_PACKET, SOCK_DGRAM, 0);
      this.#arp.send(gratuitousArp(this.#mac, address), { family: 'packet', protocol: ETH_P_ARP, ifindex: this.#ifindex, addr: BROADCAST_MAC });
    } else {
      if (this.#icmp6 === undefined) {
        this.#icmp6 = DatagramSocket.open(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
        this.#icmp6.setOption(SOL_IPV6, IPV6_MULTICAST_HOPS, 255);
        this.#icmp6.setOption(SOL_IPV6, IPV6_MULTICAST_IF, this.#ifindex);
      }
      this.#icmp6.send(unsolicitedNa(this.#mac, address), { family: 6, address: ALL_NODES, port: 0, scopeId: this.#ifindex });
    }
  }

  close(): void {
    this.#arp?.close();
    this.#icmp6?.close();
  }
}
