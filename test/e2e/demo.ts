// `npm run demo`: boots the IPVS VM and runs the end-to-end lab of test/e2e/guest/scenario.ts with narration —
// two directors running `ipvs-ts daemon`, four HTTP real servers, a client counting failed requests — while a
// real server dies and returns, the master is killed -9 and comes back, and the config is reloaded. The guest's
// output is streamed here as it is written.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canBootVm, PROJECT_DIR, runInVm } from '../kernel/vm.ts';
import { guestCommand } from './guest/command.ts';

const can = canBootVm();
if (!can.ok) {
  process.stderr.write(`demo: ${can.reason}\n`);
  process.exit(2);
}
process.stdout.write('demo: booting the IPVS VM (the first run builds its kernel image; under emulation node starts slowly, so allow a few minutes)\n');
const runs = join(PROJECT_DIR, '.cache', 'vm', 'runs');
let shown = 0;
const tail = setInterval(() => {
  const mine = existsSync(runs) ? readdirSync(runs).find((d) => d.startsWith(`${process.pid}-`)) : undefined;
  if (!mine) return;
  const file = join(runs, mine, 'stdout');
  if (!existsSync(file)) return;
  const text = readFileSync(file, 'utf8');
  if (text.length > shown) process.stdout.write(text.slice(shown));
  shown = text.length;
}, 500);
const r = await runInVm({ command: guestCommand('/tmp/e2e-results.json --verbose'), timeoutMs: 900_000, memoryMb: 1536 });
clearInterval(tail);
if (r.stdout.length > shown) process.stdout.write(r.stdout.slice(shown));
if (r.code !== 0) process.stderr.write(r.stderr.slice(-3000));
process.stdout.write(`demo: ${r.code === 0 ? 'every step passed' : `failed (exit ${r.code}${r.timedOut ? ', timed out' : ''})`} in ${(r.elapsedMs / 1000).toFixed(0)} s\n`);
process.exit(r.code === 0 ? 0 : 1);
