// What a node process costs in the IPVS test VM (test/kernel/vm.ts), and what the harness's choices save there:
// the binary on the guest's tmpfs instead of paged in over 9p, node's compile cache, and that cache on tmpfs
// instead of 9p (a process writes its new entries as it exits).
//
//   node bench/vm-node-start.ts [RUNS]     (root; default 5 runs per case; boots one VM)
//
// Each case starts node RUNS times in a row inside one guest and prints min / median / max wall time; compare
// only the ratios, the absolute figures move several-fold from day to day under TCG.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const runs = Number(process.argv[2] ?? 5);

if (!process.env.IPVS_TS_IN_VM) {
  const { relayInVm } = await import('../test/kernel/vm.ts');
  await relayInVm({ command: `node bench/vm-node-start.ts ${runs}`, timeoutMs: 1_800_000 }, 'bench');
}

interface Timing {
  readonly wall: number[];
  /** For the exit case: what the script measured itself, so wall − inScript is the exit. */
  readonly inScript: number[];
}

function time(node: string, args: readonly string[], env: NodeJS.ProcessEnv, n: number, fresh?: () => NodeJS.ProcessEnv): Timing {
  const wall: number[] = [];
  const inScript: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const all = { ...process.env, ...env, ...fresh?.() };
    if (all.NODE_COMPILE_CACHE === '') delete all.NODE_COMPILE_CACHE;
    const r = spawnSync(node, args, { encoding: 'utf8', env: all });
    wall.push((performance.now() - t0) / 1000);
    if (r.status !== 0) throw new Error(`${node} ${args.join(' ')}: ${r.signal ?? `exit ${r.status}`} ${r.stderr}`);
    const m = /in-script (\d+\.\d+)/.exec(r.stdout);
    if (m) inScript.push(Number(m[1]));
  }
  return { wall, inScript };
}

const stats = (xs: readonly number[]): string => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => (s[Math.min(s.length - 1, Math.floor(q * s.length))] as number).toFixed(2);
  return `${at(0)} / ${at(0.5)} / ${at(1)} s`;
};
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const tmpfsNode = process.execPath;
const sharedNode = join(process.cwd(), 'node_modules/node/bin/node');
/** '' removes the variable: the harness sets one for every guest process. */
const noCache = { NODE_COMPILE_CACHE: '' };
const warmCache = mkdtempSync('/run/bench-cc-');
const importAll = ['--input-type=module', '-e', "await import('./src/daemon/daemon.ts'); await import('./src/cli/main.ts'); console.log('in-script', (performance.now() / 1000).toFixed(3))"];
const coldDir = (base: string) => () => ({ NODE_COMPILE_CACHE: mkdtempSync(join(base, 'bench-cc-')) });

process.stdout.write(`node start in the VM, ${runs} runs per case (min / median / max wall time)\n\n`);
const cases: [string, Timing][] = [];
const run = (label: string, t: Timing) => {
  cases.push([label, t]);
  process.stdout.write(`${label.padEnd(66)} ${stats(t.wall)}\n`);
};
run('node -e 0, binary paged in over 9p (the project share)', time(sharedNode, ['-e', '0'], noCache, runs));
run('node -e 0, binary on the guest tmpfs', time(tmpfsNode, ['-e', '0'], noCache, runs));
run('ipvs-ts --version, no compile cache', time(tmpfsNode, ['bin/ipvs-ts.js', '--version'], noCache, runs));
time(tmpfsNode, ['bin/ipvs-ts.js', '--version'], { NODE_COMPILE_CACHE: warmCache }, 1);
run('ipvs-ts --version, warm compile cache', time(tmpfsNode, ['bin/ipvs-ts.js', '--version'], { NODE_COMPILE_CACHE: warmCache }, runs));
const cold9p = time(tmpfsNode, importAll, {}, runs, coldDir(join(process.cwd(), '.cache')));
const coldTmpfs = time(tmpfsNode, importAll, {}, runs, coldDir('/run'));
process.stdout.write('\nexit of a process that loaded the daemon and the CLI with an empty compile cache (wall − its own time):\n');
for (const [label, t] of [['cache on 9p', cold9p], ['cache on tmpfs', coldTmpfs]] as const) {
  const exits = t.wall.map((w, i) => w - (t.inScript[i] as number));
  process.stdout.write(`  ${label.padEnd(16)} exit ${stats(exits)}; whole process ${stats(t.wall)}\n`);
}
const ratio = (a: string, b: string) => {
  const get = (l: string) => median((cases.find(([x]) => x === l) as [string, Timing])[1].wall);
  return (get(a) / get(b)).toFixed(1);
};
process.stdout.write(`\nratios of medians: binary over 9p / tmpfs ${ratio('node -e 0, binary paged in over 9p (the project share)', 'node -e 0, binary on the guest tmpfs')}×; ` +
  `CLI without / with compile cache ${ratio('ipvs-ts --version, no compile cache', 'ipvs-ts --version, warm compile cache')}×; ` +
  `exit with the cache on 9p / tmpfs ${(median(cold9p.wall.map((w, i) => w - (cold9p.inScript[i] as number))) / median(coldTmpfs.wall.map((w, i) => w - (coldTmpfs.inScript[i] as number)))).toFixed(1)}×\n`);
rmSync(warmCache, { recursive: true, force: true });
spawnSync('sh', ['-c', 'rm -rf .cache/bench-cc-* /run/bench-cc-*']);
