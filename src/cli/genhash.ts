// `ipvs-ts genhash`: fetch a URL exactly as HTTP_GET/SSL_GET do and print the MD5 of the body, to paste into
// `digest`. Unlike keepalived's genhash it exits non-zero when the fetch fails or the status is not 2xx.
import { Command, Option } from 'commander';
import { CheckError } from '../check/errors.ts';
import { fetchUrl, type HttpTarget } from '../check/http.ts';
import { hostPort } from '../sys/inet.ts';

export interface GenhashOptions {
  server: string;
  port: number;
  url: string;
  ssl?: boolean;
  sni?: string;
  virtualhost?: string;
  protocol?: '1.0' | '1.0C' | '1.1';
  timeout?: number;
  maxBody?: number;
  verbose?: boolean;
}

export async function runGenhash(opts: GenhashOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const target: HttpTarget = {
    tls: opts.ssl ?? false,
    address: opts.server,
    port: opts.port,
    path: opts.url,
    host: opts.virtualhost ?? hostPort(opts.server, opts.port),
    ...(opts.ssl && opts.sni ? { sni: opts.sni } : {}),
    timeoutMs: Math.round((opts.timeout ?? 5) * 1000),
    ...(opts.maxBody ? { maxBodyBytes: opts.maxBody } : {}),
  };
  try {
    const res = await fetchUrl(target, new AbortController().signal, () => true);
    if (opts.verbose) err.write(`GET ${target.tls ? 'https' : 'http'}://${hostPort(opts.server, opts.port)}${opts.url} Host: ${target.host}: status ${res.status}, ${res.bytes} bytes\n`);
    if (res.status < 200 || res.status > 299) {
      err.write(`genhash: ${opts.url}: status ${res.status} (not 2xx); no digest printed\n`);
      return 1;
    }
    out.write(`${res.digest}\n`);
    return 0;
  } catch (e) {
    err.write(`genhash: ${opts.url}: ${e instanceof CheckError ? e.message : String(e)}\n`);
    return 1;
  }
}

const number = (name: string, integer: boolean) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new Error(`${name} must be a positive ${integer ? 'integer' : 'number'}`);
  return n;
};

export function genhashCommand(): Command {
  return new Command('genhash')
    .description('fetch a URL the way HTTP_GET/SSL_GET do and print the MD5 of its body (for `digest`)')
    .requiredOption('-s, --server <address>', 'server address')
    .addOption(new Option('-p, --port <port>', 'server port').argParser(number('--port', true)).makeOptionMandatory())
    .requiredOption('-u, --url <path>', 'path to request')
    .option('-S, --ssl', 'use TLS (SSL_GET)')
    .option('-I, --sni <name>', 'TLS server name (SNI)')
    .option('-V, --virtualhost <name>', 'Host header (default server:port)')
    .addOption(new Option('-P, --protocol <version>', 'http_protocol (the request line is HTTP/1.1 and the connection closed in every case)').choices(['1.0', '1.0C', '1.1']).default('1.1'))
    .addOption(new Option('-t, --timeout <seconds>', 'whole-request timeout').argParser(number('--timeout', false)).default(5))
    .addOption(new Option('--max-body <bytes>', 'body cap (default 1048576)').argParser(number('--max-body', true)))
    .option('-v, --verbose', 'print the status and body size on stderr')
    .action(async (opts: GenhashOptions) => {
      process.exitCode = await runGenhash(opts);
    });
}
