// A throw-away QEMU VM whose kernel has IPVS, for tests and benchmarks that need the real thing (this machine's
// kernel has no ip_vs). The guest runs the host's own userland (host `/` shared read-only over 9p under a tmpfs
// overlay) and the project directory read-write at the same path, so it runs the same node and sources; the node
// binary itself is copied to the guest's tmpfs first. TCG runs single-threaded (see accelArgs).
// The kernel and initramfs are built once into .cache/vm/ (see /work/shared/notes/test-labs.md for the facts).
//
// CLI for humans:  node test/kernel/vm.ts [--timeout SECONDS] -- COMMAND...
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  accessSync, chmodSync, closeSync, constants, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync,
  rmSync, writeFileSync, writeSync,
} from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CACHE_DIR = join(PROJECT_DIR, '.cache', 'vm');
const QEMU = 'qemu-system-x86_64';
const QBOOT = '/usr/share/qemu/qboot.rom';
const BUSYBOX = '/bin/busybox';
/** Modules the initramfs needs to mount the root over 9p; their dependencies are resolved by modprobe. */
const INITRAMFS_MODULES = ['virtio_pci', 'virtio_console', '9pnet_virtio', '9p', 'overlay'];

export interface VmRunOptions {
  /** Shell command run by /bin/sh in the guest, in the project directory, node_modules/.bin first on PATH. */
  readonly command: string;
  readonly timeoutMs?: number;
  readonly memoryMb?: number;
}

export interface VmRunResult {
  /** The command's exit status; null when the VM died or timed out before reporting one. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The kernel console, for diagnosing boot failures. */
  readonly console: string;
  readonly timedOut: boolean;
  readonly elapsedMs: number;
}

interface VmImage {
  readonly kernelVersion: string;
  readonly vmlinux: string;
  readonly initramfs: string;
  readonly modulesDir: string;
  readonly stage2: string;
  /** Hash of the boot scripts the initramfs and stage2 were made from. */
  readonly scripts?: string;
}

/** Whether this host can boot the test VM; the reason is the skip message when it cannot. */
export function canBootVm(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: 'the IPVS test VM needs Linux' };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'the IPVS test VM needs root (apt-get download, depmod)' };
  for (const tool of [QEMU, 'apt-get', 'dpkg-deb', 'depmod', 'modprobe', 'xz']) {
    if (!onPath(tool)) return { ok: false, reason: `the IPVS test VM needs ${tool} (install qemu-system-x86, kmod, xz-utils)` };
  }
  if (!existsSync(BUSYBOX)) return { ok: false, reason: `the IPVS test VM needs a static ${BUSYBOX} (install busybox-static)` };
  return { ok: true };
}

function onPath(tool: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      // try the next directory
    }
  }
  return false;
}

function run(cmd: string, args: readonly string[], opts: { cwd?: string; input?: Buffer } = {}): Buffer {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, input: opts.input, maxBuffer: 1 << 30 });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr?.toString().trim()}`);
  }
  return r.stdout;
}

/** The versioned kernel package Debian's linux-image-amd64 points at; refreshes package lists once if needed. */
function kernelPackage(): string {
  const find = (): string | undefined => {
    const r = spawnSync('apt-cache', ['depends', 'linux-image-amd64']);
    return /Depends:\s*(linux-image-\d\S*-amd64)/.exec(r.stdout?.toString() ?? '')?.[1];
  };
  const pkg = find() ?? (run('apt-get', ['update', '-qq']), find());
  if (!pkg) throw new Error('cannot find the linux-image-amd64 kernel package (apt-cache depends linux-image-amd64)');
  return pkg;
}

function downloadDeb(pkg: string, dir: string): string {
  const r = spawnSync('apt-get', ['download', pkg], { cwd: dir });
  if (r.status !== 0) run('apt-get', ['update', '-qq']), run('apt-get', ['download', pkg], { cwd: dir });
  const deb = readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${dir}`);
  return join(dir, deb);
}

