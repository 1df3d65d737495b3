// `npm run package`: a Debian package for director hosts that need no compiler, npm or git: the pinned Node.js
// runtime, the sources, the production dependencies and the native shim this machine built at `npm ci`, under
// /opt/ipvs-ts (where the systemd units look), with /usr/sbin/ipvs-ts, both units, the real-server defaults file,
// the man page and the docs. Run it after `npm ci`; it prints the path of the .deb (default under .cache/package/).
//
//   node deploy/debian/build.ts [--out DIR]
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { buildProgram } from '../../src/cli/main.ts';
import { manPage } from './manpage.ts';
import { programFiles } from './program-files.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OPT = 'opt/ipvs-ts';

export function buildDeb(outDir: string): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; description: string; license: string };
  const shim = join(ROOT, 'build/Release/ipvs_ts_sys.node');
  const node = realpathSync(join(ROOT, 'node_modules/.bin/node'));
  if (!existsSync(shim)) throw new Error(`${shim} is missing: run npm ci first (it builds the native shim)`);
  const stage = mkdtempSync(join(tmpdir(), 'ipvs-ts-deb-'));
  try {
    const put = (path: string, text: string, mode = 0o644): void => {
      mkdirSync(dirname(join(stage, path)), { recursive: true });
      writeFileSync(join(stage, path), text);
      chmodSync(join(stage, path), mode);
    };
    const copy = (from: string, to: string): void => cpSync(join(ROOT, from), join(stage, to), { recursive: true, dereference: true });

    // The program: only what runs is shipped.
    for (const path of programFiles(ROOT)) copy(path, `${OPT}/${path}`);
    put(`${OPT}/package.json`, `${JSON.stringify({ name: pkg.name, version: pkg.version, type: 'module', private: true }, null, 2)}\n`);
    // The runtime where the units and the wrapper look for it: node_modules/.bin/node, as in a checkout.
    cpSync(node, join(stage, OPT, 'node_modules/node/bin/node'));
    mkdirSync(join(stage, OPT, 'node_modules/.bin'));
    symlinkSync('../node/bin/node', join(stage, OPT, 'node_modules/.bin/node'));

    put('usr/sbin/ipvs-ts', '#!/bin/sh\nexec /opt/ipvs-ts/node_modules/.bin/node --max-semi-space-size=16 /opt/ipvs-ts/bin/ipvs-ts.js "$@"\n', 0o755);
    copy('deploy/systemd/ipvs-ts.service', 'lib/systemd/system/ipvs-ts.service');
    copy('deploy/systemd/ipvs-ts-realserver.service', 'lib/systemd/system/ipvs-ts-realserver.service');
    copy('deploy/systemd/ipvs-ts-realserver.env', 'etc/default/ipvs-ts-realserver');
    copy('README.md', 'usr/share/doc/ipvs-ts/README.md');
    copy('docs', 'usr/share/doc/ipvs-ts/docs');
    copy('deploy/examples', 'usr/share/doc/ipvs-ts/examples');
    put('usr/share/doc/ipvs-ts/copyright', `ipvs-ts ${pkg.version}, license ${pkg.license}. Node.js (/opt/ipvs-ts/node_modules/node) and the libraries under\n/opt/ipvs-ts/node_modules carry their own licenses in their directories.\n`);
    const date = new Date().toISOString().slice(0, 10);
    mkdirSync(join(stage, 'usr/share/man/man8'), { recursive: true });
    writeFileSync(join(stage, 'usr/share/man/man8/ipvs-ts.8.gz'), gzipSync(manPage(buildProgram(), pkg.version, date), { level: 9 }));

    put('DEBIAN/control', control(pkg, installedSizeKb(stage)));
    put('DEBIAN/conffiles', '/etc/default/ipvs-ts-realserver\n');
    put('DEBIAN/postinst', POSTINST, 0o755);
    put('DEBIAN/postrm', POSTRM, 0o755);
    mkdirSync(outDir, { recursive: true });
    const deb = join(outDir, `${pkg.name}_${pkg.version}_amd64.deb`);
    // gzip: every dpkg reads it, and it packs the 120 MB runtime in seconds where xz takes minutes.
    execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z6', '--build', stage, deb], { stdio: ['ignore', 'ignore', 'inherit'] });
    return deb;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

function control(pkg: { name: string; version: string; description: string }, sizeKb: number): string {
  return [
    `Package: ${pkg.name}`,
    `Version: ${pkg.version}`,
    'Architecture: amd64',
    'Maintainer: ipvs-ts maintainers <root@localhost>',
    `Installed-Size: ${sizeKb}`,
    // What the bundled node binary and the native shim link against, nothing else.
    'Depends: libc6 (>= 2.28), libstdc++6, libgcc-s1',
    'Recommends: ipvsadm',
    'Section: net',
    'Priority: optional',
    `Description: ${pkg.description}`,
    ' Reads an existing keepalived.conf, programs the kernel IPVS table over generic',
    ' netlink, health-checks real servers and runs VRRP; also prepares LVS-DR/TUN',
    ' real servers and imports ipvsadm scripts and heartbeat configurations.',
    ' Carries its own Node.js runtime and native socket shim: no compiler, npm or',
    ' git on the host.',
    '',
  ].join('\n');
}

function installedSizeKb(dir: string): number {
  const walk = (d: string): number => readdirSync(d, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? walk(join(d, e.name)) : e.isFile() ? readFileSync(join(d, e.name)).length : 0), 0);
  return Math.ceil(walk(dir) / 1024);
}

// $DPKG_ROOT: dpkg's install root (empty on a normal install), so the scripts also work for `dpkg --root`.
// /etc/keepalived is shared with keepalived: the package creates the directory and never writes keepalived.conf;
// the daemon is not enabled, because the host may still run keepalived on the same config.
const POSTINST = `#!/bin/sh
set -e
if [ "$1" = configure ]; then
  mkdir -p "$DPKG_ROOT/etc/keepalived"
  if [ ! -e "$DPKG_ROOT/etc/keepalived/keepalived.conf" ]; then
    echo "ipvs-ts: no /etc/keepalived/keepalived.conf yet; examples are in /usr/share/doc/ipvs-ts/examples" >&2
  fi
  if [ -z "$DPKG_ROOT" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
  echo "ipvs-ts: check the config with 'ipvs-ts check-config -f /etc/keepalived/keepalived.conf', then 'systemctl enable --now ipvs-ts' (it conflicts with keepalived.service)" >&2
fi
exit 0
`;

const POSTRM = `#!/bin/sh
set -e
if [ -z "$DPKG_ROOT" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
exit 0
`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const out = i > 0 ? (process.argv[i + 1] as string) : join(ROOT, '.cache/package');
  process.stdout.write(`${buildDeb(out)}\n`);
}
