// The IPVS requests as declarative attribute lists, built the slow, obvious way (one Attr per field, as
// include/uapi/linux/ip_vs.h lists them). src/ipvs/codec.ts writes the same bytes in place; the tests compare the
// two and use these to make kernel-style replies.
import { type Attr, be16, binary, nested, string, u16, u32, u8 } from '../../src/netlink/attributes.ts';
import { inetPton } from '../../src/sys/inet.ts';
import {
  AF_INET, AF_INET6, IP_VS_CONN_F, IP_VS_SVC_F, IP_VS_TUNNEL_ENCAP_FLAG, IP_VS_TUNNEL_TYPE, IPPROTO, IPVS_CMD,
  IPVS_CMD_ATTR, IPVS_DEST_ATTR, IPVS_SVC_ATTR,
} from '../../src/ipvs/constants.ts';
import type { Family } from '../../src/config/model.ts';
import type { DestinationId, DestinationSpec, ForwardMethod, IpvsOp, ServiceId, ServiceSpec } from '../../src/ipvs/types.ts';

const FORWARD_BITS: Record<ForwardMethod, number> = {
  masq: IP_VS_CONN_F.MASQ, local: IP_VS_CONN_F.LOCALNODE, tunnel: IP_VS_CONN_F.TUNNEL, droute: IP_VS_CONN_F.DROUTE, bypass: IP_VS_CONN_F.BYPASS,
};
const af = (family: Family): number => (family === 4 ? AF_INET : AF_INET6);

export function serviceIdAttrs(id: ServiceId): Attr[] {
  if (id.kind === 'fwmark') return [u16(IPVS_SVC_ATTR.AF, af(id.family)), u32(IPVS_SVC_ATTR.FWMARK, id.mark)];
  return [u16(IPVS_SVC_ATTR.AF, af(id.family)), u16(IPVS_SVC_ATTR.PROTOCOL, IPPROTO[id.protocol]), binary(IPVS_SVC_ATTR.ADDR, inetPton(id.address)), be16(IPVS_SVC_ATTR.PORT, id.port)];
}

export function serviceAttrs(s: ServiceSpec): Attr[] {
  const f = s.flags;
  const bits = (f.persistent ? IP_VS_SVC_F.PERSISTENT : 0) | (f.onePacket ? IP_VS_SVC_F.ONEPACKET : 0) | (f.shFallback ? IP_VS_SVC_F.SCHED1 : 0) |
    (f.shPort ? IP_VS_SVC_F.SCHED2 : 0) | (f.schedFlag3 ? IP_VS_SVC_F.SCHED3 : 0);
  const flags = Buffer.alloc(8);
  flags.writeUInt32LE(bits, 0);
  flags.writeUInt32LE(IP_VS_SVC_F.PERSISTENT | IP_VS_SVC_F.ONEPACKET | IP_VS_SVC_F.SCHED1 | IP_VS_SVC_F.SCHED2 | IP_VS_SVC_F.SCHED3, 4);
  const mask = s.id.family === 4 ? inetPton(s.netmask) : Buffer.from(Uint32Array.of(Number(s.netmask)).buffer);
  const attrs = [...serviceIdAttrs(s.id), string(IPVS_SVC_ATTR.SCHED_NAME, s.scheduler), binary(IPVS_SVC_ATTR.FLAGS, flags), u32(IPVS_SVC_ATTR.TIMEOUT, s.timeoutS), binary(IPVS_SVC_ATTR.NETMASK, mask)];
  if (s.pe) attrs.push(string(IPVS_SVC_ATTR.PE_NAME, s.pe));
  return attrs;
}

export function destIdAttrs(d: DestinationId): Attr[] {
  return [binary(IPVS_DEST_ATTR.ADDR, inetPton(d.address)), be16(IPVS_DEST_ATTR.PORT, d.port), u16(IPVS_DEST_ATTR.ADDR_FAMILY, af(d.family))];
}

export function destAttrs(d: DestinationSpec): Attr[] {
  const attrs = [
    ...destIdAttrs(d), u32(IPVS_DEST_ATTR.FWD_METHOD, FORWARD_BITS[d.forward]), u32(IPVS_DEST_ATTR.WEIGHT, d.weight),
    u32(IPVS_DEST_ATTR.U_THRESH, d.upperThreshold), u32(IPVS_DEST_ATTR.L_THRESH, d.lowerThreshold),
  ];
  if (d.forward === 'tunnel') {
    const t = d.tunnel ?? { type: 'ipip' };
    const csum = t.csum === 'checksum' ? IP_VS_TUNNEL_ENCAP_FLAG.CSUM : t.csum === 'remote' ? IP_VS_TUNNEL_ENCAP_FLAG.REMCSUM : 0;
    attrs.push(u8(IPVS_DEST_ATTR.TUN_TYPE, IP_VS_TUNNEL_TYPE[t.type]), be16(IPVS_DEST_ATTR.TUN_PORT, t.port ?? 0), u16(IPVS_DEST_ATTR.TUN_FLAGS, csum));
  }
  return attrs;
}

/** The command and attributes of one plan step. */
export function opRequest(op: IpvsOp): { cmd: number; attrs: Attr[] } {
  const svc = (attrs: Attr[]): Attr => nested(IPVS_CMD_ATTR.SERVICE, attrs);
  const dst = (attrs: Attr[]): Attr => nested(IPVS_CMD_ATTR.DEST, attrs);
  switch (op.op) {
    case 'add-service':
      return { cmd: IPVS_CMD.NEW_SERVICE, attrs: [svc(serviceAttrs(op.service))] };
    case 'edit-service':
      return { cmd: IPVS_CMD.SET_SERVICE, attrs: [svc(serviceAttrs(op.service))] };
    case 'del-service':
      return { cmd: IPVS_CMD.DEL_SERVICE, attrs: [svc(serviceIdAttrs(op.id))] };
    case 'add-dest':
      return { cmd: IPVS_CMD.NEW_DEST, attrs: [svc(serviceIdAttrs(op.service)), dst(destAttrs(op.dest))] };
    case 'edit-dest':
      return { cmd: IPVS_CMD.SET_DEST, attrs: [svc(serviceIdAttrs(op.service)), dst(destAttrs(op.dest))] };
    case 'del-dest':
      return { cmd: IPVS_CMD.DEL_DEST, attrs: [svc(serviceIdAttrs(op.service)), dst(destIdAttrs(op.dest))] };
  }
}
