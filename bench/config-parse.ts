// Parses a generated keepalived.conf with 10,000 virtual servers × 10 real servers, each with a TCP_CHECK: how long
// each stage takes and what the model keeps on the heap.
//   node bench/config-parse.ts [--against DIR] [--cold N] [virtualServers] [realServersEach]
// --against DIR: also loads the same text with DIR/src/config (another checkout, e.g. `git archive main src | tar -x
// -C DIR`), alternating with this one in this process, and prints the ratio of their CPU medians.
// --cold N: also N fresh processes that load the text once each (as the daemon does at its start: unoptimised code,
// a heap that grows as it goes), alternating with DIR's with --against; their CPU medians and ratio.
//
// Stages, each timed over the same text in this process: reading and lexing (tokens to a counting sink), + building
// statements (TreeBuilder with a sink that drops them), the whole load (parseConfigText: model, defaults,
// inheritance, validation). Their CPU time is also given as a multiple of a plain charCodeAt scan of the text, the
// reference that moves with the machine's load as they do.
// Memory: the heap the loaded model retains after a full GC, per real server, with the text dropped (so a model
// that pins its source text counts it). Heap sizes do not move with the load: they compare across runs.
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseConfigText, type Config } from '../src/config/index.ts';
import { Problems } from '../src/config/problems.ts';
import { readConfigText } from '../src/config/source.ts';
import { TreeBuilder } from '../src/config/tree.ts';

export function generateConfig(virtualServers: number, realServers: number): string {
  const out: string[] = ['global_defs {', '    router_id bench', '}', ''];
  for (let v = 0; v < virtualServers; v++) {
    out.push(`virtual_server 10.${(v >> 8) & 255}.${v & 255}.1 80 {`, '    delay_loop 6', '    lb_algo wrr', '    lb_kind DR', '    protocol TCP', '');
    for (let r = 0; r < realServers; r++) {
      out.push(
        `    real_server 172.16.${v & 255}.${r + 10} 80 {`,
        '        weight 1',
        '        TCP_CHECK {',
        '            connect_timeout 3',
        '            retry 2',
        '            delay_before_retry 2',
        '        }',
        '    }',
      );
    }
    out.push('}', '');
  }
  return out.join('\n');
}

const RUNS = 5;
const AB_RUNS = 11;

function scan(text: string): number {
  let sum = 0;
  for (let i = 0; i < text.length; i++) sum += text.charCodeAt(i);
  return sum;
}

function lexOnly(text: string): number {
  let tokens = 0;
  readConfigText(text, 'bench.conf', new Problems(), () => {
    tokens++;
  });
  return tokens;
}

function lexAndTree(text: string): number {
  const problems = new Problems();
  let statements = 0;
  const tree = new TreeBuilder(problems, () => {
    statements++;
  });
  readConfigText(text, 'bench.conf', problems, (t) => tree.feed(t));
  tree.end();
  return statements;
}

function load(text: string, vsCount: number): Config {
  const r = parseConfigText(text, 'bench.conf', { skipHostChecks: true });
  if (!r.config || r.config.virtualServers.length !== vsCount) throw new Error(`bench config did not parse: ${r.problems[0]?.message}`);
  return r.config;
}

