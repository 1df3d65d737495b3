// IPVS programming speed, ipvs-ts versus ipvsadm-restore, in the test VM (the host kernel has no IPVS).
//
//   node bench/ipvs-apply.ts [services...]        default: 1000 10000 (× 10 real servers each)
//   node bench/ipvs-apply.ts --host [services...]  on the host, no kernel: the JS cost of apply() alone
//
// --host runs IpvsClient.apply and then table() over a fake kernel (bench/fake-ipvs-kernel.ts: one datagram per
// ACK, dumps in 32 KiB parts, as the kernel sends them; the host kernel has no IPVS), three times per size, and
// prints CPU time per request and a hash of the bytes sent (an encoder change must keep it). `--profile DIR`
// writes CPU profiles of the last repetition's apply and table() there. It says nothing about the kernel's share.
//
// On the host it boots the VM and runs itself there; in the VM (IPVS_TS_IN_VM=1) it measures, printing each
// figure as it is taken (a run cut short still reports what it got). Both tools start from an empty table and
// program the same rules (the rule counts are checked equal). ipvsadm-restore and `ipvsadm -Ln` are timed as
// processes (that is how they are used); ipvs-ts as CLI processes (`ipvs-ts ipvs apply -f` on the equivalent
// keepalived.conf, `ipvs-ts ipvs list`), reported with and without node's start (a process that only imports the
// CLI, best of three), and in-process: the listing, table(), one weight changed, and a reconcile from an empty
// table. Only ratios measured in the same VM run mean anything: TCG runs code several times slower.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { runIpvsList } from '../src/cli/ipvs-list-run.ts';
import { IpvsClient } from '../src/ipvs/client.ts';
import { addAddress } from '../src/ipvs/desired.ts';
import { planIpvs } from '../src/ipvs/plan.ts';
import { reconcile } from '../src/ipvs/reconcile.ts';
import { NetlinkSocket } from '../src/netlink/socket.ts';
import type { DestinationSpec, IpvsTable } from '../src/ipvs/types.ts';
import { FakeIpvsKernel } from './fake-ipvs-kernel.ts';
import { emptyIpvs } from './ipvs-trash.ts';

const DESTS = 10;
const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const counts = sizes.length ? sizes : [1000, 10000];

const sh = (cmd: string, input?: string): string => execFileSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', input, maxBuffer: 1 << 28 });
const ms = (t0: number): number => performance.now() - t0;
const timed = (cmd: string): number => {
  const t0 = performance.now();
  sh(cmd);
  return ms(t0);
};
const cpuMs = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000;
const fmt = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(1)} ms`);

if (process.argv.includes('--host')) {
  const profileDir = process.argv.includes('--profile') ? process.argv[process.argv.indexOf('--profile') + 1] : undefined;
  const session = profileDir ? new Session() : undefined;
  session?.connect();
  await session?.post('Profiler.enable');
  /** Profiles `fn` into DIR/NAME.cpuprofile when --profile DIR is given (the last repetition only). */
  const profiled = async <T>(name: string, on: boolean, fn: () => Promise<T>): Promise<T> => {
    if (!session || !on) return fn();
    await session.post('Profiler.start');
    const r = await fn();
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(`${profileDir}/${name}.cpuprofile`, JSON.stringify(profile));
    return r;
  };
  for (const n of counts) {
    for (let rep = 0; rep < 3; rep++) {
      const desired = table(n);
      const plan = planIpvs({ desired, kernel: { services: [] }, owned: new Set() });
      const family = { id: 0x20, version: 1, name: 'IPVS', hdrsize: 0, maxattr: 0, mcastGroups: new Map() };
      const t = new FakeIpvsKernel(family.id, desired);
      const client = new IpvsClient(new NetlinkSocket(t), family);
      let c0 = process.cpuUsage();
      let t0 = performance.now();
      const r = await profiled(`apply-${n}`, rep === 2, () => client.apply(plan));
      const applyWall = ms(t0);
      const applyCpu = cpuMs(process.cpuUsage(c0));
      if (r.applied.length !== plan.length) throw new Error(`${plan.length - r.applied.length} operations failed`);
      c0 = process.cpuUsage();
      t0 = performance.now();
      const dumped = await profiled(`table-${n}`, rep === 2, () => client.table());
      const dumpWall = ms(t0);
      const dumpCpu = cpuMs(process.cpuUsage(c0));
      const rows = dumped.services.reduce((k, s) => k + s.destinations.length, 0);
      if (rows !== n * DESTS) throw new Error(`the dump found ${rows} destinations, not ${n * DESTS}`);
      process.stdout.write(
        `${n} × ${DESTS}: apply ${plan.length} requests CPU ${fmt(applyCpu)} (${((applyCpu * 1000) / plan.length).toFixed(2)} µs each), wall ${fmt(applyWall)}, ${t.sends} sends, sha256 ${t.hash.digest('hex').slice(0, 16)}; ` +
          `table() CPU ${fmt(dumpCpu)}, wall ${fmt(dumpWall)} (fake kernel's replies included)\n`,
      );
    }
  }
  process.exit(0);
}

