// One ipvsadm command line (the words after `ipvsadm`, or a line of `ipvsadm -S` output) → what it asks for, with
// ipvsadm's own option names, short clusters (-Ln) and long forms (--weight 3, --weight=3). Addresses stay text
// here (they may be names); ipvsadm.ts resolves them and applies ipvsadm's defaults.
import { ImportError } from './errors.ts';

export type ServiceArg =
  | { readonly kind: 'addr'; readonly protocol: 'TCP' | 'UDP' | 'SCTP'; readonly text: string }
  | { readonly kind: 'fwmark'; readonly mark: number; readonly ipv6: boolean };

export interface ServiceOptions {
  readonly scheduler?: string;
  /** Persistence timeout in seconds (ipvsadm's -p alone means 300). */
  readonly persistent?: number;
  readonly netmask?: string;
  readonly pe?: string;
  readonly onePacket: boolean;
  readonly schedFlags: readonly string[];
}

export type Method = 'droute' | 'masq' | 'tunnel';

export interface ServerOptions {
  readonly method?: Method;
  readonly weight?: number;
  readonly upper?: number;
  readonly lower?: number;
  readonly tunType?: 'ipip' | 'gue' | 'gre';
  readonly tunPort?: number;
  readonly tunCsum?: 'none' | 'checksum' | 'remote';
}

export type IpvsadmCommand =
  | { readonly kind: 'add-service'; readonly service: ServiceArg; readonly opts: ServiceOptions }
  | { readonly kind: 'edit-service'; readonly service: ServiceArg; readonly opts: ServiceOptions }
  | { readonly kind: 'delete-service'; readonly service: ServiceArg }
  | { readonly kind: 'add-server'; readonly service: ServiceArg; readonly server: string; readonly opts: ServerOptions }
  | { readonly kind: 'edit-server'; readonly service: ServiceArg; readonly server: string; readonly opts: ServerOptions }
  | { readonly kind: 'delete-server'; readonly service: ServiceArg; readonly server: string }
  | { readonly kind: 'clear' }
  /** -L/-l, -S, -Z, -h, -v: nothing in the table changes. */
  | { readonly kind: 'no-change' }
  | { readonly kind: 'set-timeouts'; readonly tcp: number; readonly tcpfin: number; readonly udp: number }
  | { readonly kind: 'sync-daemon'; readonly action: 'start' | 'stop'; readonly state: string; readonly iface?: string; readonly syncid?: number }
  | { readonly kind: 'restore' };

/** An ipvsadm command line ipvsadm itself would reject; ipvsadm.ts turns it into a note on that line. */
export class ArgError extends ImportError {
  constructor(message: string) {
    super('IMPORT_IPVSADM_ARGS', message);
  }
}

type Arg = 'none' | 'required' | 'optional';
const OPTIONS: Record<string, [string, Arg]> = {
  A: ['add-service', 'none'], E: ['edit-service', 'none'], D: ['delete-service', 'none'], C: ['clear', 'none'], R: ['restore', 'none'],
  S: ['save', 'none'], a: ['add-server', 'none'], e: ['edit-server', 'none'], d: ['delete-server', 'none'], L: ['list', 'none'],
  l: ['list', 'none'], Z: ['zero', 'none'], h: ['help', 'none'], v: ['version', 'none'], t: ['tcp-service', 'required'],
  u: ['udp-service', 'required'], f: ['fwmark-service', 'required'], s: ['scheduler', 'required'], p: ['persistent', 'optional'],
  M: ['netmask', 'required'], b: ['sched-flags', 'required'], r: ['real-server', 'required'], m: ['masquerading', 'none'],
  i: ['ipip', 'none'], g: ['gatewaying', 'none'], w: ['weight', 'required'], x: ['u-threshold', 'required'],
  y: ['l-threshold', 'required'], n: ['numeric', 'none'], c: ['connection', 'none'], X: ['exact', 'none'], '6': ['ipv6', 'none'],
  o: ['ops', 'none'],
};
const LONG_ONLY: Record<string, Arg> = {
  set: 'none', 'start-daemon': 'required', 'stop-daemon': 'required', 'sctp-service': 'required', pe: 'required', 'tun-type': 'required',
  'tun-port': 'required', 'tun-nocsum': 'none', 'tun-csum': 'none', 'tun-remcsum': 'none', 'mcast-interface': 'required',
  'mcast-group': 'required', 'mcast-port': 'required', 'mcast-ttl': 'required', 'sync-maxlen': 'required', syncid: 'required',
  timeout: 'none', daemon: 'none', stats: 'none', rate: 'none', thresholds: 'none', 'persistent-conn': 'none', nosort: 'none',
  sort: 'none',
};
const LONG: Record<string, Arg> = { ...LONG_ONLY, ...Object.fromEntries(Object.values(OPTIONS).map(([n, a]) => [n, a])) };
const COMMANDS = new Set(['add-service', 'edit-service', 'delete-service', 'clear', 'restore', 'save', 'add-server', 'edit-server', 'delete-server', 'list', 'zero', 'help', 'version', 'set', 'start-daemon', 'stop-daemon']);
const SCHED_FLAGS = new Set(['sh-fallback', 'sh-port', 'mh-fallback', 'mh-port', 'flag-1', 'flag-2', 'flag-3']);

