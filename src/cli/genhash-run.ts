// What `ipvs-ts genhash` runs (src/cli/genhash.ts defines the command): fetch a URL exactly as HTTP_GET/SSL_GET do
// and print the MD5 of the body; non-zero exit when the fetch fails or the status is not 2xx.
import { fetchUrl, type HttpTarget } from '../check/http.ts';
import { errorLine } from '../errors.ts';
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
    err.write(`genhash: ${opts.url}: ${errorLine(e)}\n`);
    return 1;
  }
}
