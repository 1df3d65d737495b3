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
const { guardSignals } = await import('../src/control/dumps.ts');
guardSignals();
const { nameProcess } = await import('../src/cli/process-name.ts');
nameProcess(process.argv.slice(2));
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
