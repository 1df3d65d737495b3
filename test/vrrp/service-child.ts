// Run by test/vrrp/service.test.ts inside a namespace it made: starts the real VRRP worker on the config given,
// terminates the thread while a status request waits for it, and prints what the service did as one JSON line.
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { loadConfig } from '../../src/config/index.ts';
import { spawnWorker, VrrpService } from '../../src/vrrp/service.ts';

const { config, problems } = loadConfig(process.argv[2]!, { skipHostChecks: true });
if (!config) throw new Error(problems.map((p) => p.message).join('; '));
let worker: Worker | undefined;
const failed: { code: string; message: string; ms: number }[] = [];
let t0 = 0;
const svc = await VrrpService.start(config, { failed: (e) => failed.push({ code: e.code, message: e.message, ms: performance.now() - t0 }) }, (c, r) => (worker = spawnWorker(c, r)));
const before = await svc.status();
const threads = readdirSync('/proc/self/task').map((t) => readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim());

const outcome = (p: Promise<unknown>) => p.then(() => 'answered', (e: { code?: string }) => e.code ?? String(e));
t0 = performance.now();
void worker!.terminate();
// Posted to a thread that is going away: only the service noticing the exit can settle it.
const pending = await outcome(svc.status());
const pendingMs = performance.now() - t0;
const t1 = performance.now();
const later = await outcome(svc.status());
const laterMs = performance.now() - t1;
await svc.stop();
process.stdout.write(`${JSON.stringify({ before: before.instances.map((i) => i.state), threads, pending, pendingMs, later, laterMs, failed })}\n`);
