// virtual_server_group → VirtualServerGroup. Members are read as keepalived's alloc_vsg_entry (check_data.c) reads
// them: `fwmark N [inet|inet6]`, or an address entry `ADDRESS [PORT]` where ADDRESS is one address, a range
// (`10.0.0.1-20`, `10.0.0.1-10.0.1.5`, `2001:db8::1-2001:db8::ff`) or a CIDR block (`10.0.0.0/28`).
import { posOf, type Token } from './lexer.ts';
import type { Family, VirtualServerGroup, VirtualServerGroupMember } from './model.ts';
import type { Stmt } from './tree.ts';
import type { ArgReader } from './values.ts';
import { inetPton } from '../sys/inet.ts';

/**
 * IPVS needs one service per address, so a member covers at most this many (an IPv4 /16). keepalived steps only
 * the last 16 bits of an IPv6 range, so a wider IPv6 range would not mean what it says there either.
 */
const MAX_ADDRESSES = 65_536;

export function readVirtualServerGroup(s: Stmt, r: ArgReader): VirtualServerGroup | undefined {
  if (!r.arity(s, 1, 1, 'virtual_server_group NAME { ADDRESS[-LAST|-ADDRESS|/LEN] [PORT] | fwmark N … }')) return undefined;
  const members: VirtualServerGroupMember[] = [];
  for (const e of r.needBlock(s)) {
    r.noBlock(e);
    const m = groupMember(e, r);
    if (m) members.push(m);
  }
  if (members.length === 0) r.problems.error('missing', `virtual_server_group ${(s.args[0] as Token).text} has no members`, posOf(s.key));
  return { name: (s.args[0] as Token).text, members, pos: posOf(s.key) };
}

function groupMember(e: Stmt, r: ArgReader): VirtualServerGroupMember | undefined {
  const pos = posOf(e.key);
  if (e.key.text === 'fwmark') {
    if (!r.arity(e, 1, 2, 'fwmark N [inet|inet6]')) return undefined;
    const mark = r.integer(e.args[0] as Token, 'fwmark', 1, 0xffffffff);
    const fam = e.args[1] ? r.oneOf(e.args[1], 'address family', ['inet', 'inet6'] as const) : 'inet';
    return mark === undefined || !fam ? undefined : { kind: 'fwmark', mark, family: fam === 'inet6' ? 6 : 4, pos };
  }
  const block = addressBlock(e.key, r);
  if (!block) return undefined;
  if (!r.arity(e, 0, 1, 'ADDRESS[-LAST|-ADDRESS|/LEN] [PORT]')) return undefined;
  const port = e.args[0] ? r.portToken(e.args[0], 'virtual_server_group member') : 0;
  if (port === undefined) return undefined;
  return { kind: 'addr', address: block.address, family: block.family, port, count: block.count, pos };
}

interface AddressBlock {
  readonly address: string;
  readonly family: Family;
  readonly count: number;
}

/** One address, `FIRST-LAST` (LAST a whole address or the last byte / group), or `NET/LEN`. */
function addressBlock(t: Token, r: ArgReader): AddressBlock | undefined {
  const text = t.text;
  const slash = text.indexOf('/');
  if (slash >= 0) return cidr(t, text.slice(0, slash), text.slice(slash + 1), r);
  const dash = text.indexOf('-');
  if (dash < 0) {
    const a = r.addressToken(t, 'virtual_server_group member');
    return a && { ...a, count: 1 };
  }
  const first = r.addressToken({ ...t, text: text.slice(0, dash) }, 'virtual_server_group range start');
  if (!first) return undefined;
  const endText = text.slice(dash + 1);
  const whole = first.family === 4 ? endText.includes('.') : endText.includes(':');
  const start = toBig(first.address);
  let end: bigint;
  if (whole) {
    const last = r.addressToken({ ...t, text: endText }, 'virtual_server_group range end');
    if (!last) return undefined;
    if (last.family !== first.family) {
      r.problems.error('bad-value', `virtual_server_group range ${text}: the two ends are of different address families`, posOf(t));
      return undefined;
    }
    end = toBig(last.address);
  } else {
    // The short form replaces the last byte (IPv4) or the last 16-bit group (IPv6).
    const bits = first.family === 4 ? 8n : 16n;
    const digits = first.family === 4 ? /^\d{1,3}$/ : /^[0-9a-fA-F]{1,4}$/;
    const last = digits.test(endText) ? BigInt(first.family === 4 ? endText : `0x${endText}`) : -1n;
    if (last < 0n || last >> bits !== 0n) {
      r.problems.error('bad-value', `virtual_server_group range ${text}: '${endText}' is not a last ${first.family === 4 ? 'byte (0-255)' : 'group (0-ffff)'}`, posOf(t));
      return undefined;
    }
    end = ((start >> bits) << bits) | last;
  }
  if (end < start) {
    r.problems.error('bad-value', `virtual_server_group range ${text}: the end is before the start`, posOf(t));
    return undefined;
  }
  return bounded({ ...first, count: Number(end - start + 1n) }, start, end, t, r);
}

function cidr(t: Token, net: string, len: string, r: ArgReader): AddressBlock | undefined {
  const a = r.addressToken({ ...t, text: net }, 'virtual_server_group network');
  if (!a) return undefined;
  const bits = a.family === 4 ? 32 : 128;
  const prefix = r.integer({ ...t, text: len }, `prefix length of ${net}`, 1, bits);
  if (prefix === undefined) return undefined;
  const start = toBig(a.address);
  const host = (1n << BigInt(bits - prefix)) - 1n;
  if ((start & host) !== 0n) {
    r.problems.error('bad-value', `virtual_server_group ${t.text}: ${net} has host bits set for /${prefix} (keepalived refuses it too)`, posOf(t));
    return undefined;
  }
  return bounded({ ...a, count: host < BigInt(MAX_ADDRESSES) ? Number(host) + 1 : MAX_ADDRESSES + 1 }, start, start | host, t, r);
}

function bounded(b: AddressBlock, start: bigint, end: bigint, t: Token, r: ArgReader): AddressBlock | undefined {
  if (b.count > MAX_ADDRESSES) {
    r.problems.error('range', `virtual_server_group ${t.text} covers more than ${MAX_ADDRESSES} addresses; IPVS needs a service per address, so split it or use a fwmark`, posOf(t));
    return undefined;
  }
  if (b.family === 6 && start >> 16n !== end >> 16n) {
    r.problems.error('range', `virtual_server_group ${t.text}: an IPv6 range must stay within the last 16-bit group (keepalived steps only that group)`, posOf(t));
    return undefined;
  }
  return b;
}

function toBig(address: string): bigint {
  return BigInt(`0x${inetPton(address).toString('hex')}`);
}
