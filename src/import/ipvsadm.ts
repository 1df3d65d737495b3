// ipvsadm input → the IPVS table it builds. Input is `ipvsadm -S`/`-Sn` output (ipvsadm-restore's format: lines of
// arguments) or a shell script that calls ipvsadm; the commands are replayed in order with ipvsadm's own defaults
// and rules (wlc, weight 1, DR, a -E/-e replaces every setting, DR/TUN real servers take the service's port), so the
// table is what running the input would leave. What changes no table is reported, never guessed into the config.
import { isIPv4, isIPv6 } from 'node:net';
import { inetNtop, inetPton } from '../sys/inet.ts';
import { destKey, serviceKey } from '../ipvs/identity.ts';
import type { DestinationSpec, IpvsTable, ServiceFlags, ServiceId, ServiceSpec } from '../ipvs/types.ts';
import { ArgError, type IpvsadmCommand, parseIpvsadmArgs, type ServerOptions, type ServiceArg, type ServiceOptions } from './ipvsadm-args.ts';
import type { Notes } from './notes.ts';
import type { Resolver, ServiceProtocol } from './resolve.ts';
import { readShell, type ShellCommand } from './shell.ts';

export interface ImportedService {
  readonly service: ServiceSpec;
  readonly destinations: DestinationSpec[];
  /** Where the service was added, for the comment above its virtual_server. */
  readonly line: number;
}

export interface ImportedTable extends IpvsTable {
  readonly services: ImportedService[];
  /** `ipvsadm --set tcp tcpfin udp`, when the input sets IPVS's connection timeouts (0 = unchanged). */
  readonly timeouts?: { readonly tcp: number; readonly tcpfin: number; readonly udp: number };
}

// Commands that change nothing ipvs-ts or keepalived would carry, and need no word.
const SILENT = new Set(['echo', 'printf', 'set', 'exit', 'true', ':', 'sleep', 'cd', 'return', 'fi', 'then', 'else', 'done', 'do', 'esac', '{', '}']);

/** Why a non-ipvsadm command of a director script is not imported, for the warning. */
function notImported(cmd: ShellCommand): string | undefined {
  const name = basename(cmd.words[0] as string);
  const all = [...cmd.words, ...cmd.redirects].join(' ');
  const address = name === 'ifconfig' || (name === 'ip' && /^(a|ad|add|addr|addre|addres|address)$/.test(cmd.words[1] ?? ''));
  if (/arp_ignore|arp_announce|rp_filter/.test(all) || (address && /(^| )lo(:\S*)?( |$)/.test(cmd.words.slice(1).join(' ')))) {
    return "a real server's VIP on lo and ARP settings: `ipvs-ts realserver up --vip VIP` makes them (on the real server)";
  }
  if (cmd.redirects.some((r) => r.startsWith('/proc/sys/')) || name === 'sysctl') return 'kernel settings stay in sysctl.conf (keepalived does not set them)';
  if (SILENT.has(name)) return undefined;
  if (address) return "a VIP on the director belongs in a vrrp_instance's virtual_ipaddress, where keepalived adds and removes it";
  if (name === 'route' || (name === 'ip' && /^r(o|ou|out|oute)?$/.test(cmd.words[1] ?? ''))) return 'routes stay with the network configuration';
  if (['iptables', 'ip6tables', 'nft', 'iptables-restore'].includes(name)) return 'firewall rules (NAT masquerading, fwmark marking) stay with the firewall configuration';
  if (name === 'modprobe') return 'ipvs-ts loads the IPVS modules it needs';
  return 'not an ipvsadm command';
}