/** Throws ArgError, in ipvsadm's words where it has them. */
export function parseIpvsadmArgs(args: readonly string[]): IpvsadmCommand {
  const opts = new Map<string, string | undefined>();
  const positional: string[] = [];
  let command: string | undefined;
  const set = (name: string, value: string | undefined): void => {
    if (COMMANDS.has(name)) {
      if (command) throw new ArgError('multiple commands specified');
      command = name;
      if (value !== undefined) opts.set(name, value);
      return;
    }
    if (opts.has(name)) throw new ArgError(`multiple '${name}' options specified`);
    opts.set(name, value);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a.startsWith('--') && a.length > 2) {
      const [name, inline] = a.slice(2).split(/=(.*)/s) as [string, string | undefined];
      const arg = LONG[name];
      if (!arg) throw new ArgError(`invalid option \`${a}'`);
      if (arg === 'none') set(name, undefined);
      else if (inline !== undefined) set(name, inline);
      else if (arg === 'required') set(name, valueAfter(args, i++, a));
      else set(name, isOptionalValue(args[i + 1]) ? args[++i] : undefined);
    } else if (a.startsWith('-') && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const spec = OPTIONS[a[k] as string];
        if (!spec) throw new ArgError(`invalid option \`-${a[k]}'`);
        const [name, arg] = spec;
        const rest = a.slice(k + 1);
        if (arg === 'none') {
          set(name, undefined);
          continue;
        }
        if (rest) set(name, rest);
        else if (arg === 'required') set(name, valueAfter(args, i++, `-${a[k]}`));
        else set(name, isOptionalValue(args[i + 1]) ? args[++i] : undefined);
        break;
      }
    } else {
      positional.push(a);
    }
  }
  if (!command) throw new ArgError('no command given (-A, -E, -D, -a, -e, -d, -C, …)');
  if (command === 'set') {
    const [tcp, tcpfin, udp, ...more] = positional.map((p) => int(p, 'timeout', 0, 86_400 * 31));
    if (udp === undefined || more.length) throw new ArgError('--set option requires 3 timeout values');
    return { kind: 'set-timeouts', tcp: tcp as number, tcpfin: tcpfin as number, udp };
  }
  if (positional.length) throw new ArgError(`unexpected argument ${positional[0]}`);
  switch (command) {
    case 'clear':
      return { kind: 'clear' };
    case 'restore':
      return { kind: 'restore' };
    case 'list': case 'save': case 'zero': case 'help': case 'version':
      return { kind: 'no-change' };
    case 'start-daemon': case 'stop-daemon':
      return {
        kind: 'sync-daemon', action: command === 'start-daemon' ? 'start' : 'stop', state: opts.get(command) as string,
        ...(opts.has('mcast-interface') ? { iface: opts.get('mcast-interface') as string } : {}),
        ...(opts.has('syncid') ? { syncid: int(opts.get('syncid') as string, 'syncid', 0, 255) } : {}),
      };
  }
  const service = serviceArg(opts);
  if (command === 'delete-service') return { kind: 'delete-service', service };
  if (command === 'add-service' || command === 'edit-service') return { kind: command, service, opts: serviceOptions(opts) } as IpvsadmCommand;
  const server = opts.get('real-server');
  if (server === undefined) throw new ArgError(`You need to supply the 'real-server' option for the '${command}' command`);
  if (command === 'delete-server') return { kind: 'delete-server', service, server };
  return { kind: command, service, server, opts: serverOptions(opts) } as IpvsadmCommand;
}

