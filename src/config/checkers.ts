// Checker blocks (TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK, PING_CHECK, UDP_CHECK, DNS_CHECK, SMTP_CHECK, FILE_CHECK)
// → Checker, with the settings inherited from the real server and keepalived's per-type defaults applied.
import { posOf, type Token } from './lexer.ts';
import { walk, type BlockSpec, type Handler, type Mutable } from './blocks.ts';
import { parseHexString } from './hex.ts';
import { closest } from './suggest.ts';
import { inheritedKeywords, MAX_SECONDS_MS, type Inherited } from './inherit.ts';
import {
  DEFAULTS, DNS_QUERY_TYPES, type Checker, type CheckerCommon, type DnsQueryType, type Endpoint, type HttpUrl, type ScriptUser,
  type PingCheck, type StatusRange, type TcpCheck, type TrackFile,
} from './model.ts';
import type { Stmt } from './tree.ts';
import type { ArgReader } from './values.ts';

const CHECKER_UNSUPPORTED = new Set(['bind_if', 'fwmark', 'log_all_failures']);
/** keepalived's FILE_CHECK weight bounds (±IPVS_WEIGHT_LIMIT). */
const MAX_FILE_WEIGHT = 2_147_483_647;
const CHECKER_TYPES = ['TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'MISC_CHECK', 'PING_CHECK', 'UDP_CHECK', 'DNS_CHECK', 'SMTP_CHECK', 'FILE_CHECK'] as const;
export const CHECKER_KEYWORDS: ReadonlySet<string> = new Set(CHECKER_TYPES);

/** Where a checker connects: set by the checker block, or by an SMTP_CHECK `host` block. */
interface Connection {
  inh: Inherited;
  connectIp?: string;
  connectPort?: number;
  bindTo?: string;
  bindPort?: number;
}

/** An SMTP_CHECK `host` block: its own connection; its timing keywords write to the checker around it. */
interface HostDraft extends Connection {
  readonly outer: CheckerDraft;
  readonly block: Stmt;
}

/** Absent = not written: the defaults are applied when the checker is made, so a TCP_CHECK's draft stays small. */
interface CheckerDraft extends Connection {
  urls?: HttpUrl[];
  httpProtocol?: '1.0' | '1.0C' | '1.1';
  enableSni?: boolean;
  path?: string;
  timeoutMs?: number;
  dynamic?: boolean;
  user?: ScriptUser;
  payload?: string;
  requireReply?: boolean;
  replyData?: string;
  replyMask?: string;
  minReplyLength?: number;
  maxReplyLength?: number;
  queryType?: DnsQueryType;
  name?: string;
  heloName?: string;
  hosts?: HostDraft[];
  trackFile?: { name: string; pos: Token };
  fileWeight?: { weight: number; reverse: boolean };
}

const TIMING = ['retry', 'nb_get_retry', 'delay_before_retry', 'warmup', 'delay_loop', 'alpha'] as const;

/** connect_ip, connect_port, bindto, bind_port and connect_timeout, for a checker or an SMTP host block. */
function connectionKeywords<D extends Connection>(r: ArgReader): Record<string, Handler<D>> {
  return {
    connect_timeout: inheritedKeywords<D>(r)['connect_timeout'] as Handler<D>,
    connect_ip: (t, d) => {
      d.connectIp = r.address(t)?.address ?? d.connectIp;
    },
    connect_port: (t, d) => {
      r.noBlock(t);
      if (r.arity(t, 1, 1, 'connect_port PORT')) d.connectPort = r.portToken(t.args[0] as Token, 'connect_port') ?? d.connectPort;
    },
    bindto: (t, d) => {
      d.bindTo = r.address(t)?.address ?? d.bindTo;
    },
    bind_port: (t, d) => {
      r.noBlock(t);
      if (r.arity(t, 1, 1, 'bind_port PORT')) d.bindPort = r.portToken(t.args[0] as Token, 'bind_port') ?? d.bindPort;
    },
  };
}

function checkerSpecs(r: ArgReader): Record<Checker['type'], BlockSpec<CheckerDraft>> {
  const inherited = inheritedKeywords<CheckerDraft>(r);
  const timing = Object.fromEntries(TIMING.map((k) => [k, inherited[k] as Handler<CheckerDraft>]));
  const common: Record<string, Handler<CheckerDraft>> = { ...timing, ...connectionKeywords<CheckerDraft>(r) };
  const http: Record<string, Handler<CheckerDraft>> = {
    ...common,
    url: (t, d) => {
      const u = readUrl(t, r);
      if (u) (d.urls ??= []).push(u);
    },
    virtualhost: inherited['virtualhost'] as Handler<CheckerDraft>,
    http_protocol: (t, d) => {
      r.noBlock(t);
      if (!r.arity(t, 1, 1, 'http_protocol 1.0|1.0C|1.1')) return;
      const v = r.oneOf(t.args[0] as Token, 'http_protocol', ['1.0', '1.0C', '1.1'] as const, true);
      if (v) d.httpProtocol = v;
    },
    enable_sni: (t, d) => {
      d.enableSni = r.flag(t);
    },
  };
  const misc: Record<string, Handler<CheckerDraft>> = {
    ...common,
    misc_path: (t, d) => {
      d.path = r.command(t) ?? d.path;
    },
    misc_timeout: (t, d) => {
      d.timeoutMs = r.seconds(t, 1, MAX_SECONDS_MS) ?? d.timeoutMs;
    },
    misc_dynamic: (t, d) => {
      d.dynamic = r.flag(t);
    },
    user: (t, d) => {
      d.user = r.user(t) ?? d.user;
    },
  };
  const udp: Record<string, Handler<CheckerDraft>> = {
    ...common,
    payload: (t, d) => {
      const hex = hexArgs(t, r, false, 'payload HEX_STR');
      if (hex) d.payload = hex.data;
    },
    require_reply: (t, d) => {
      r.noBlock(t);
      d.requireReply = true;
      if (t.args.length === 0) return;
      const hex = hexArgs(t, r, true, 'require_reply [HEX_STR]');
      if (!hex) return;
      d.replyData = hex.data;
      d.replyMask = hex.mask;
    },
    min_reply_length: (t, d) => {
      d.minReplyLength = r.int(t, 0, 65535) ?? d.minReplyLength;
    },
    max_reply_length: (t, d) => {
      d.maxReplyLength = r.int(t, 0, 65535) ?? d.maxReplyLength;
    },
  };
  const dns: Record<string, Handler<CheckerDraft>> = {
    ...common,
    type: (t, d) => {
      r.noBlock(t);
      if (r.arity(t, 1, 1, `type ${DNS_QUERY_TYPES.join('|')}`)) d.queryType = r.oneOf(t.args[0] as Token, 'DNS_CHECK type', DNS_QUERY_TYPES, true) ?? d.queryType;
    },
    name: (t, d) => {
      const v = r.word(t, 'name DOMAIN');
      if (v === undefined) return;
      const problem = dnsNameProblem(v);
      if (problem) r.problems.error('bad-value', `DNS_CHECK name '${v}' ${problem}`, posOf(t.args[0] as Token));
      else d.name = v === '.' ? v : v.replace(/\.$/, '');
    },
  };
  const hostSpec: BlockSpec<HostDraft> = {
    name: 'host',
    unsupported: CHECKER_UNSUPPORTED,
    keywords: {
      ...connectionKeywords<HostDraft>(r),
      // keepalived's handlers for these write to the SMTP_CHECK itself, not to the host.
      ...Object.fromEntries(TIMING.map((k) => [k, (t: Stmt, h: HostDraft) => (timing[k] as Handler<CheckerDraft>)(t, h.outer)])),
    },
  };
  const smtp: Record<string, Handler<CheckerDraft>> = {
    ...common,
    helo_name: (t, d) => {
      d.heloName = r.word(t, 'helo_name NAME') ?? d.heloName;
    },
    host: (t, d) => {
      r.arity(t, 0, 0, 'host { connect_ip … connect_port … }');
      r.problems.warn('deprecated', 'SMTP_CHECK host { … } is deprecated (keepalived: define one SMTP_CHECK per server); taken as one more SMTP_CHECK with these connection settings', posOf(t.key));
      const h: HostDraft = { inh: {}, outer: d, block: t };
      walk(r.needBlock(t), hostSpec, h, r);
      (d.hosts ??= []).push(h);
    },
  };
  const file: Record<string, Handler<CheckerDraft>> = {
    track_file: (t, d) => {
      r.noBlock(t);
      if (r.arity(t, 1, 1, 'track_file NAME')) d.trackFile = { name: (t.args[0] as Token).text, pos: t.args[0] as Token };
    },
    weight: (t, d) => {
      r.noBlock(t);
      if (!r.arity(t, 1, 2, `weight N [reverse|noreverse]  (N in -${MAX_FILE_WEIGHT}..${MAX_FILE_WEIGHT})`)) return;
      const weight = r.integer(t.args[0] as Token, 'FILE_CHECK weight', -MAX_FILE_WEIGHT, MAX_FILE_WEIGHT);
      const word = t.args[1];
      if (word && word.text !== 'reverse' && word.text !== 'noreverse') {
        r.problems.error('bad-value', `weight: expected 'reverse' or 'noreverse' after the number, got '${word.text}'`, posOf(word));
        return;
      }
      if (weight !== undefined) d.fileWeight = { weight, reverse: word?.text === 'reverse' };
    },
  };
  const httpUnsupported = new Set([...CHECKER_UNSUPPORTED, 'sni_name', 'fast_recovery', 'tls_compliant']);
  return {
    TCP_CHECK: { name: 'TCP_CHECK', keywords: common, unsupported: CHECKER_UNSUPPORTED },
    HTTP_GET: { name: 'HTTP_GET', keywords: http, unsupported: httpUnsupported },
    SSL_GET: { name: 'SSL_GET', keywords: http, unsupported: httpUnsupported },
    MISC_CHECK: { name: 'MISC_CHECK', keywords: misc, unsupported: CHECKER_UNSUPPORTED },
    PING_CHECK: { name: 'PING_CHECK', keywords: common, unsupported: CHECKER_UNSUPPORTED },
    UDP_CHECK: { name: 'UDP_CHECK', keywords: udp, unsupported: CHECKER_UNSUPPORTED },
    DNS_CHECK: { name: 'DNS_CHECK', keywords: dns, unsupported: CHECKER_UNSUPPORTED },
    SMTP_CHECK: { name: 'SMTP_CHECK', keywords: smtp, unsupported: CHECKER_UNSUPPORTED },
    FILE_CHECK: { name: 'FILE_CHECK', keywords: file },
  };
}

/** keepalived joins the words after the keyword and reads them as one HEX_STR. */
function hexArgs(s: Stmt, r: ArgReader, wildcards: boolean, usage: string): ReturnType<typeof parseHexString> {
  r.noBlock(s);
  if (!r.arity(s, 1, Infinity, usage)) return undefined;
  const text = s.args.map((a) => a.text).join(' ');
  const hex = parseHexString(text, wildcards);
  if (!hex) {
    const digits = wildcards ? 'hex digits (x for any nibble)' : 'hex digits';
    r.problems.error('bad-value', `${s.key.text}: '${text}' is not a HEX_STR of ${digits}, two per octet`, posOf(s.args[0] as Token));
  }
  return hex;
}

/** keepalived refuses a name with an empty label; the DNS itself limits labels to 63 octets and names to 253. */
function dnsNameProblem(name: string): string | undefined {
  if (name === '.') return undefined;
  const labels = name.replace(/\.$/, '').split('.');
  if (labels.some((l) => l === '')) return 'has an empty label';
  if (labels.some((l) => Buffer.byteLength(l) > 63)) return 'has a label longer than 63 octets';
  if (Buffer.byteLength(labels.join('.')) > 253) return 'is longer than 253 octets';
  return undefined;
}

function readUrl(s: Stmt, r: ArgReader): HttpUrl | undefined {
  r.arity(s, 0, 0, 'url { path PATH [digest MD5] [status_code N|N-M …] }');
  const u: { path?: string; digest?: string; statusCodes: StatusRange[]; virtualhost?: string } = { statusCodes: [] };
  walk(r.needBlock(s), {
    name: 'url',
    unsupported: new Set(['regex', 'regex_no_match', 'regex_options', 'regex_min_offset', 'regex_max_offset', 'regex_stack', 'tls_compliant']),
    keywords: {
      path: (t) => {
        u.path = r.word(t, 'path /PATH') ?? u.path;
      },
      digest: (t) => {
        const v = r.word(t, 'digest MD5HEX');
        if (v === undefined) return;
        if (/^[0-9a-fA-F]{32}$/.test(v)) u.digest = v.toLowerCase();
        else r.problems.error('bad-value', `digest '${v}' is not an MD5 digest (32 hex digits)`, posOf(t.args[0] as Token));
      },
      status_code: (t) => {
        r.noBlock(t);
        if (!r.arity(t, 1, Infinity, 'status_code N|N-M …')) return;
        for (const a of t.args) {
          const m = /^(\d{3})(?:-(\d{3}))?$/.exec(a.text);
          const from = Number(m?.[1]);
          const to = m?.[2] !== undefined ? Number(m[2]) : from;
          if (!m || from < 100 || to > 599 || from > to) {
            r.problems.error('bad-value', `status_code '${a.text}' is not an HTTP status (100-599) or range N-M`, posOf(a));
            continue;
          }
          u.statusCodes.push({ from, to });
        }
      },
      virtualhost: (t) => {
        u.virtualhost = r.word(t, 'virtualhost NAME') ?? u.virtualhost;
      },
    },
  }, undefined, r);
  if (u.path === undefined) {
    r.problems.error('missing', 'url block has no path', posOf(s.key));
    return undefined;
  }
  return {
    path: u.path,
    statusCodes: u.statusCodes.length > 0 ? u.statusCodes : [{ from: 200, to: 299 }],
    pos: posOf(s.key),
    ...(u.digest !== undefined ? { digest: u.digest } : {}),
    ...(u.virtualhost !== undefined ? { virtualhost: u.virtualhost } : {}),
  };
}

/** Keyword tables are built once per load: a large config has a checker per real server. */
export class CheckerReader {
  readonly #r: ArgReader;
  /** A Map: an object indexed by a keyword read from the text would first look that string up in V8's string table. */
  readonly #specs: ReadonlyMap<string, BlockSpec<CheckerDraft>>;
  readonly #trackFiles: readonly TrackFile[];

  /** `trackFiles` grows as the top-level blocks arrive: a FILE_CHECK sees those above it, as in keepalived. */
  constructor(r: ArgReader, trackFiles: readonly TrackFile[]) {
    this.#r = r;
    this.#specs = new Map(Object.entries(checkerSpecs(r)));
    this.#trackFiles = trackFiles;
  }

  /** One checker block → its checkers: one, or none when it is unusable, or several for SMTP_CHECK host blocks. */
  read(s: Stmt, rs: Endpoint, rsInh: Inherited): Checker[] {
    const r = this.#r;
    const spec = this.#specs.get(s.key.text) as BlockSpec<CheckerDraft>;
    // The spec's own name, not the keyword's text: every checker then shares one string instead of holding its own.
    const type = spec.name as Checker['type'];
    if (s.args.length > 0) r.arity(s, 0, 0, `${type} { … }`);
    const d: CheckerDraft = { inh: {} };
    walk(r.needBlock(s), spec, d, r);
    const base = common(type, d, rs, rsInh, posOf(s.key));
    switch (type) {
      case 'TCP_CHECK':
      case 'PING_CHECK':
        // Exactly the common settings: returned as built, one object per checker in large configs.
        return [base as TcpCheck | PingCheck];
      case 'HTTP_GET':
      case 'SSL_GET':
        if (!d.urls) r.problems.error('missing', `${type} has no url { path … } block`, posOf(s.key));
        if (d.enableSni === true && type === 'HTTP_GET') r.problems.warn('lenient', 'enable_sni only applies to SSL_GET; ignored for HTTP_GET', posOf(s.key));
        return [{ ...base, type, urls: d.urls ?? [], httpProtocol: d.httpProtocol ?? '1.0', enableSni: d.enableSni === true && type === 'SSL_GET' }];
      case 'MISC_CHECK':
        if (d.path === undefined) {
          r.problems.error('missing', 'MISC_CHECK has no misc_path', posOf(s.key));
          return [];
        }
        return [{
          ...base, type, path: d.path, timeoutMs: d.timeoutMs ?? base.delayLoopMs, dynamic: d.dynamic ?? false, ...(d.user ? { user: d.user } : {}),
        }];
      case 'UDP_CHECK': {
        const requireReply = d.requireReply ?? false;
        const minReplyLength = d.minReplyLength ?? 0;
        const maxReplyLength = d.maxReplyLength ?? DEFAULTS.udpMaxReplyLength;
        if (requireReply && minReplyLength > maxReplyLength) {
          r.problems.error('range', `UDP_CHECK min_reply_length ${minReplyLength} > max_reply_length ${maxReplyLength}: every reply would fail`, posOf(s.key));
        }
        return [{
          ...base, type, requireReply, minReplyLength, maxReplyLength,
          ...(d.payload !== undefined ? { payload: d.payload } : {}),
          ...(d.replyData !== undefined ? { replyData: d.replyData } : {}),
          ...(d.replyMask !== undefined ? { replyMask: d.replyMask } : {}),
        }];
      }
      case 'DNS_CHECK':
        return [{ ...base, type, queryType: d.queryType ?? DEFAULTS.dnsQueryType, name: d.name ?? DEFAULTS.dnsName }];
      case 'SMTP_CHECK':
        return this.#smtp(d, base, rs, rsInh);
      case 'FILE_CHECK':
        return this.#file(s, d, base);
    }
  }

  /**
   * keepalived's SMTP_CHECK host blocks (deprecated, still read by 2.2.x): each host is one more SMTP_CHECK with
   * that host's connection; when the block itself sets no connection, the first host is the checker's own.
   */
  #smtp(d: CheckerDraft, base: Base, rs: Endpoint, rsInh: Inherited): Checker[] {
    const heloName = d.heloName ?? DEFAULTS.smtpHeloName;
    const ownConnection = d.connectIp !== undefined || d.connectPort !== undefined || d.bindTo !== undefined || d.bindPort !== undefined ||
      d.inh.connectTimeoutMs !== undefined;
    const hosts = d.hosts ?? [];
    const checkers: Checker[] = ownConnection || hosts.length === 0 ? [{ ...base, type: 'SMTP_CHECK', heloName }] : [];
    for (const h of hosts) {
      // A host replaces the connection only: the rest (timing, helo_name) is the SMTP_CHECK's.
      const connection: Connection = { ...h, inh: { ...d.inh, connectTimeoutMs: h.inh.connectTimeoutMs } };
      checkers.push({ ...common('SMTP_CHECK', connection, rs, rsInh, posOf(h.block.key)), type: 'SMTP_CHECK', heloName });
    }
    return checkers;
  }

  #file(s: Stmt, d: CheckerDraft, base: Base): Checker[] {
    const r = this.#r;
    if (!d.trackFile) {
      r.problems.error('missing', 'FILE_CHECK has no track_file NAME', posOf(s.key));
      return [];
    }
    const { name, pos } = d.trackFile;
    const trackFile = this.#trackFiles.find((f) => f.name === name);
    if (!trackFile) {
      const hint = closest(name, this.#trackFiles.map((f) => f.name));
      r.problems.error('reference', `FILE_CHECK: track_file ${name} names no track_file block above it (keepalived reads them in order)${hint ? `; did you mean '${hint}'?` : ''}`, posOf(pos));
      return [];
    }
    // The file decides at once, as in keepalived: no retries, no alpha, read at start; delay_loop re-reads it.
    return [{
      ...base, type: 'FILE_CHECK', retry: 0, delayBeforeRetryMs: 0, warmupMs: 0, alpha: false, trackFile,
      weight: d.fileWeight?.weight ?? trackFile.weight, weightReverse: d.fileWeight?.reverse ?? trackFile.weightReverse,
    }];
  }
}

