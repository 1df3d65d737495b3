// Parses a generated keepalived.conf with 10,000 virtual servers × 10 real servers, each with a TCP_CHECK, and
// prints how long it took. Run: node bench/config-parse.ts [virtualServers] [realServersEach]
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseConfigText } from '../src/config/index.ts';

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

if (import.meta.main) {
  const vsCount = Number(process.argv[2] ?? 10_000);
  const rsCount = Number(process.argv[3] ?? 10);
  const text = generateConfig(vsCount, rsCount);
  const runs: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < 5; i++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const r = parseConfigText(text, 'bench.conf', { skipHostChecks: true });
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    runs.push({ wall, cpu: (cpu.user + cpu.system) / 1000 });
    if (!r.config || r.config.virtualServers.length !== vsCount) throw new Error(`bench config did not parse: ${r.problems[0]?.message}`);
  }
  const mb = (Buffer.byteLength(text) / 1e6).toFixed(1);
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  // CPU time is reported beside wall time because the development machine is shared: wall time there mostly
  // measures the other tenants.
  console.log(
    `config-parse: ${vsCount} virtual servers × ${rsCount} real servers with TCP_CHECK (${mb} MB), 5 runs: ` +
      `wall median ${median(runs.map((r) => r.wall)).toFixed(0)} ms (best ${Math.min(...runs.map((r) => r.wall)).toFixed(0)}), ` +
      `CPU median ${median(runs.map((r) => r.cpu)).toFixed(0)} ms (best ${Math.min(...runs.map((r) => r.cpu)).toFixed(0)}); load average ${loadavg()[0]?.toFixed(1)}`,
  );
}
