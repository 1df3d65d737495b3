// Runs INSIDE the test VM; started by test/kernel/package.vmtest.ts, which built the .deb on the host. The package is
// installed with dpkg into an empty root (its own dpkg database, maintainer scripts run), the root gets only what
// the package's Depends stand for (the C/C++ runtime libraries) and a shell, and then, chrooted there — no project
// tree, npm, git or compiler in sight — `ipvs-ts check-config` runs and the daemon programs the kernel's IPVS.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sh } from './ipvs-kit.ts';

const DEB_DIR = new URL('../../../.cache/package-vmtest/', import.meta.url).pathname;
const deb = join(DEB_DIR, readdirSync(DEB_DIR).find((f) => f.endsWith('.deb')) ?? 'missing.deb');
const root = mkdtempSync('/tmp/ipvsts-root-');
let installLog = '';

/** A command inside the clean root, with a clean environment. */
function inRoot(args: readonly string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync('chroot', [root, ...args], { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

before(() => {
  sh(`mkdir -p ${root}/var/lib/dpkg/info ${root}/var/lib/dpkg/updates && touch ${root}/var/lib/dpkg/status`);
  // --force-depends: the empty root's dpkg database has no libc6; the libraries are copied in below instead.
  installLog = sh(`dpkg --root=${root} --force-script-chrootless --force-depends -i ${deb} 2>&1`);
  const node = `${root}/opt/ipvs-ts/node_modules/node/bin/node`;
  sh([
    `for lib in $( (ldd ${node}; ldd ${root}/opt/ipvs-ts/build/Release/ipvs_ts_sys.node) | grep -o '/[^ ]*' | sort -u); do mkdir -p ${root}$(dirname $lib); cp -L $lib ${root}$lib; done`,
    `mkdir -p ${root}/bin ${root}/proc ${root}/dev ${root}/run ${root}/tmp`,
    `cp /bin/busybox ${root}/bin/sh`,
    `mount -t proc proc ${root}/proc`,
    `mount --bind /dev ${root}/dev`,
    'modprobe -a ip_vs ip_vs_rr',
  ].join('\n'));
});

after(() => {
  sh(`umount ${root}/proc ${root}/dev 2>/dev/null; ipvsadm -C; true`);
  rmSync(root, { recursive: true, force: true });
});

test('dpkg installs the package into an empty root: registered, conffile kept, postinst made /etc/keepalived', () => {
  assert.match(installLog, /Setting up ipvs-ts \(/);
  assert.match(sh(`dpkg --root=${root} -s ipvs-ts`), /^Status: install ok installed$/m);
  assert.match(sh(`dpkg --root=${root} -s ipvs-ts`), /^Conffiles:\n \/etc\/default\/ipvs-ts-realserver [0-9a-f]{32}$/m);
  assert.ok(existsSync(`${root}/etc/keepalived`), 'postinst created /etc/keepalived');
  assert.equal(existsSync(`${root}/etc/keepalived/keepalived.conf`), false, 'and wrote no config');
  assert.match(installLog, /no \/etc\/keepalived\/keepalived\.conf yet; examples are in \/usr\/share\/doc\/ipvs-ts\/examples/);
});

test('in the clean root, /usr/sbin/ipvs-ts runs check-config on an installed example', (t) => {
  writeFileSync(`${root}/etc/keepalived/keepalived.conf`, readFileSync(`${root}/usr/share/doc/ipvs-ts/examples/lvs-dr-http.conf`, 'utf8'));
  const version = inRoot(['/usr/sbin/ipvs-ts', '--version']);
  assert.equal(version.out.trim(), sh(`dpkg --root=${root} -s ipvs-ts | sed -n 's/^Version: //p'`).trim());
  const r = inRoot(['/usr/sbin/ipvs-ts', 'check-config', '-f', '/etc/keepalived/keepalived.conf']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /\/etc\/keepalived\/keepalived\.conf: valid \(/);
  t.diagnostic(r.err.trim().split('\n').at(-1) as string);
});

test('in the clean root, the daemon from the package programs IPVS and stops on SIGTERM', async (t) => {
  writeFileSync(`${root}/etc/keepalived/keepalived.conf`, 'virtual_server 10.30.0.1 80 {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  real_server 10.30.1.1 80 {\n    weight 2\n  }\n}\n');
  const t0 = Date.now();
  const daemon = spawn('chroot', [root, '/usr/sbin/ipvs-ts', 'daemon', '--metrics', 'off'], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  daemon.stdout.on('data', (c) => (log += String(c)));
  daemon.stderr.on('data', (c) => (log += String(c)));
  const exited = new Promise<number | null>((resolve) => daemon.once('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 120_000;
    while (!/-> 10\.30\.1\.1:80\s+Masq\s+2/.test(sh('ipvsadm -Ln'))) {
      assert.ok(Date.now() < deadline && daemon.exitCode === null, `the daemon did not program IPVS\n${log}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    t.diagnostic(`IPVS programmed ${((Date.now() - t0) / 1000).toFixed(1)} s after the start`);
    daemon.kill('SIGTERM');
    assert.equal(await exited, 0, log);
    assert.match(sh('ipvsadm -Ln'), /TCP {2}10\.30\.0\.1:80 rr/, 'SIGTERM keeps the table serving, as keepalived does without lvs_flush_onstop');
  } finally {
    if (daemon.exitCode === null) daemon.kill('SIGKILL');
  }
});
