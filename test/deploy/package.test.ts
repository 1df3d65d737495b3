// `npm run package` (deploy/debian/build.ts): what the Debian package carries and declares. Installing it into a
// clean root and running the director from it is test/kernel/package.vmtest.ts.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildDeb } from '../../deploy/debian/build.ts';

const out = mkdtempSync(join(tmpdir(), 'ipvsts-deb-'));
let deb = '';
const skip = spawnSync('dpkg-deb', ['--version']).status === 0 ? false : 'needs dpkg-deb';
before(() => {
  if (!skip) deb = buildDeb(out);
});
after(() => rmSync(out, { recursive: true, force: true }));

const field = (name: string): string => execFileSync('dpkg-deb', ['-f', deb, name], { encoding: 'utf8' }).trim();

test('control: name, version, the runtime libraries the bundled node and shim link against, the conffile, DPKG_ROOT-aware scripts', { skip }, () => {
  const pkg = JSON.parse(execFileSync('cat', ['package.json'], { encoding: 'utf8', cwd: new URL('../../', import.meta.url).pathname })) as { version: string };
  assert.equal(field('Package'), 'ipvs-ts');
  assert.equal(field('Version'), pkg.version);
  assert.equal(field('Architecture'), 'amd64');
  assert.equal(field('Depends'), 'libc6 (>= 2.28), libstdc++6, libgcc-s1');
  assert.ok(Number(field('Installed-Size')) > 100_000, 'the runtime is in it');
  const ctl = mkdtempSync(join(out, 'ctl-'));
  execFileSync('dpkg-deb', ['-e', deb, ctl]);
  assert.equal(execFileSync('cat', [join(ctl, 'conffiles')], { encoding: 'utf8' }), '/etc/default/ipvs-ts-realserver\n');
  assert.match(execFileSync('cat', [join(ctl, 'postinst')], { encoding: 'utf8' }), /mkdir -p "\$DPKG_ROOT\/etc\/keepalived"/);
});

test('contents: runtime, shim, sources, production dependencies only, units, wrapper, defaults, man page, docs; no tests, no dev tools', { skip }, () => {
  const files = execFileSync('dpkg-deb', ['-c', deb], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n').map((l) => l.split(/\s+/).slice(5).join(' ')).filter(Boolean);
  for (const f of [
    './opt/ipvs-ts/node_modules/node/bin/node', './opt/ipvs-ts/node_modules/.bin/node -> ../node/bin/node', './opt/ipvs-ts/build/Release/ipvs_ts_sys.node',
    './opt/ipvs-ts/bin/ipvs-ts.js', './opt/ipvs-ts/src/cli/main.ts', './opt/ipvs-ts/src/realserver/needs.ts', './opt/ipvs-ts/node_modules/commander/package.json',
    './opt/ipvs-ts/node_modules/undici/package.json', './usr/sbin/ipvs-ts', './lib/systemd/system/ipvs-ts.service', './lib/systemd/system/ipvs-ts-realserver.service',
    './etc/default/ipvs-ts-realserver', './usr/share/man/man8/ipvs-ts.8.gz', './usr/share/doc/ipvs-ts/docs/migrate.md', './usr/share/doc/ipvs-ts/examples/lvs-dr-http.conf',
  ]) assert.ok(files.includes(f), `${f} in the package`);
  for (const bad of ['./opt/ipvs-ts/test/', '/.cache/', 'node_modules/typescript/', 'node_modules/@types/', 'node_modules/node-addon-api/', '/native/', 'keepalived.conf']) {
    assert.deepEqual(files.filter((f) => f.includes(bad)), [], `nothing under ${bad}`);
  }
});

test('the man page has a section for every command and subcommand and renders without warnings', { skip }, (t) => {
  const page = execFileSync('sh', ['-c', `dpkg-deb --fsys-tarfile ${deb} | tar -xO ./usr/share/man/man8/ipvs-ts.8.gz | gunzip`], { encoding: 'utf8', maxBuffer: 64 << 20 });
  for (const c of ['check-config', 'daemon', 'ipvs list', 'ipvs apply', 'realserver up', 'realserver down', 'realserver status', 'import ipvsadm', 'import heartbeat']) {
    assert.match(page, new RegExp(`^\\.SS ipvs-ts ${c}$`, 'm'));
  }
  assert.match(page, /^\\&Exit status:$/m, "the commands' man-page style help is in it");
  if (spawnSync('man', ['--version']).status !== 0) return t.skip('no man to render with');
  const r = spawnSync('sh', ['-c', 'man --warnings -l - >/dev/null'], { input: page, encoding: 'utf8' });
  assert.equal(r.stderr, '');
});
