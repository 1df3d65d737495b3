#!/usr/bin/env node
// The sources are TypeScript run directly by Node's type stripping, which needs Node 24 (pinned in package.json).
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`ipvs-ts needs Node.js 24 or newer (this is ${process.version}); run it through "npm start --" or put node_modules/.bin first on PATH\n`);
  process.exit(2);
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
