// Generic netlink: the genlmsghdr codec, requests addressed to a family, and family resolution through nlctrl.
//
//   const nl = NetlinkSocket.open(NETLINK_GENERIC);
//   const fam = await resolveFamily(nl, 'IPVS');          // throws NetlinkError code FAMILY_NOT_FOUND if absent
//   await nl.request(genlRequest(fam, CMD, [u32(...)], { flags: NLM_F_CREATE }));
//   const rows = (await nl.dump(genlRequest(fam, GET_CMD, []))).map(decodeGenl);
import { type Attr, type Attrs, attrsLength, decodeAttrs, string, writeAttrs } from './attributes.ts';
import { NetlinkError } from './errors.ts';
import type { NetlinkMessage } from './message.ts';
import type { NetlinkConnection, NetlinkRequest } from './socket.ts';

export const GENL_HDRLEN = 4;
export const GENL_ID_CTRL = 0x10;

export const CTRL_CMD_GETFAMILY = 3;
export const CTRL_ATTR_FAMILY_ID = 1;
export const CTRL_ATTR_FAMILY_NAME = 2;
export const CTRL_ATTR_VERSION = 3;
export const CTRL_ATTR_HDRSIZE = 4;
export const CTRL_ATTR_MAXATTR = 5;
export const CTRL_ATTR_MCAST_GROUPS = 7;
export const CTRL_ATTR_MCAST_GRP_NAME = 1;
export const CTRL_ATTR_MCAST_GRP_ID = 2;

export interface GenlFamily {
  readonly name: string;
  /** The netlink message type to address this family with. */
  readonly id: number;
  readonly version: number;
  /** Size of the family's own header after genlmsghdr (0 for most families, IPVS included). */
  readonly hdrsize: number;
  readonly maxattr: number;
  /** Multicast group name -> group id, for NetlinkSocket.subscribe. */
  readonly mcastGroups: ReadonlyMap<string, number>;
}

export interface GenlMessage {
  readonly cmd: number;
  readonly version: number;
  readonly attrs: Attrs;
}

/** genlmsghdr + attributes, ready as a NetlinkRequest payload. */
export function encodeGenl(cmd: number, version: number, attrs: readonly Attr[]): Buffer {
  const out = Buffer.alloc(GENL_HDRLEN + attrsLength(attrs));
  out.writeUInt8(cmd, 0);
  out.writeUInt8(version, 1);
  writeAttrs(out, GENL_HDRLEN, attrs);
  return out;
}

/** A request to `family` (an id or a resolved family, whose version is used). */
export function genlRequest(
  family: Pick<GenlFamily, 'id' | 'version'>,
  cmd: number,
  attrs: readonly Attr[],
  opts: { flags?: number; what?: string } = {},
): NetlinkRequest {
  return { type: family.id, payload: encodeGenl(cmd, family.version, attrs), ...opts };
}

/** Decodes a family message; `attrs.error` reports a malformed body (including a short header). */
export function decodeGenl(msg: NetlinkMessage, hdrsize = 0): GenlMessage {
  const p = msg.payload;
  if (p.length < GENL_HDRLEN + hdrsize) {
    const attrs = decodeAttrs(Buffer.alloc(0));
    attrs.fail(`generic netlink message of ${p.length} bytes is shorter than its header`);
    return { cmd: 0, version: 0, attrs };
  }
  return { cmd: p.readUInt8(0), version: p.readUInt8(1), attrs: decodeAttrs(p.subarray(GENL_HDRLEN + hdrsize)) };
}

/** CTRL_CMD_GETFAMILY by name. A family the kernel does not know rejects with code FAMILY_NOT_FOUND. */
export async function resolveFamily(nl: NetlinkConnection, name: string): Promise<GenlFamily> {
  let replies: NetlinkMessage[];
  try {
    replies = await nl.request(genlRequest({ id: GENL_ID_CTRL, version: 1 }, CTRL_CMD_GETFAMILY, [string(CTRL_ATTR_FAMILY_NAME, name)], { what: `resolve generic netlink family ${name}` }));
  } catch (err) {
    if (err instanceof NetlinkError && err.code === 'ENOENT') {
      throw new NetlinkError('FAMILY_NOT_FOUND', `generic netlink family "${name}" is not available in this kernel`, { errno: err.errno, ...(err.request ? { request: err.request } : {}) });
    }
    throw err;
  }
  const reply = replies[0];
  if (!reply) throw new NetlinkError('MALFORMED', `nlctrl sent no description of family "${name}"`);
  return decodeFamily(decodeGenl(reply).attrs, name);
}

export function decodeFamily(a: Attrs, name: string): GenlFamily {
  const id = a.u16(CTRL_ATTR_FAMILY_ID);
  const mcastGroups = new Map<string, number>();
  for (const g of a.nestedList(CTRL_ATTR_MCAST_GROUPS)) {
    const gname = g.string(CTRL_ATTR_MCAST_GRP_NAME);
    const gid = g.u32(CTRL_ATTR_MCAST_GRP_ID);
    if (gname !== undefined && gid !== undefined) mcastGroups.set(gname, gid);
  }
  const family = {
    name: a.string(CTRL_ATTR_FAMILY_NAME) ?? name,
    id: id ?? 0,
    version: a.u32(CTRL_ATTR_VERSION) ?? 0,
    hdrsize: a.u32(CTRL_ATTR_HDRSIZE) ?? 0,
    maxattr: a.u32(CTRL_ATTR_MAXATTR) ?? 0,
    mcastGroups,
  };
  if (id === undefined) a.fail('CTRL_ATTR_FAMILY_ID missing');
  if (a.error) throw new NetlinkError('MALFORMED', `bad nlctrl reply for family "${name}": ${a.error}`);
  return family;
}
