#!/usr/bin/env -S node --max-semi-space-size=16
// The flag: a 16 MB semi-space keeps the young generation small while a large configuration loads (the default let
// it grow past 100 MB, which made a 100,000-real-server start 1.5x slower in the VM; docs/benchmarks.md).
// The sources are TypeScript run directly by Node's type stripping, which needs Node 24 (pinned in package.json).
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`ipvs-ts needs Node.js 24 or newer (this is ${process.version}); run it through "npm start --" or put node_modules/.bin first on PATH\n`);
  process.exit(2);
}
// Until SIGUSR1 has a listener Node opens its inspector on it, and SIGUSR2 kills the process. These listeners come
// first, in plain JavaScript (loading the first TypeScript module takes a while), and stay: a signal that arrives
// before src/control/dumps.ts has loaded is ignored, later ones write its dumps.
const ignore = () => undefined;
process.on('SIGUSR1', ignore);
process.on('SIGUSR2', ignore);
await enableCompileCache();
const { guardSignals } = await import('../src/control/dumps.ts');
guardSignals();
const { nameProcess } = await import('../src/cli/process-name.ts');
nameProcess(process.argv.slice(2));
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);

/**
 * Node's compile cache keeps the modules type-stripped and compiled; without it every run strips and compiles its
 * ~150 TypeScript modules again (a one-service `check-config` took 0.34-0.49 s on the host, 0.14-0.19 s with the
 * cache warm).
 * Where NODE_COMPILE_CACHE is set (the systemd unit, the VM lab) node has enabled it already, and
 * NODE_DISABLE_COMPILE_CACHE turns it off. Otherwise a command gets the user's own cache directory
 * ($XDG_CACHE_HOME/ipvs-ts or ~/.cache/ipvs-ts), and only when that directory and its parent belong to the user
 * (or root) and nobody else may write to them: the cache is code this process will run, often as root.
 */
async function enableCompileCache() {
  const env = process.env;
  if (env.NODE_COMPILE_CACHE || env.NODE_DISABLE_COMPILE_CACHE) return;
  const { join } = await import('node:path');
  const base = env.XDG_CACHE_HOME || (env.HOME ? join(env.HOME, '.cache') : undefined);
  if (!base || !base.startsWith('/')) return;
  const dir = join(base, 'ipvs-ts');
  const fs = await import('node:fs');
  const uid = process.getuid();
  const safe = (path) => {
    const st = fs.statSync(path);
    return st.isDirectory() && (st.uid === uid || st.uid === 0) && (st.mode & 0o022) === 0;
  };
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!safe(dir) || !safe(base)) return;
  } catch {
    return; // a read-only or missing home: the command runs without the cache
  }
  (await import('node:module')).enableCompileCache(dir);
}