function valueAfter(args: readonly string[], i: number, name: string): string {
  const v = args[i + 1];
  if (v === undefined) throw new ArgError(`${name} needs an argument`);
  return v;
}

/** -p takes its timeout only when one follows (popt's optional argument). */
function isOptionalValue(next: string | undefined): boolean {
  return next !== undefined && /^\d+$/.test(next);
}

function int(text: string, what: string, min: number, max: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw new ArgError(`illegal ${what} specified: ${text}`);
  return n;
}

function serviceArg(opts: Map<string, string | undefined>): ServiceArg {
  const given = ['tcp-service', 'udp-service', 'sctp-service', 'fwmark-service'].filter((k) => opts.has(k));
  if (given.length === 0) throw new ArgError("You need to supply the 'service-address' option");
  if (given.length > 1) throw new ArgError("multiple 'service-address' options specified");
  const k = given[0] as string;
  const v = opts.get(k) as string;
  if (k === 'fwmark-service') return { kind: 'fwmark', mark: int(v, 'fwmark', 1, 0xffffffff), ipv6: opts.has('ipv6') };
  return { kind: 'addr', protocol: k === 'tcp-service' ? 'TCP' : k === 'udp-service' ? 'UDP' : 'SCTP', text: v };
}

function serviceOptions(opts: Map<string, string | undefined>): ServiceOptions {
  const flags = opts.get('sched-flags')?.split(',').filter(Boolean) ?? [];
  for (const f of flags) if (!SCHED_FLAGS.has(f)) throw new ArgError(`unknown scheduler flag ${f}`);
  return {
    ...(opts.has('scheduler') ? { scheduler: opts.get('scheduler') as string } : {}),
    ...(opts.has('persistent') ? { persistent: opts.get('persistent') === undefined ? 300 : int(opts.get('persistent') as string, 'timeout', 1, 86_400 * 31) } : {}),
    ...(opts.has('netmask') ? { netmask: opts.get('netmask') as string } : {}),
    ...(opts.has('pe') ? { pe: opts.get('pe') as string } : {}),
    onePacket: opts.has('ops'),
    schedFlags: flags,
  };
}

function serverOptions(opts: Map<string, string | undefined>): ServerOptions {
  const methods = (['gatewaying', 'masquerading', 'ipip'] as const).filter((m) => opts.has(m));
  if (methods.length > 1) throw new ArgError("multiple 'forwarding-method' options specified");
  const csum = (['tun-nocsum', 'tun-csum', 'tun-remcsum'] as const).filter((c) => opts.has(c));
  if (csum.length > 1) throw new ArgError('give one of --tun-nocsum, --tun-csum, --tun-remcsum');
  const tunType = opts.get('tun-type');
  if (tunType !== undefined && !['ipip', 'gue', 'gre'].includes(tunType)) throw new ArgError(`unknown tunnel type ${tunType}`);
  const num = (k: string, what: string, max: number): number | undefined => (opts.has(k) ? int(opts.get(k) as string, what, 0, max) : undefined);
  const r: { -readonly [K in keyof ServerOptions]: ServerOptions[K] } = {};
  if (methods[0]) r.method = ({ gatewaying: 'droute', masquerading: 'masq', ipip: 'tunnel' } as const)[methods[0]];
  const weight = num('weight', 'weight', 65535);
  const upper = num('u-threshold', 'u_threshold', 2_147_483_647);
  const lower = num('l-threshold', 'l_threshold', 2_147_483_647);
  const tunPort = num('tun-port', 'tunnel port', 65535);
  if (weight !== undefined) r.weight = weight;
  if (upper !== undefined) r.upper = upper;
  if (lower !== undefined) r.lower = lower;
  if (tunType !== undefined) r.tunType = tunType as 'ipip' | 'gue' | 'gre';
  if (tunPort !== undefined) r.tunPort = tunPort;
  if (csum[0]) r.tunCsum = ({ 'tun-nocsum': 'none', 'tun-csum': 'checksum', 'tun-remcsum': 'remote' } as const)[csum[0]];
  return r;
}
