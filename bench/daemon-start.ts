// `ipvs-ts daemon` from spawn to a programmed table, on the host (no IPVS there): the real CLI, config load,
// director, checkers, logging and control socket, with the IPVS client over bench/fake-ipvs-kernel.ts (an empty
// table; it ACKs every request). The table and options are bench/director-scale.ts's: N virtual servers × 10 real
// servers without a checker plus one checked one. Measures, per run, in a fresh process each:
//   spawn → first service request, spawn → last destination request (all N×10+1 ACKed), the child's CPU until
//   then (all threads; and the main thread's alone until each, and how much of it the checkers' start took), the
//   modules it loaded, the bytes it logged; then SIGTERM. Main-thread CPU moves least with the host's load.
//
//   node bench/daemon-start.ts [--runs R] [--profile DIR] [--node-flags 'FLAGS'] [N=2000]
//     --profile DIR: node's --cpu-prof of each child into DIR (the whole process, start to exit)
// What the VM run adds (the kernel's work per operation, TCG's slowness) is bench/director-scale.ts's to measure.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const REAL_SERVERS = 10;

if (process.argv[2] === '--child') await child(process.argv[3]!, Number(process.argv[4]));
else await parent();

async function parent(): Promise<void> {
  const args = process.argv.slice(2);
  const take = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i < 0 ? undefined : args.splice(i, 2)[1];
  };
  const runs = Number(take('--runs') ?? 3);
  const profile = take('--profile');
  const nodeFlags = take('--node-flags')?.split(' ') ?? [];
  const n = Number(args[0] ?? 2000);
  const dir = mkdtempSync(join(tmpdir(), 'daemon-start-'));
  // The checked real server: a listener of ours on loopback, so it comes up after its first check.
  const listener = createServer((s) => s.destroy()).listen(0, '127.0.0.1');
  await new Promise((res) => listener.once('listening', res));
  try {
    const conf = join(dir, 'keepalived.conf');
    writeFileSync(conf, config(n, (listener.address() as { port: number }).port));
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      const flags = [...nodeFlags, ...(profile ? ['--cpu-prof', '--cpu-prof-dir', resolve(profile)] : [])];
      const c = spawn(process.execPath, [...flags, import.meta.filename, '--child', dir, String(n)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let logBytes = 0;
      let logLines = 0;
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.stderr.on('data', (d: Buffer) => {
        logBytes += d.length;
        for (const b of d) if (b === 10) logLines++;
      });
      const code = await new Promise<number | null>((res) => c.once('exit', (code) => res(code)));
      const wall = performance.now() - t0;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) throw new Error(`child exited ${code} without figures; stdout: ${out}`);
      const f = JSON.parse(line) as { firstServiceMs: number; programmedMs: number; cpuMs: number; mainFirstMs: number; mainProgrammedMs: number; checkersMs: number; modules: number; exitMs: number };
      // The child's clocks start at its own time origin; the spawn itself is the difference to ours.
      const spawnMs = wall - f.exitMs;
      process.stdout.write(
        `${n} × ${REAL_SERVERS} + 1: spawn → first service ${fmt(spawnMs + f.firstServiceMs)}, → programmed ${fmt(spawnMs + f.programmedMs)}, ` +
          `CPU until programmed ${fmt(f.cpuMs)} (main thread: ${fmt(f.mainFirstMs)} until the first service, ${fmt(f.mainProgrammedMs)} until programmed; the checkers' start ${fmt(f.checkersMs)}), modules ${f.modules}, log ${logLines} lines / ${(logBytes / 1e6).toFixed(2)} MB until exit, exit ${code}\n`,
      );
    }
  } finally {
    listener.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function child(dir: string, n: number): Promise<void> {
  const { runDaemonOnFakeKernel } = await import('./fake-kernel-daemon.ts');
  const { IPVS_CMD } = await import('../src/ipvs/constants.ts');
  const { registerHooks } = await import('node:module');
  let modules = 0;
  registerHooks({ load: (url, context, next) => (modules++, next(url, context)) });
  const want = n * REAL_SERVERS + 1;
  let firstServiceMs = NaN;
  let dests = 0;
  let programmedMs = NaN;
  let cpuMs = NaN;
  // The main thread's own CPU (process.cpuUsage() adds V8's helper threads), and the part of it the checkers' start takes.
  const mainCpu = (): number => {
    const u = process.threadCpuUsage();
    return (u.user + u.system) / 1000;
  };
  let mainFirstMs = NaN;
  let mainProgrammedMs = NaN;
  let checkersMs = 0;
  const { CheckerSet } = await import('../src/director/checkers.ts');
  const sync = CheckerSet.prototype.sync;
  CheckerSet.prototype.sync = function (this: InstanceType<typeof CheckerSet>, config) {
    const at = mainCpu();
    sync.call(this, config);
    checkersMs += mainCpu() - at;
  };
  const done = (): void => {
    programmedMs = performance.now();
    const cpu = process.cpuUsage();
    cpuMs = (cpu.user + cpu.system) / 1000;
    mainProgrammedMs = mainCpu();
    // After the ACKs (a later turn), so the daemon finishes its pass as it would.
    setTimeout(() => process.kill(process.pid, 'SIGTERM'), 200);
  };
  process.on('exit', () => {
    process.stdout.write(`${JSON.stringify({ firstServiceMs, programmedMs, cpuMs, mainFirstMs, mainProgrammedMs, checkersMs, modules, exitMs: performance.now() })}\n`);
  });
  await runDaemonOnFakeKernel({
    dir,
    metrics: '127.0.0.1:0',
    onRequest: (cmd) => {
      if (cmd === IPVS_CMD.NEW_SERVICE && Number.isNaN(firstServiceMs)) {
        firstServiceMs = performance.now();
        mainFirstMs = mainCpu();
      }
      if (cmd === IPVS_CMD.NEW_DEST && ++dests === want) done();
    },
  });
}

function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

function ip(n: number, base: string): string {
  const b = base.split('.').map(Number);
  const v = (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) + n;
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}

/** bench/director-scale.ts's table, the checked real server on loopback. */
function config(n: number, port: number): string {
  const out: string[] = ['global_defs {', '  router_id daemon-start', '}', ''];
  const rs = Array.from({ length: REAL_SERVERS }, (_, j) => `  real_server ${ip(j, '10.128.0.1')} 80 {\n    weight 1\n  }`).join('\n');
  for (let i = 0; i < n; i++) out.push(`virtual_server ${ip(i, '10.0.0.1')} 80 {`, '  lb_algo wlc', '  lb_kind NAT', '  protocol TCP', rs, '}');
  out.push(
    'virtual_server 10.255.255.1 80 {', '  delay_loop 1', '  lb_algo wlc', '  lb_kind NAT', '  protocol TCP',
    `  real_server 127.0.0.1 ${port} {`, '    weight 1', '    TCP_CHECK {', '      connect_timeout 1', '      retry 0', '    }', '  }', '}',
  );
  return out.join('\n') + '\n';
}