export async function importIpvsadm(text: string, file: string, resolver: Resolver, notes: Notes): Promise<ImportedTable> {
  const table = new TableBuilder(file, resolver, notes);
  for (const cmd of readShell(text)) {
    const words = cmd.words[0] === 'sudo' && cmd.words.length > 1 ? cmd.words.slice(1) : cmd.words;
    const first = words[0] as string;
    const isIpvsadm = basename(first) === 'ipvsadm';
    if (!isIpvsadm && !first.startsWith('-')) {
      const why = notImported(cmd);
      if (why) notes.warn(file, cmd.line, `\`${cmd.text}\`: ${why}; not imported`);
      continue;
    }
    if (cmd.unresolved.length) {
      const names = [...new Set(cmd.unresolved)];
      notes.error(file, cmd.line, `${names.join(', ')} ${names.length > 1 ? 'are' : 'is'} not set by the script itself (or comes from a command or a loop): cannot import \`${cmd.text}\``);
      continue;
    }
    let parsed: IpvsadmCommand;
    try {
      parsed = parseIpvsadmArgs(isIpvsadm ? words.slice(1) : words);
    } catch (e) {
      if (!(e instanceof ArgError)) throw e;
      notes.error(file, cmd.line, `\`${cmd.text}\`: ${e.message}`);
      continue;
    }
    await table.apply(parsed, cmd.line);
  }
  return table.result();
}

class TableBuilder {
  readonly #file: string;
  readonly #resolver: Resolver;
  readonly #notes: Notes;
  readonly #services = new Map<string, ImportedService>();
  #timeouts: ImportedTable['timeouts'];

  constructor(file: string, resolver: Resolver, notes: Notes) {
    this.#file = file;
    this.#resolver = resolver;
    this.#notes = notes;
  }

