// heartbeat's three files as data: ha.cf directives, haresources resource groups, authkeys' active key. Reading
// only; heartbeat.ts decides what each means for VRRP.
import { isIPv4, isIPv6 } from 'node:net';

export interface Directive {
  readonly line: number;
  readonly key: string;
  readonly args: readonly string[];
}

/** Lines with `\` continuations joined and `#` comments removed, each with its first line's number. */
function lines(text: string): { line: number; words: string[] }[] {
  const out: { line: number; words: string[] }[] = [];
  const raw = text.split(/\r?\n/);
  for (let i = 0; i < raw.length; i++) {
    const start = i + 1;
    let s = raw[i] as string;
    while (s.endsWith('\\') && i + 1 < raw.length) s = `${s.slice(0, -1)} ${raw[++i]}`;
    const words = (s.split('#')[0] ?? '').trim().split(/\s+/).filter(Boolean);
    if (words.length) out.push({ line: start, words });
  }
  return out;
}

export function readHaCf(text: string): Directive[] {
  return lines(text).map(({ line, words: [key, ...args] }) => ({ line, key: (key as string).toLowerCase(), args }));
}

/** A heartbeat time: seconds, or with an `ms`/`us`/`s` suffix; undefined when malformed. */
export function heartbeatSeconds(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|us|s)?$/.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 'us' ? n / 1e6 : n;
}

export interface VipResource {
  readonly kind: 'vip';
  readonly address: string;
  readonly family: 4 | 6;
  /** Absent: heartbeat took the interface's own netmask. */
  readonly prefix?: number;
  readonly dev?: string;
  readonly label?: string;
  readonly broadcast?: string;
  readonly text: string;
}

export interface ScriptResource {
  readonly kind: 'script';
  /** The resource agent's name: /etc/ha.d/resource.d/NAME or /etc/init.d/NAME. */
  readonly name: string;
  readonly args: readonly string[];
  readonly text: string;
}

export type Resource = VipResource | ScriptResource;

export interface ResourceGroup {
  readonly line: number;
  /** The preferred node: the one that holds the group when it is up. */
  readonly node: string;
  readonly resources: readonly Resource[];
  readonly text: string;
}

/** Each haresources line: `node resource…`; an error string for a resource that cannot be read. */
export function readHaresources(text: string): { groups: ResourceGroup[]; errors: { line: number; message: string }[] } {
  const groups: ResourceGroup[] = [];
  const errors: { line: number; message: string }[] = [];
  for (const { line, words: [node, ...rest] } of lines(text)) {
    const resources: Resource[] = [];
    for (const r of rest) {
      const parsed = resource(r);
      if (typeof parsed === 'string') errors.push({ line, message: `${r}: ${parsed}` });
      else resources.push(parsed);
    }
    groups.push({ line, node: node as string, resources, text: [node, ...rest].join(' ') });
  }
  return { groups, errors };
}

const IP_AGENTS = new Set(['IPaddr', 'IPaddr2']);

function resource(text: string): Resource | string {
  // `Agent::arg1::arg2`; a bare address is IPaddr's, as heartbeat reads it. IPv6addr keeps its colons.
  const sep = text.indexOf('::');
  const name = sep < 0 ? text : text.slice(0, sep);
  if (name === 'IPv6addr') return vip(text.slice(sep + 2), 6, text);
  if (IP_AGENTS.has(name)) return vip(text.slice(sep + 2).split('::')[0] ?? '', 4, text);
  if (sep < 0 && /^\d+\.\d+\.\d+\.\d+(\/|$)/.test(text)) return vip(text, 4, text);
  return { kind: 'script', name, args: sep < 0 ? [] : text.slice(sep + 2).split('::'), text };
}

/** `ADDR[/PREFIX-or-NETMASK[/NIC[:LABEL][/BROADCAST]]]` (IPaddr, IPaddr2) or `ADDR[/PREFIX[/NIC]]` (IPv6addr). */
function vip(arg: string, family: 4 | 6, text: string): VipResource | string {
  const [address = '', mask, nic, broadcast] = arg.split('/');
  if (family === 4 ? !isIPv4(address) : !isIPv6(address)) return `not an IPv${family} address: ${address}`;
  let prefix: number | undefined;
  if (mask !== undefined && mask !== '') {
    prefix = /^\d+$/.test(mask) ? Number(mask) : isIPv4(mask) ? netmaskBits(mask) : undefined;
    if (prefix === undefined || prefix > (family === 4 ? 32 : 128)) return `bad netmask ${mask}`;
  }
  const [dev, label] = nic ? (nic.includes(':') ? [nic.slice(0, nic.indexOf(':')), nic] : [nic, undefined]) : [undefined, undefined];
  if (broadcast !== undefined && !isIPv4(broadcast)) return `bad broadcast address ${broadcast}`;
  return {
    kind: 'vip', address, family, text,
    ...(prefix !== undefined ? { prefix } : {}), ...(dev ? { dev } : {}), ...(label ? { label } : {}), ...(broadcast ? { broadcast } : {}),
  };
}

function netmaskBits(mask: string): number | undefined {
  const n = mask.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const inv = ~n >>> 0;
  if ((inv & (inv + 1)) !== 0) return undefined;
  return 32 - Math.log2(inv + 1);
}

export interface AuthKey {
  readonly line: number;
  readonly method: string;
  readonly secret: string;
}

/** The key `auth N` selects; undefined when the file selects none. */
export function readAuthkeys(text: string): { key?: AuthKey; error?: string } {
  const all = lines(text);
  const auth = all.find((l) => l.words[0] === 'auth');
  if (!auth) return { error: 'no `auth N` line selects a key' };
  const id = auth.words[1];
  const key = all.find((l) => l.words[0] === id);
  if (!key) return { error: `auth ${id}: no key ${id} in the file` };
  return { key: { line: key.line, method: (key.words[1] ?? '').toLowerCase(), secret: key.words.slice(2).join(' ') } };
}
