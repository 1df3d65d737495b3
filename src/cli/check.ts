// `ipvs-ts check -f FILE`: run only the health checkers of a config and print verdict changes as they happen, or
// with --once run every checker once, print a table and exit 0 when every real server is up. The checkers (undici
// among them) are loaded only when the command runs, so other commands start without them.
import { Command, Option } from 'commander';
import type { CheckOptions } from './check-run.ts';
import { CheckError } from '../check/errors.ts';

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new CheckError('BAD_ARGUMENT', `${name} must be a positive integer`);
  return n;
};

export function checkCommand(): Command {
  return new Command('check')
    .description("run a config's health checkers only: print verdict changes live, or a table with --once")
    .requiredOption('-f, --file <path>', 'the keepalived.conf whose checkers to run')
    .option('--once', 'run every checker once, print a table, exit 0 when every real server is up (2 otherwise)')
    .option('--json', 'one JSON object per line instead of text')
    .option('--run-scripts', 'also run notify_up/notify_down/quorum_up/quorum_down scripts (off: only printed)')
    .option('--keepalived-start', "keepalived's start: servers up before their first check, first failure downs at once")
    .option('--tls-verify', 'verify SSL_GET server certificates (keepalived never does)')
    .option('--tls-ca <file>', 'CA certificates (PEM) for --tls-verify')
    .option('--tls-cert <file>', 'client certificate (PEM) for SSL_GET')
    .option('--tls-key <file>', 'client key (PEM) for --tls-cert')
    .addOption(new Option('--max-body <bytes>', 'HTTP body cap (default 1048576)').argParser(positiveInt('--max-body')))
    .addOption(new Option('--concurrency <n>', 'checks in flight at most (default 1000)').argParser(positiveInt('--concurrency')))
    .action(async (opts: CheckOptions) => {
      const { runCheck } = await import('./check-run.ts');
      process.exitCode = await runCheck(opts);
    });
}