  result(): ImportedTable {
    return { services: [...this.#services.values()], ...(this.#timeouts ? { timeouts: this.#timeouts } : {}) };
  }

  async apply(c: IpvsadmCommand, line: number): Promise<void> {
    const warn = (m: string): void => this.#notes.warn(this.#file, line, m);
    switch (c.kind) {
      case 'no-change':
        return;
      case 'clear':
        if (this.#services.size) warn(`-C clears the ${this.#services.size} service(s) defined above it; only what follows is imported`);
        this.#services.clear();
        return;
      case 'restore':
        warn('-R reads rules from its standard input, which is not part of this file; import that input itself');
        return;
      case 'set-timeouts':
        this.#timeouts = { tcp: c.tcp, tcpfin: c.tcpfin, udp: c.udp };
        warn('--set: written as lvs_timeouts in global_defs; the daemon sets them at start as keepalived does, for the whole host (ipvs-ts ipvs apply does not)');
        return;
      case 'sync-daemon':
        warn(`--${c.action}-daemon ${c.state}: keepalived runs the connection sync daemon itself and switches master/backup with a VRRP instance's state: add \`lvs_sync_daemon ${c.iface ?? 'IF'}${c.syncid !== undefined ? ` id ${c.syncid}` : ''} inst INSTANCE\` to global_defs; not imported`);
        return;
    }
    const id = await this.#serviceId(c.service, line);
    if (!id) return;
    const key = serviceKey(id);
    const existing = this.#services.get(key);
    if (c.kind === 'add-service' || c.kind === 'edit-service') {
      if (c.kind === 'add-service' && existing) return warn(`${key} exists already (ipvsadm fails here); this -A is ignored`);
      if (c.kind === 'edit-service' && !existing) return warn(`${key} does not exist (ipvsadm fails here); this -E is ignored`);
      const service = this.#serviceSpec(id, c.opts, line);
      if (!service) return;
      this.#services.set(key, existing ? { ...existing, service } : { service, destinations: [], line });
      return;
    }
    if (!existing) return warn(`${key} does not exist (ipvsadm fails here); this command is ignored`);
    if (c.kind === 'delete-service') {
      this.#services.delete(key);
      return;
    }
    await this.#server(c, existing, line);
  }

  async #server(c: Extract<IpvsadmCommand, { server: string }>, existing: ImportedService, line: number): Promise<void> {
    const warn = (m: string): void => this.#notes.warn(this.#file, line, m);
    const key = serviceKey(existing.service.id);
    const dest = await this.#destination(existing.service.id, c.server, c.kind === 'delete-server' ? {} : c.opts, line);
    if (!dest) return;
    const i = existing.destinations.findIndex((d) => destKey(d) === destKey(dest));
    if (c.kind === 'delete-server') {
      if (i < 0) return warn(`${destKey(dest)} is not a real server of ${key} (ipvsadm fails here); ignored`);
      existing.destinations.splice(i, 1);
    } else if (c.kind === 'add-server') {
      if (i >= 0) return warn(`${destKey(dest)} is already a real server of ${key} (ipvsadm fails here); this -a is ignored`);
      existing.destinations.push(dest);
    } else {
      if (i < 0) return warn(`${destKey(dest)} is not a real server of ${key} (ipvsadm fails here); this -e is ignored`);
      existing.destinations[i] = dest;
    }
  }

  async #serviceId(s: ServiceArg, line: number): Promise<ServiceId | undefined> {
    if (s.kind === 'fwmark') return { kind: 'fwmark', family: s.ipv6 ? 6 : 4, mark: s.mark };
    const ep = await this.#endpoint(s.text, s.protocol, line, 'virtual service');
    return ep && { kind: 'addr', family: ep.family, protocol: s.protocol, address: ep.address, port: ep.port ?? 0 };
  }

  #serviceSpec(id: ServiceId, o: ServiceOptions, line: number): ServiceSpec | undefined {
    const error = (m: string): undefined => void this.#notes.error(this.#file, line, `${serviceKey(id)}: ${m}`);
    if (id.kind === 'addr' && id.port === 0 && o.persistent === undefined) return error('Zero port specified for non-persistent service (ipvsadm refuses it)');
    if (o.onePacket && id.kind === 'addr' && id.protocol !== 'UDP') return error('One-Packet Scheduling is only for UDP virtual services (ipvsadm refuses it)');
    let netmask = id.family === 4 ? '255.255.255.255' : '128';
    if (o.netmask !== undefined) {
      const mask = id.family === 4 ? ipv4Netmask(o.netmask) : /^\d+$/.test(o.netmask) && Number(o.netmask) >= 1 && Number(o.netmask) <= 128 ? o.netmask : undefined;
      if (mask === undefined) return error(`-M ${o.netmask} is not ${id.family === 4 ? 'a contiguous IPv4 netmask' : 'an IPv6 prefix length (1-128)'}`);
      // The kernel keeps a mask without -p, but it has no effect and ipvsadm -S does not show it.
      if (o.persistent === undefined) this.#notes.warn(this.#file, line, `${serviceKey(id)}: -M without -p has no effect; not imported`);
      else netmask = mask;
    }
    const has = (...names: string[]): boolean => names.some((n) => o.schedFlags.includes(n));
    const flags: ServiceFlags = {
      persistent: o.persistent !== undefined,
      onePacket: o.onePacket,
      shFallback: has('sh-fallback', 'mh-fallback', 'flag-1'),
      shPort: has('sh-port', 'mh-port', 'flag-2'),
      schedFlag3: has('flag-3'),
    };
    return { id, scheduler: o.scheduler ?? 'wlc', flags, timeoutS: o.persistent ?? 0, netmask, ...(o.pe !== undefined ? { pe: o.pe } : {}) };
  }

