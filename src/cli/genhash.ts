// `ipvs-ts genhash`: fetch a URL exactly as HTTP_GET/SSL_GET do and print the MD5 of the body, to paste into
// `digest`. Unlike keepalived's genhash it exits non-zero when the fetch fails or the status is not 2xx. The HTTP
// client is loaded only when the command runs.
import { Command, Option } from 'commander';
import type { GenhashOptions } from './genhash-run.ts';
import { CheckError } from '../check/errors.ts';

const number = (name: string, integer: boolean) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new CheckError('BAD_ARGUMENT', `${name} must be a positive ${integer ? 'integer' : 'number'}`);
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
      const { runGenhash } = await import('./genhash-run.ts');
      process.exitCode = await runGenhash(opts);
    });
}