if (!process.env.IPVS_TS_IN_VM) {
  const { relayInVm } = await import('../test/kernel/vm.ts');
  await relayInVm({ command: `node bench/ipvs-apply.ts ${counts.join(' ')}`, timeoutMs: 3_600_000, memoryMb: 2048 }, 'bench');
}


function table(n: number): IpvsTable {
  const dests: DestinationSpec[] = Array.from({ length: DESTS }, (_, j) => ({
    address: addAddress('10.128.0.1', j), family: 4, port: 80, forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0,
  }));
  const flags = { persistent: false, onePacket: false, shFallback: false, shPort: false, schedFlag3: false };
  return {
    services: Array.from({ length: n }, (_, i) => ({
      service: { id: { kind: 'addr', family: 4, protocol: 'TCP', address: addAddress('10.0.0.1', i), port: 80 } as const, scheduler: 'wlc', flags, timeoutS: 0, netmask: '255.255.255.255' },
      destinations: dests,
    })),
  };
}

/** The keepalived.conf whose virtual servers are `t` (TCP, NAT, no checks), for `ipvs-ts ipvs apply -f`. */
function keepalivedConf(t: IpvsTable): string {
  const lines: string[] = [];
  for (const s of t.services) {
    if (s.service.id.kind !== 'addr') continue;
    lines.push(`virtual_server ${s.service.id.address} ${s.service.id.port} {`, `  lb_algo ${s.service.scheduler}`, '  lb_kind NAT', '  protocol TCP');
    for (const d of s.destinations) lines.push(`  real_server ${d.address} ${d.port} {`, `    weight ${d.weight}`, '  }');
    lines.push('}');
  }
  return lines.join('\n') + '\n';
}

function restoreRules(t: IpvsTable): string {
  const lines: string[] = [];
  for (const s of t.services) {
    if (s.service.id.kind !== 'addr') continue;
    const vip = `${s.service.id.address}:${s.service.id.port}`;
    lines.push(`-A -t ${vip} -s ${s.service.scheduler}`);
    for (const d of s.destinations) lines.push(`-a -t ${vip} -r ${d.address}:${d.port} -m -w ${d.weight}`);
  }
  return lines.join('\n') + '\n';
}

sh('modprobe -a ip_vs ip_vs_wlc');
process.stdout.write(`IPVS bench in the VM (${sh('uname -r').trim()}), ${DESTS} real servers per service; each figure is printed as it is taken\n`);
const say = (n: number, what: string, value: string): void => void process.stdout.write(`${n.toLocaleString('en')} × ${DESTS}: ${what}: ${value}\n`);
const ratio = (ours: number, theirs: number): string => `${(ours / theirs).toFixed(2)}× ipvsadm's time`;
const rows: string[] = [];