/** The uncompressed ELF inside an xz bzImage boots directly (PVH) and saves TCG seconds of decompression. */
function extractVmlinux(bzImage: string, out: string): void {
  const image = readFileSync(bzImage);
  const at = image.indexOf(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
  if (at < 0) throw new Error(`${bzImage} holds no xz-compressed kernel`);
  writeFileSync(out, run('xz', ['-dc', '--single-stream'], { input: image.subarray(at) }));
}

const INIT = `#!/bin/busybox sh
/bin/busybox mkdir -p /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules/order); do insmod /modules/$m || echo "init: insmod $m failed"; done
for a in $(cat /proc/cmdline); do
  case $a in
    ipvsts.project=*) PROJECT=\${a#*=} ;;
    ipvsts.run=*) RUN=\${a#*=} ;;
    ipvsts.kver=*) KVER=\${a#*=} ;;
  esac
done
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro hostroot /mnt/lower || exec sh
mount -t tmpfs -o size=80% tmpfs /mnt/rw
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work /newroot || exec sh
# Fresh /tmp and /run before the project is mounted, so a project that lives under /tmp (a CI clone) stays visible.
mount -t tmpfs tmpfs /newroot/tmp
mount -t tmpfs tmpfs /newroot/run
mkdir -p /newroot$PROJECT
# Cached (loose) as the root is: every node start reads ~300 module files. The host does not write into the share
# while the guest runs, and stage2 syncs before power-off, so results still come back.
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose project /newroot$PROJECT || exec sh
mkdir -p /newroot/lib/modules/$KVER
mount --bind /newroot$PROJECT/.cache/vm/kernel/lib/modules/$KVER /newroot/lib/modules/$KVER
mount --move /dev /newroot/dev
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
exec switch_root /newroot /bin/sh $PROJECT/.cache/vm/stage2.sh $PROJECT $RUN
`;

// Runs on the host's userland after switch_root: the usual pseudo filesystems, the command with its output on
// the two virtio-serial ports, the exit status into the shared run directory, then power off.
const STAGE2 = `PROJECT=$1 RUN=$2
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts && mount -t tmpfs tmpfs /dev/shm
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
ip link set lo up
for p in /sys/class/virtio-ports/*; do
  case $(cat $p/name) in
    stdout) OUT=/dev/\${p##*/} ;;
    stderr) ERR=/dev/\${p##*/} ;;
  esac
done
export PATH=$PROJECT/node_modules/.bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
# Node runs from the guest's tmpfs: paging its 120 MB binary in over 9p made every start seconds slower. Its
# compile cache (type-stripped, compiled modules) lives on tmpfs too, since every process writes its new entries
# as it exits (seconds over 9p, enough to miss a daemon's stop bound), and is carried across boots in .cache.
CACHE=$PROJECT/.cache/vm/compile-cache
mkdir -p /run/vm-node/bin /run/vm-node/compile-cache
cp "$(readlink -f "$(command -v node)")" /run/vm-node/bin/node
[ -d $CACHE ] && cp -a $CACHE/. /run/vm-node/compile-cache/
export PATH=/run/vm-node/bin:$PATH NODE_COMPILE_CACHE=/run/vm-node/compile-cache
export IPVS_TS_IN_VM=1
cd $PROJECT
/bin/sh $RUN/command.sh >$OUT 2>$ERR </dev/null
STATUS=$?
mkdir -p $CACHE && cp -a -u /run/vm-node/compile-cache/. $CACHE/
echo $STATUS >$RUN/status.tmp && mv $RUN/status.tmp $RUN/status
sync
/bin/busybox poweroff -f
`;

const SCRIPTS_HASH = createHash('sha256').update(INIT).update(STAGE2).digest('hex');

async function withLock<T>(fn: () => T | Promise<T>): Promise<T> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const lock = join(CACHE_DIR, 'build.lock');
  for (;;) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch {
      const holder = Number(readFileSync(lock, { encoding: 'utf8', flag: 'a+' }));
      if (!holder || !alive(holder)) rmSync(lock, { force: true });
      else await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Builds (once; later calls read the cache) the kernel, its module tree and the initramfs. */
export async function prepareVm(): Promise<VmImage> {
  return withLock(() => {
    const manifest = join(CACHE_DIR, 'image.json');
    if (existsSync(manifest)) {
      const image = JSON.parse(readFileSync(manifest, 'utf8')) as VmImage;
      if (existsSync(image.vmlinux) && existsSync(image.initramfs)) {
        // The boot scripts change with the project; the downloaded kernel does not, so only they are redone.
        if (image.scripts !== SCRIPTS_HASH) {
          buildInitramfs(join(CACHE_DIR, 'kernel'), image.kernelVersion, image.initramfs);
          writeFileSync(image.stage2, STAGE2);
          writeFileSync(manifest, JSON.stringify({ ...image, scripts: SCRIPTS_HASH }, null, 2));
        }
        return image;
      }
    }
    const kernelDir = join(CACHE_DIR, 'kernel');
    const dlDir = join(CACHE_DIR, 'download');
    rmSync(kernelDir, { recursive: true, force: true });
    rmSync(dlDir, { recursive: true, force: true });
    mkdirSync(dlDir, { recursive: true });
    const pkg = kernelPackage();
    const deb = downloadDeb(pkg, dlDir);
    run('dpkg-deb', ['-x', deb, kernelDir]);
    const kernelVersion = readdirSync(join(kernelDir, 'lib/modules'))[0];
    if (!kernelVersion) throw new Error(`${deb} holds no module tree`);
    run('depmod', ['-b', kernelDir, kernelVersion]);
    const vmlinux = join(CACHE_DIR, 'vmlinux');
    extractVmlinux(join(kernelDir, 'boot', `vmlinuz-${kernelVersion}`), vmlinux);
    const initramfs = join(CACHE_DIR, 'initramfs.cpio');
    buildInitramfs(kernelDir, kernelVersion, initramfs);
    const stage2 = join(CACHE_DIR, 'stage2.sh');
    writeFileSync(stage2, STAGE2);
    rmSync(dlDir, { recursive: true, force: true });
    const image: VmImage = { kernelVersion, vmlinux, initramfs, modulesDir: join(kernelDir, 'lib/modules', kernelVersion), stage2, scripts: SCRIPTS_HASH };
    writeFileSync(manifest, JSON.stringify(image, null, 2));
    return image;
  });
}

function buildInitramfs(kernelDir: string, kver: string, out: string): void {
  const root = join(CACHE_DIR, 'initramfs');
  rmSync(root, { recursive: true, force: true });
  for (const d of ['bin', 'dev', 'proc', 'sys', 'modules', 'mnt/lower', 'mnt/rw', 'newroot']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync(BUSYBOX, join(root, 'bin/busybox'));
  chmodSync(join(root, 'bin/busybox'), 0o755);
  writeFileSync(join(root, 'init'), INIT, { mode: 0o755 });
  const order: string[] = [];
  for (const mod of INITRAMFS_MODULES) {
    const deps = run('modprobe', ['-d', kernelDir, '-S', kver, '--show-depends', mod]).toString();
    for (const m of deps.matchAll(/^insmod (\S+)/gm)) {
      const file = m[1] as string;
      const name = file.slice(file.lastIndexOf('/') + 1);
      if (order.includes(name)) continue;
      copyFileSync(file, join(root, 'modules', name));
      order.push(name);
    }
  }
  writeFileSync(join(root, 'modules/order'), order.join('\n') + '\n');
  const files = run(BUSYBOX, ['find', '.'], { cwd: root });
  writeFileSync(out, run(BUSYBOX, ['cpio', '-o', '-H', 'newc'], { cwd: root, input: files }));
  rmSync(root, { recursive: true, force: true });
}

function accelArgs(): string[] {
  // A paravirtual KVM (kvm_pvm) hangs a stock kernel early in boot; only real hardware KVM is worth using.
  const hardwareKvm = existsSync('/dev/kvm') && !existsSync('/sys/module/kvm_pvm') && readFileSync('/proc/cpuinfo', 'utf8').match(/\b(vmx|svm)\b/);
  // TCG single-threaded: under multi-threaded TCG Node 24 in the guest dies in V8 (SIGSEGV/SIGTRAP) about one run
  // in six; single-threaded it has not (test/kernel/harness.vmtest.ts). Both vCPUs then share one host core.
  return hardwareKvm ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=single', '-cpu', 'max'];
}

/** Boots the VM, runs one shell command in it and powers it off; the QEMU process never outlives the call. */
export async function runInVm(opts: VmRunOptions): Promise<VmRunResult> {
  const check = canBootVm();
  if (!check.ok) throw new Error(check.reason);
  const image = await prepareVm();
  removeStaleRuns();
  const runDir = join(CACHE_DIR, 'runs', `${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, 'command.sh'), opts.command + '\n');
  const outFile = join(runDir, 'stdout');
  const errFile = join(runDir, 'stderr');
  const consoleFile = join(runDir, 'console');
  const append = [
    'console=ttyS0', 'quiet', 'panic=-1', 'mitigations=off', 'cryptomgr.notests',
    `ipvsts.project=${PROJECT_DIR}`, `ipvsts.run=${runDir}`, `ipvsts.kver=${image.kernelVersion}`,
  ].join(' ');
  const args = [
    '-machine', 'q35', ...(existsSync(QBOOT) ? ['-bios', QBOOT] : []), ...accelArgs(),
    '-smp', '2', '-m', String(opts.memoryMb ?? 1024),
    '-kernel', image.vmlinux, '-initrd', image.initramfs, '-append', append,
    '-display', 'none', '-monitor', 'none', '-serial', `file:${consoleFile}`, '-no-reboot', '-nic', 'none',
    '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    '-virtfs', `local,path=${PROJECT_DIR},mount_tag=project,security_model=none,multidevs=remap`,
    '-device', 'virtio-serial-pci',
    '-chardev', `file,id=out,path=${outFile}`, '-device', 'virtserialport,chardev=out,name=stdout',
    '-chardev', `file,id=err,path=${errFile}`, '-device', 'virtserialport,chardev=err,name=stderr',
  ];
  const started = Date.now();
  // setpriv --pdeathsig: QEMU dies with us even when we are killed outright (no 'exit' handler runs then).
  const qemu = onPath('setpriv')
    ? spawn('setpriv', ['--pdeathsig', 'KILL', '--', QEMU, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(QEMU, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let qemuErr = '';
  qemu.stderr.on('data', (d: Buffer) => (qemuErr += d.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    qemu.kill('SIGKILL');
  }, opts.timeoutMs ?? 300_000);
  const kill = (): void => void qemu.kill('SIGKILL');
  process.once('exit', kill);
  try {
    await new Promise<void>((res, rej) => {
      qemu.once('error', rej);
      qemu.once('exit', () => res());
    });
    const read = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8') : '');
    const status = read(join(runDir, 'status')).trim();
    return {
      code: status === '' ? null : Number(status),
      stdout: read(outFile),
      stderr: read(errFile) + (qemuErr ? `\n[qemu] ${qemuErr}` : ''),
      console: read(consoleFile),
      timedOut,
      elapsedMs: Date.now() - started,
    };
  } finally {
    clearTimeout(timer);
    process.removeListener('exit', kill);
    if (qemu.exitCode === null && qemu.signalCode === null) qemu.kill('SIGKILL');
    rmSync(runDir, { recursive: true, force: true });
  }
}

/**
 * For a script that measures inside the VM (bench/*, this file's CLI): boots the VM, runs the command there,
 * relays its output and exits with its status; `name` prefixes what this side reports.
 */
export async function relayInVm(opts: VmRunOptions, name: string): Promise<never> {
  const check = canBootVm();
  if (!check.ok) {
    process.stderr.write(`${name}: ${check.reason}\n`);
    process.exit(2);
  }
  const r = await runInVm(opts);
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  if (r.code === null) process.stderr.write(`${name}: no exit status (${r.timedOut ? 'timed out' : 'VM died'}); console:\n${r.console.slice(-3000)}\n`);
  process.stderr.write(`${name}: VM run ${(r.elapsedMs / 1000).toFixed(1)} s\n`);
  process.exit(r.code ?? 1);
}

/** Run directories of processes that were killed before they could clean up. */
function removeStaleRuns(): void {
  const runs = join(CACHE_DIR, 'runs');
  if (!existsSync(runs)) return;
  for (const name of readdirSync(runs)) {
    const pid = Number(name.split('-')[0]);
    if (pid && !alive(pid)) rmSync(join(runs, name), { recursive: true, force: true });
  }
}

function shellQuote(s: string): string {
  return /^[\w./=:,+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  let timeoutMs = 600_000;
  if (argv[0] === '--timeout') timeoutMs = Number(argv.splice(0, 2)[1]) * 1000;
  if (argv[0] === '--') argv.shift();
  if (argv.length === 0) {
    process.stderr.write('usage: node test/kernel/vm.ts [--timeout SECONDS] -- COMMAND...\n');
    process.exit(2);
  }
  await relayInVm({ command: argv.length === 1 ? (argv[0] as string) : argv.map(shellQuote).join(' '), timeoutMs }, 'vm');
}