  async #destination(id: ServiceId, text: string, o: ServerOptions, line: number): Promise<DestinationSpec | undefined> {
    const ep = await this.#endpoint(text, id.kind === 'addr' ? id.protocol : 'TCP', line, 'real server');
    if (!ep) return undefined;
    const forward = o.method ?? 'droute';
    let port = ep.port ?? (id.kind === 'addr' ? id.port : 0);
    // ipvsadm gives a DR or TUN real server the service's port: the packet keeps its destination port.
    if (id.kind === 'addr' && forward !== 'masq' && port !== id.port) {
      this.#notes.warn(this.#file, line, `${text}: ipvsadm gives a ${forward === 'droute' ? 'DR' : 'TUN'} real server the service's port ${id.port}, not ${port}; imported with ${id.port}`);
      port = id.port;
    }
    const dest: DestinationSpec = { address: ep.address, family: ep.family, port, forward, weight: o.weight ?? 1, upperThreshold: o.upper ?? 0, lowerThreshold: o.lower ?? 0 };
    if (forward !== 'tunnel') {
      if (o.tunType || o.tunPort !== undefined || o.tunCsum) this.#notes.warn(this.#file, line, `${text}: tunnel options apply only to -i (TUN); ignored`);
      return dest;
    }
    const type = o.tunType ?? 'ipip';
    const illegal = tunnelOptionError(type, o);
    if (illegal) {
      this.#notes.error(this.#file, line, `${text}: ${illegal} (ipvsadm refuses it)`);
      return undefined;
    }
    return { ...dest, tunnel: { type, ...(o.tunPort !== undefined ? { port: o.tunPort } : {}), ...(o.tunCsum && o.tunCsum !== 'none' ? { csum: o.tunCsum } : {}) } };
  }

  /** `ADDR[:PORT]`, `[V6]:PORT`, `V6`, with host and service names resolved as ipvsadm does. */
  async #endpoint(text: string, protocol: 'TCP' | 'UDP' | 'SCTP', line: number, what: string): Promise<{ address: string; family: 4 | 6; port?: number } | undefined> {
    const error = (m: string): undefined => void this.#notes.error(this.#file, line, `${what} ${text}: ${m}`);
    let host = text;
    let portText: string | undefined;
    const bracket = /^\[([^\]]+)\]:(.+)$/.exec(text);
    if (bracket) [host, portText] = [bracket[1] as string, bracket[2]];
    else if (!isIPv6(text) && text.includes(':')) [host, portText] = [text.slice(0, text.lastIndexOf(':')), text.slice(text.lastIndexOf(':') + 1)];
    let port: number | undefined;
    if (portText !== undefined) {
      port = /^\d+$/.test(portText) ? Number(portText) : this.#resolver.port(portText, protocol.toLowerCase() as ServiceProtocol);
      if (port === undefined || port > 65535) return error(`unknown port ${portText}`);
    }
    if (isIPv6(host)) return { address: inetNtop(inetPton(host)), family: 6, ...(port !== undefined ? { port } : {}) };
    if (isIPv4(host)) return { address: host, family: 4, ...(port !== undefined ? { port } : {}) };
    const address = await this.#resolver.host(host);
    if (!address) return error(`host name ${host} does not resolve (ipvsadm -Sn prints addresses)`);
    this.#notes.warn(this.#file, line, `${host} resolved to ${address} now, at import time (ipvsadm -Sn prints addresses)`);
    return { address, family: 4, ...(port !== undefined ? { port } : {}) };
  }
}

/** ipvsadm's table of tunnel options per type: gue needs a port and takes any checksum option, gre takes no port and no remote checksum, ipip takes none of them. */
function tunnelOptionError(type: 'ipip' | 'gue' | 'gre', o: ServerOptions): string | undefined {
  const csum = o.tunCsum && { none: 'tun-nocsum', checksum: 'tun-csum', remote: 'tun-remcsum' }[o.tunCsum];
  if (type === 'gue') return o.tunPort === undefined ? "You need to supply the 'tun-port' option for the 'gue' tunnel type" : undefined;
  if (o.tunPort !== undefined) return `Illegal 'tun-port' option with the '${type}' tunnel type`;
  if (csum && (type === 'ipip' || csum === 'tun-remcsum')) return `Illegal '${csum}' option with the '${type}' tunnel type`;
  return undefined;
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function ipv4Netmask(text: string): string | undefined {
  if (!isIPv4(text)) return undefined;
  const n = text.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const inv = ~n >>> 0;
  return n !== 0 && (inv & (inv + 1)) === 0 ? text : undefined;
}