for (const n of counts) {
  const desired = table(n);
  const rulesFile = `/tmp/ipvs-bench-${n}.rules`;
  writeFileSync(rulesFile, restoreRules(desired));
  const confFile = `/tmp/ipvs-bench-${n}.conf`;
  writeFileSync(confFile, keepalivedConf(desired));

  // What a CLI run pays before its command starts: node, the TypeScript sources, the CLI's modules.
  const startMs = Math.min(...[0, 1, 2].map(() => timed(`node --input-type=module -e 'await import("./src/control/dumps.ts"); await import("./src/cli/process-name.ts"); await import("./src/cli/main.ts")'`)));
  say(n, 'node start (a process that only imports the CLI, best of 3)', fmt(startMs));
  const bare = (x: number): number => Math.max(0, x - startMs);

  emptyIpvs();
  const restoreMs = timed(`ipvsadm-restore < ${rulesFile}`);
  say(n, 'ipvsadm-restore', fmt(restoreMs));
  const restoredLines = Number(sh('ipvsadm -Sn | wc -l').trim());

  emptyIpvs();
  const cliApplyMs = timed(`node bin/ipvs-ts.js ipvs apply -f ${confFile} --state /tmp/ipvs-bench-cli-${n}.state > /dev/null`);
  say(n, '`ipvs-ts ipvs apply -f` (config parse, dump, plan, apply, state file)', `${fmt(cliApplyMs)}; without node start ${fmt(bare(cliApplyMs))}, ${ratio(bare(cliApplyMs), restoreMs)}`);
  const ourLines = Number(sh('ipvsadm -Sn | wc -l').trim());
  if (ourLines !== restoredLines) throw new Error(`ipvs-ts ipvs apply programmed ${ourLines} rules, ipvsadm-restore ${restoredLines}`);

  const lnMs = timed('ipvsadm -Ln > /dev/null');
  say(n, '`ipvsadm -Ln`', fmt(lnMs));
  const cliListMs = timed('node bin/ipvs-ts.js ipvs list > /dev/null');
  say(n, '`ipvs-ts ipvs list`', `${fmt(cliListMs)}; without node start ${fmt(bare(cliListMs))}, ${ratio(bare(cliListMs), lnMs)}`);

  let t0 = performance.now();
  await runIpvsList({}, new Writable({ write: (_c, _e, cb) => cb() }));
  const listInProcessMs = ms(t0);
  say(n, 'ipvs list in-process (open, dump, sort, format)', fmt(listInProcessMs));
  const client = await IpvsClient.open();
  t0 = performance.now();
  const kernel = await client.table();
  const dumpMs = ms(t0);
  say(n, 'IpvsClient.table() in-process', fmt(dumpMs));

  const changed: IpvsTable = {
    services: desired.services.map((s, i) => (i === Math.floor(n / 2) ? { ...s, destinations: s.destinations.map((d, j) => (j === 3 ? { ...d, weight: 5 } : d)) } : s)),
  };
  const plan = planIpvs({ desired: changed, kernel, owned: new Set() });
  t0 = performance.now();
  const one = await client.apply(plan);
  const oneApplyMs = ms(t0);
  if (plan.length !== 1 || one.applied.length !== 1) throw new Error(`one-weight change planned ${plan.length} ops`);
  say(n, 'one weight changed, apply() in-process', fmt(oneApplyMs));

  // The client's family id does not survive the modules' reload: a new one for the reconcile.
  client.close();
  emptyIpvs();
  const fresh = await IpvsClient.open();
  t0 = performance.now();
  const first = await reconcile(fresh, desired, { stateFile: `/tmp/ipvs-bench-${n}.state` });
  const applyMs = ms(t0);
  if (first.failed.length) throw new Error(`${first.failed.length} operations failed: ${first.failed[0]?.error.message}`);
  say(n, 'reconcile() in-process from an empty table (dump, plan, apply, state file)', `${fmt(applyMs)}, ${ratio(applyMs, restoreMs)}`);
  fresh.close();

  rows.push(
    `| ${n.toLocaleString('en')} | ${fmt(startMs)} | ${fmt(restoreMs)} | ${fmt(cliApplyMs)} | ${fmt(bare(cliApplyMs))} | ${(bare(cliApplyMs) / restoreMs).toFixed(2)}× | ${fmt(applyMs)} | ${fmt(lnMs)} | ${fmt(cliListMs)} | ${fmt(bare(cliListMs))} | ${(bare(cliListMs) / lnMs).toFixed(2)}× | ${fmt(listInProcessMs)} | ${fmt(dumpMs)} | ${fmt(oneApplyMs)} |`,
  );
}
process.stdout.write(
  '\n| services × 10 | node start | ipvsadm-restore | `ipvs apply -f` | … without node start | ratio | reconcile in-process | `ipvsadm -Ln` | `ipvs list` | … without node start | ratio | list in-process | table() in-process | one-weight apply |\n' +
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n' +
    `${rows.join('\n')}\n(ratio: ipvs-ts's time without node start / ipvsadm's; below 1 means ipvs-ts is faster)\n`,
);
sh('ipvsadm -C');