/** CPU and wall milliseconds of one call. */
function timed(f: () => unknown): { wall: number; cpu: number } {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  f();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: (cpu.user + cpu.system) / 1000 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** CPU milliseconds of one load of the text in a fresh process, with `dir`'s src/config. */
function coldLoad(dir: string, vsCount: number, rsCount: number): number {
  const out = execFileSync(process.execPath, [import.meta.filename, '--child-load', dir, String(vsCount), String(rsCount)], { encoding: 'utf8' });
  return Number(out.trim());
}

if (import.meta.main && process.argv[2] === '--child-load') {
  const [dir, vs, rs] = process.argv.slice(3) as [string, string, string];
  const text = generateConfig(Number(vs), Number(rs));
  const { parseConfigText: parse } = (await import(resolve(dir, 'src/config/index.ts'))) as { parseConfigText: typeof parseConfigText };
  const { cpu } = timed(() => parse(text, 'bench.conf', { skipHostChecks: true }));
  console.log(cpu.toFixed(1));
} else if (import.meta.main) {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const heapUsed = (): number => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  const args = process.argv.slice(2);
  const againstAt = args.indexOf('--against');
  const against = againstAt >= 0 ? args.splice(againstAt, 2)[1] : undefined;
  const coldAt = args.indexOf('--cold');
  const coldRuns = coldAt >= 0 ? Number(args.splice(coldAt, 2)[1]) : 0;
  const vsCount = Number(args[0] ?? 10_000);
  const rsCount = Number(args[1] ?? 10);
  const servers = vsCount * rsCount;

  // Memory first, on a fresh heap: the text is made inside and dropped, so only what the model keeps remains.
  const before = heapUsed();
  // The text lives only in this function's frame: a temporary of the module's own frame would stay alive with it.
  const fresh = (): Config => load(generateConfig(vsCount, rsCount), vsCount);
  let config: Config | undefined = fresh();
  const model = heapUsed() - before;
  if (config.virtualServers.length === vsCount) config = undefined; // timed below on a heap without it

  const text = generateConfig(vsCount, rsCount);
  const stages = { scan: [] as number[], lex: [] as number[], tree: [] as number[], load: [] as number[] };
  const walls: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    stages.scan.push(timed(() => scan(text)).cpu);
    stages.lex.push(timed(() => lexOnly(text)).cpu);
    stages.tree.push(timed(() => lexAndTree(text)).cpu);
    const whole = timed(() => load(text, vsCount));
    stages.load.push(whole.cpu);
    walls.push(whole.wall);
  }
  const mb = (Buffer.byteLength(text) / 1e6).toFixed(1);
  const ref = median(stages.scan);
  const lex = median(stages.lex);
  const tree = median(stages.tree);
  const all = median(stages.load);
  const x = (ms: number): string => `${ms.toFixed(0)} ms (${(ms / ref).toFixed(1)}× scan)`;
  console.log(`config-parse: ${vsCount} virtual servers × ${rsCount} real servers with TCP_CHECK (${mb} MB); load average ${loadavg()[0]?.toFixed(1)}`);
  console.log(
    `  CPU, median of ${RUNS}: scan ${ref.toFixed(0)} ms; lex ${x(lex)}; + statements ${x(tree)}; whole load ${x(all)} ` +
      `(best ${Math.min(...stages.load).toFixed(0)} ms, wall median ${median(walls).toFixed(0)} ms)`,
  );
  console.log(`  by stage: lex ${(lex / all * 100).toFixed(0)} %, statements ${((tree - lex) / all * 100).toFixed(0)} %, model and validation ${((all - tree) / all * 100).toFixed(0)} %`);
  console.log(`  heap retained by the model: ${(model / 1e6).toFixed(1)} MB, ${(model / servers).toFixed(0)} B per real server`);
  if (against) {
    const other = (await import(resolve(against, 'src/config/index.ts'))) as { parseConfigText: typeof parseConfigText };
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < AB_RUNS; i++) {
      theirs.push(timed(() => other.parseConfigText(text, 'bench.conf', { skipHostChecks: true })).cpu);
      ours.push(timed(() => load(text, vsCount)).cpu);
    }
    console.log(
      `  against ${against}, alternated ${AB_RUNS} times: CPU median ${median(ours).toFixed(0)} ms here, ${median(theirs).toFixed(0)} ms there, ` +
        `ratio ${(median(ours) / median(theirs)).toFixed(2)} (best ${Math.min(...ours).toFixed(0)} / ${Math.min(...theirs).toFixed(0)} ms)`,
    );
  }
  if (coldRuns > 0) {
    const here = resolve(import.meta.dirname, '..');
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < coldRuns; i++) {
      if (against) theirs.push(coldLoad(against, vsCount, rsCount));
      ours.push(coldLoad(here, vsCount, rsCount));
    }
    const line = `  one load in a fresh process, ${coldRuns} times: CPU median ${median(ours).toFixed(0)} ms (best ${Math.min(...ours).toFixed(0)})`;
    console.log(against
      ? `${line} here, ${median(theirs).toFixed(0)} ms (best ${Math.min(...theirs).toFixed(0)}) there, ratio ${(median(ours) / median(theirs)).toFixed(2)}`
      : line);
  }
}
