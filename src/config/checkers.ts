// TCP_CHECK, HTTP_GET, SSL_GET and MISC_CHECK blocks → Checker, with the settings inherited from the real server
// and keepalived's per-type defaults applied.
import { posOf, type Token } from './lexer.ts';
import { walk, type BlockSpec, type Handler } from './blocks.ts';
import { inherit, inheritedKeywords, MAX_SECONDS_MS, type Inherited } from './inherit.ts';
import { DEFAULTS, type Checker, type CheckerCommon, type Endpoint, type HttpUrl, type ScriptUser, type StatusRange, type TcpCheck } from './model.ts';
import type { Stmt } from './tree.ts';
import type { ArgReader } from './values.ts';

const CHECKER_UNSUPPORTED = new Set(['bind_if', 'fwmark', 'log_all_failures']);

interface CheckerDraft {
  inh: Inherited;
  connectIp?: string;
  connectPort?: number;
  bindTo?: string;
  bindPort?: number;
  urls?: HttpUrl[];
  httpProtocol: '1.0' | '1.0C' | '1.1';
  enableSni: boolean;
  path?: string;
  timeoutMs?: number;
  dynamic: boolean;
  user?: ScriptUser;
}

function checkerSpecs(r: ArgReader): Record<Checker['type'], BlockSpec<CheckerDraft>> {
  const inherited = inheritedKeywords<CheckerDraft>(r);
  const pick = (k: string): Handler<CheckerDraft> => inherited[k] as Handler<CheckerDraft>;
  const common: Record<string, Handler<CheckerDraft>> = {
    connect_timeout: pick('connect_timeout'),
    retry: pick('retry'),
    nb_get_retry: pick('nb_get_retry'),
    delay_before_retry: pick('delay_before_retry'),
    warmup: pick('warmup'),
    delay_loop: pick('delay_loop'),
    alpha: pick('alpha'),
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
  const http: Record<string, Handler<CheckerDraft>> = {
    ...common,
    url: (t, d) => {
      const u = readUrl(t, r);
      if (u) (d.urls ??= []).push(u);
    },
    virtualhost: pick('virtualhost'),
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
  const httpUnsupported = new Set([...CHECKER_UNSUPPORTED, 'sni_name', 'fast_recovery', 'tls_compliant']);
  return {
    TCP_CHECK: { name: 'TCP_CHECK', keywords: common, unsupported: CHECKER_UNSUPPORTED },
    HTTP_GET: { name: 'HTTP_GET', keywords: http, unsupported: httpUnsupported },
    SSL_GET: { name: 'SSL_GET', keywords: http, unsupported: httpUnsupported },
    MISC_CHECK: { name: 'MISC_CHECK', keywords: misc, unsupported: CHECKER_UNSUPPORTED },
  };
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
  readonly #specs: Record<Checker['type'], BlockSpec<CheckerDraft>>;

  constructor(r: ArgReader) {
    this.#r = r;
    this.#specs = checkerSpecs(r);
  }

  read(s: Stmt, rs: Endpoint, rsInh: Inherited): Checker | undefined {
    const r = this.#r;
    const type = s.key.text as Checker['type'];
    const isHttp = type === 'HTTP_GET' || type === 'SSL_GET';
    r.arity(s, 0, 0, (k) => `${k} { … }`);
    const d: CheckerDraft = { inh: {}, httpProtocol: '1.0', enableSni: false, dynamic: false };
    walk(r.needBlock(s), this.#specs[type], d, r);

    const inh = inherit(rsInh, d.inh);
    const delayLoopMs = inh.delayLoopMs ?? DEFAULTS.delayLoopMs;
    const base: CheckerCommon & { type: Checker['type'] } = {
      type,
      connectIp: d.connectIp ?? rs.address,
      connectPort: d.connectPort ?? rs.port,
      bindTo: d.bindTo,
      bindPort: d.bindPort,
      connectTimeoutMs: inh.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      retry: inh.retry ?? (type === 'MISC_CHECK' ? DEFAULTS.miscRetry : DEFAULTS.retry),
      delayBeforeRetryMs: inh.delayBeforeRetryMs ?? (isHttp ? DEFAULTS.httpDelayBeforeRetryMs : DEFAULTS.delayBeforeRetryMs),
      warmupMs: inh.warmupMs ?? delayLoopMs,
      delayLoopMs,
      alpha: inh.alpha ?? false,
      pos: posOf(s.key),
    };
    // A TCP_CHECK is exactly the common settings: returned as built, one object per checker in large configs.
    if (type === 'TCP_CHECK') return base as TcpCheck;
    if (isHttp) {
      if (!d.urls) r.problems.error('missing', `${type} has no url { path … } block`, posOf(s.key));
      if (d.enableSni && type === 'HTTP_GET') r.problems.warn('lenient', 'enable_sni only applies to SSL_GET; ignored for HTTP_GET', posOf(s.key));
      return {
        ...base, type, urls: d.urls ?? [], httpProtocol: d.httpProtocol, enableSni: d.enableSni && type === 'SSL_GET',
        ...(inh.virtualhost !== undefined ? { virtualhost: inh.virtualhost } : {}),
      };
    }
    if (d.path === undefined) {
      r.problems.error('missing', 'MISC_CHECK has no misc_path', posOf(s.key));
      return undefined;
    }
    return {
      ...base, type: 'MISC_CHECK', path: d.path, timeoutMs: d.timeoutMs ?? delayLoopMs, dynamic: d.dynamic,
      ...(d.user ? { user: d.user } : {}),
    };
  }
}
