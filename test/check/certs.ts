// Test PKI generated with the openssl CLI at test time: a CA, a server certificate for www.example.test, an
// expired one, and a client certificate. Removed by the caller.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  readonly dir: string;
  readonly ca: Buffer;
  readonly server: { readonly cert: Buffer; readonly key: Buffer };
  readonly expired: { readonly cert: Buffer; readonly key: Buffer };
  readonly client: { readonly cert: Buffer; readonly key: Buffer };
  readonly remove: () => void;
}

export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'ipvs-ts-pki-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    ['[ca]', 'default_ca = ca_default', '[ca_default]', 'database = index.txt', 'new_certs_dir = .', 'serial = serial',
      'default_md = sha256', 'policy = any', 'copy_extensions = copy', 'unique_subject = no', '[any]', 'commonName = supplied', ''].join('\n'),
  );
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt',
    '-subj', '/CN=ipvs-ts test CA', '-days', '2');
  const issue = (name: string, cn: string, dates: string[]) => {
    ssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`,
      '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`);
    ssl('ca', '-batch', '-notext', '-config', 'ca.cnf', '-cert', 'ca.crt', '-keyfile', 'ca.key', '-in', `${name}.csr`, '-out', `${name}.crt`, ...dates);
    return { cert: readFileSync(join(dir, `${name}.crt`)), key: readFileSync(join(dir, `${name}.key`)) };
  };
  return {
    dir,
    ca: readFileSync(join(dir, 'ca.crt')),
    server: issue('server', 'www.example.test', ['-days', '2']),
    expired: issue('expired', 'www.example.test', ['-startdate', '20200101000000Z', '-enddate', '20200102000000Z']),
    client: issue('client', 'checker.example.test', ['-days', '2']),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
