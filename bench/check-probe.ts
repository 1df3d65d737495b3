// Loaded into `ipvs-ts check` with node's --import (bench/check-vs-keepalived.ts --checkers 'ipvs-ts:--import=…'):
// every 5 s, a line in .cache/check-probe.txt (or $CHECK_PROBE_OUT), prefixed with the process's PID, with the
// checker's own view of where lateness comes from: how late each check started against its plan, how long it took
// until its completion was read, how many checks each tick of the pool started, the loop's delay and its thread's
// CPU share, and the pool's in-flight limit and queue (watched through the prototypes of the modules the checker
// itself loads).
import diagnostics from 'node:diagnostics_channel';
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

const out = process.env.CHECK_PROBE_OUT ?? '.cache/check-probe.txt';

// The pool's limiter, watched from its prototype (the same module instance the checker loads): the lowest in-flight
// limit and the longest queue of each window, and how many checks each run() call found already waiting.
const { Slots } = await import('../src/check/slots.ts');
let minLimit = Infinity;
let maxQueued = 0;
let queuedRuns = 0;
let runs = 0;
const run = Slots.prototype.run;
// Checks started per pool tick: clumps show as big ticks.
const { CheckPool } = await import('../src/check/runner.ts');
let inTick = 0;
const tickSizes: number[] = [];
const pool = CheckPool.prototype as unknown as { tick: () => void };
const tick = pool.tick;
pool.tick = function (this: unknown) {
  inTick = 0;
  tick.call(this);
  if (inTick > 0) tickSizes.push(inTick);
};
Slots.prototype.run = function (this: InstanceType<typeof Slots>, task) {
  runs++;
  inTick++;
  if (this.queued > 0 || this.active >= this.concurrency) queuedRuns++;
  minLimit = Math.min(minLimit, this.concurrency);
  maxQueued = Math.max(maxQueued, this.queued);
  run.call(this, task);
};

const late: number[] = [];
const took: number[] = [];
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
diagnostics.channel('ipvs-ts:check:attempt').subscribe((m) => {
  const { latenessMs, result } = m as { latenessMs: number; result: { latencyMs: number } };
  late.push(latenessMs);
  took.push(result.latencyMs);
});
// The loop thread's CPU share over each window (what the adaptive limit reads as "busy"), the whole process's (V8's
// GC and compiler threads too), and the garbage collector's pauses by kind: where a slower run's extra CPU goes.
let cpuAt = performance.now();
let cpu = process.threadCpuUsage();
let processCpu = process.cpuUsage();
const threadShare = (): string => {
  const now = performance.now();
  const next = process.threadCpuUsage();
  const nextProcess = process.cpuUsage();
  const share = (next.user + next.system - cpu.user - cpu.system) / 1000 / (now - cpuAt);
  const processShare = (nextProcess.user + nextProcess.system - processCpu.user - processCpu.system) / 1000 / (now - cpuAt);
  cpuAt = now;
  cpu = next;
  processCpu = nextProcess;
  return `${share.toFixed(2)} process cpu=${processShare.toFixed(2)}`;
};
const gcKinds = ['', 'minor', 'major', '', 'incremental', '', '', '', 'weak'];
const gc = new Map<string, { n: number; ms: number }>();
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const code = (e as unknown as { detail: { kind: number } }).detail.kind;
    const kind = gcKinds[code] || String(code);
    const g = gc.get(kind) ?? { n: 0, ms: 0 };
    g.n++;
    g.ms += e.duration;
    gc.set(kind, g);
  }
}).observe({ entryTypes: ['gc'] });
const gcText = (): string => {
  const parts = [...gc].map(([k, g]) => `${k}:${g.n}/${g.ms.toFixed(0)}ms`).join(',');
  gc.clear();
  return `gc=${parts || '-'} heap=${(getHeapStatistics().used_heap_size / 1e6).toFixed(0)}MB`;
};
const q = (a: number[], p: number) => (a.length ? a.sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))]!.toFixed(1) : '-');
setInterval(() => {
  const inBig = tickSizes.filter((s) => s >= 10).reduce((s, x) => s + x, 0);
  const started = tickSizes.reduce((s, x) => s + x, 0);
  appendFileSync(out, `${process.pid} ${new Date().toISOString().slice(11, 19)} n=${late.length} late p50=${q(late, 0.5)} p99=${q(late, 0.99)} took p50=${q(took, 0.5)} p99=${q(took, 0.99)} ` +
    `ticks=${tickSizes.length} per tick max=${Math.max(0, ...tickSizes)} p50=${q(tickSizes, 0.5)} share in ticks>=10=${started ? (inBig / started).toFixed(2) : '-'} ` +
    `loop p50=${(loop.percentile(50) / 1e6).toFixed(1)} p99=${(loop.percentile(99) / 1e6).toFixed(1)} thread cpu=${threadShare()} ` +
    `limit min=${minLimit} queued max=${maxQueued} runs waiting=${runs ? (queuedRuns / runs).toFixed(2) : '-'} ${gcText()}\n`);
  minLimit = Infinity;
  maxQueued = 0;
  queuedRuns = 0;
  runs = 0;
  late.length = 0;
  took.length = 0;
  tickSizes.length = 0;
  loop.reset();
}, 5000).unref();