type Base = CheckerCommon & { readonly type: Checker['type']; readonly virtualhost?: string };

/** The settings every checker has, with keepalived's per-type defaults. */
function common(type: Checker['type'], d: Connection, rs: Endpoint, rsInh: Inherited, pos: CheckerCommon['pos']): Base {
  // inherit(rsInh, d.inh) read field by field, without building the merged object: there is a checker per real server.
  const own = d.inh;
  const delayLoopMs = own.delayLoopMs ?? rsInh.delayLoopMs ?? DEFAULTS.delayLoopMs;
  const retry = type === 'MISC_CHECK' ? DEFAULTS.miscRetry : type === 'DNS_CHECK' ? DEFAULTS.dnsRetry : DEFAULTS.retry;
  const delayBeforeRetryMs = type === 'HTTP_GET' || type === 'SSL_GET' ? DEFAULTS.httpDelayBeforeRetryMs : type === 'DNS_CHECK' ? delayLoopMs : DEFAULTS.delayBeforeRetryMs;
  const base: Mutable<Base> = {
    type,
    connectIp: d.connectIp ?? rs.address,
    connectPort: d.connectPort ?? rs.port,
    connectTimeoutMs: own.connectTimeoutMs ?? rsInh.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    retry: own.retry ?? rsInh.retry ?? retry,
    delayBeforeRetryMs: own.delayBeforeRetryMs ?? rsInh.delayBeforeRetryMs ?? delayBeforeRetryMs,
    warmupMs: own.warmupMs ?? rsInh.warmupMs ?? delayLoopMs,
    delayLoopMs,
    alpha: own.alpha ?? rsInh.alpha ?? false,
    pos,
  };
  // Only where set: there is a checker per real server, and an undefined field costs as much as a set one.
  if (d.bindTo !== undefined) base.bindTo = d.bindTo;
  if (d.bindPort !== undefined) base.bindPort = d.bindPort;
  const virtualhost = own.virtualhost ?? rsInh.virtualhost;
  if (virtualhost !== undefined && (type === 'HTTP_GET' || type === 'SSL_GET')) base.virtualhost = virtualhost;
  return base;
}
