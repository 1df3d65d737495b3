// One raw IP protocol-112 socket per (interface, family), shared by every instance on that interface: joins the
// VRRP group on the right interface once a multicast instance needs it, sends with TTL/hop limit 255 and DSCP CS6
// (as keepalived), and hands each received advert over with the source, destination and TTL the receive checks need.
import {
  AF_INET, AF_INET6, IP_ADD_MEMBERSHIP, IP_MULTICAST_ALL, IP_MULTICAST_IF, IP_MULTICAST_LOOP, IP_MULTICAST_TTL,
  IP_TOS, IP_TTL, IPPROTO_VRRP, IPV6_ADD_MEMBERSHIP, IPV6_MULTICAST_HOPS, IPV6_MULTICAST_IF, IPV6_MULTICAST_LOOP,
  IPV6_RECVHOPLIMIT, IPV6_RECVPKTINFO, IPV6_UNICAST_HOPS, SO_BINDTODEVICE, SOCK_RAW, SOL_IP, SOL_IPV6, SOL_SOCKET,
} from '../sys/constants.ts';
import { decodePacketInfo, pktinfoCmsg } from '../sys/cmsg.ts';
import { inetPton } from '../sys/inet.ts';
import { sys } from '../sys/native.ts';
import { DatagramSocket } from '../sys/socket.ts';
import type { Family } from '../config/model.ts';
import { parseIpv4 } from './codec.ts';

// Not (yet) in src/sys/constants.ts.
const IP_MTU_DISCOVER = 10;
const IP_PMTUDISC_DONT = 0;
const IPV6_TCLASS = 67;
const IPV6_MULTICAST_ALL = 29;
const TOS_CS6 = 0xc0;

export interface Received {
  readonly payload: Buffer;
  readonly src: string;
  /** Destination address (the group or our unicast address). */
  readonly dst: string;
  /** TTL / hop limit; undefined if the kernel did not say. */
  readonly ttl: number | undefined;
  /** The datagram was not an IPv4 packet we could parse (counted as a length error). */
  readonly malformed: boolean;
}

export class VrrpChannel {
  readonly ifname: string;
  readonly ifindex: number;
  readonly family: Family;
  #sock: DatagramSocket;
  readonly #groups = new Set<string>();

  private constructor(ifname: string, ifindex: number, family: Family, sock: DatagramSocket) {
    this.ifname = ifname;
    this.ifindex = ifindex;
    this.family = family;
    this.#sock = sock;
  }

  static open(ifname: string, family: Family): VrrpChannel {
    const ifindex = sys().ifNameToIndex(ifname);
    const sock = DatagramSocket.open(family === 4 ? AF_INET : AF_INET6, SOCK_RAW, IPPROTO_VRRP);
    try {
      sock.setOption(SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${ifname}\0`));
      if (family === 4) {
        sock.setOption(SOL_IP, IP_MULTICAST_ALL, 0);
        sock.setOption(SOL_IP, IP_MULTICAST_IF, Buffer.concat([Buffer.alloc(4), mreqn('0.0.0.0', ifindex)]));
        sock.setOption(SOL_IP, IP_MULTICAST_TTL, 255);
        sock.setOption(SOL_IP, IP_TTL, 255);
        sock.setOption(SOL_IP, IP_MULTICAST_LOOP, 0);
        sock.setOption(SOL_IP, IP_TOS, TOS_CS6);
        sock.setOption(SOL_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT);
      } else {
        sock.setOption(SOL_IPV6, IPV6_MULTICAST_ALL, 0);
        sock.setOption(SOL_IPV6, IPV6_MULTICAST_IF, ifindex);
        sock.setOption(SOL_IPV6, IPV6_MULTICAST_HOPS, 255);
        sock.setOption(SOL_IPV6, IPV6_UNICAST_HOPS, 255);
        sock.setOption(SOL_IPV6, IPV6_MULTICAST_LOOP, 0);
        sock.setOption(SOL_IPV6, IPV6_TCLASS, TOS_CS6);
        sock.setOption(SOL_IPV6, IPV6_RECVHOPLIMIT, 1);
        sock.setOption(SOL_IPV6, IPV6_RECVPKTINFO, 1);
      }
    } catch (err) {
      sock.close();
      throw err;
    }
    return new VrrpChannel(ifname, ifindex, family, sock);
  }

  /** Joins a multicast group on this interface (once per group: the kernel refuses a second join). */
  join(group: string): void {
    if (this.#groups.has(group)) return;
    if (this.family === 4) this.#sock.setOption(SOL_IP, IP_ADD_MEMBERSHIP, Buffer.concat([inetPton(group), mreqn('0.0.0.0', this.ifindex)]));
    else {
      const mreq = Buffer.alloc(20);
      inetPton(group).copy(mreq, 0);
      mreq.writeUInt32LE(this.ifindex, 16);
      this.#sock.setOption(SOL_IPV6, IPV6_ADD_MEMBERSHIP, mreq);
    }
    this.#groups.add(group);
  }

  onPacket(handler: (r: Received) => void): void {
    this.#sock.onMessage((d) => {
      if (this.family === 4) {
        const ip = parseIpv4(d.data);
        if (ip === undefined) return handler({ payload: d.data, src: '0.0.0.0', dst: '0.0.0.0', ttl: undefined, malformed: true });
        return handler({ payload: ip.payload, src: ip.src, dst: ip.dst, ttl: ip.ttl, malformed: false });
      }
      const info = decodePacketInfo(d.control);
      const src = d.from?.family === 6 ? d.from.address : '::';
      handler({ payload: d.data, src, dst: info.destination ?? '::', ttl: info.ttl, malformed: false });
    });
  }

  /** Sends one advert from `src` (chosen through IP_PKTINFO, so receiving is not narrowed by a bind). */
  send(payload: Buffer, src: string, dst: string): void {
    const to = this.family === 4 ? { family: 4 as const, address: dst, port: 0 } : { family: 6 as const, address: dst, port: 0, scopeId: this.ifindex };
    this.#sock.send(payload, to, [pktinfoCmsg(this.family, src, this.ifindex)]);
  }

  close(): void {
    this.#sock.close();
  }
}

/** The tail of struct ip_mreqn (after the group): local address and interface index. */
function mreqn(address: string, ifindex: number): Buffer {
  const b = Buffer.alloc(8);
  inetPton(address).copy(b, 0);
  b.writeInt32LE(ifindex, 4);
  return b;
}
