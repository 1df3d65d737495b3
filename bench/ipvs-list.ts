// `ipvs-ts ipvs list` against `ipvsadm -Ln` on one large table, in the test VM (the host kernel has no IPVS).
//
//   node bench/ipvs-list.ts [--reps R] [--against DIR]... [services]   default 10000 services × 10, 3 rounds
//
// On the host it boots the VM and runs itself there. In the guest it programs the table once with
// ipvsadm-restore (TCP, wlc, NAT), checks that `ipvs-ts ipvs list` prints exactly what `ipvsadm -Ln` prints, then
// runs R rounds of: `ipvsadm -Ln`, a node start (a process that only imports the CLI, as bench/ipvs-apply.ts
// measures it), `ipvs-ts ipvs list` of this tree and of every --against tree (another checkout whose bin/ipvs-ts.js
// is run; its node_modules and build must resolve), and a fresh process that runs the listing in steps and times
// each (--phases: what a CLI run pays after its imports). Each figure is printed as it is taken. Processes are
// timed by wall clock, output to /dev/null; "without node start" subtracts the round's node start. Only ratios
// from one VM run mean anything: TCG runs code several times slower, by an amount that moves with the host's load.
import { execFileSync } from 'node:child_process';
import { openSync, writeFileSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const DESTS = 10;

if (process.argv.includes('--phases')) {
  // Imported before the clock starts: a CLI run has them loaded when its command begins.
  const { IpvsClient } = await import('../src/ipvs/client.ts');
  const { formatListing, sortListing } = await import('../src/ipvs/format.ts');
  const out = openSync('/dev/null', 'w');
  const steps: string[] = [];
  let t = performance.now();
  const step = (name: string): void => {
    const now = performance.now();
    steps.push(`${name} ${(now - t).toFixed(0)} ms`);
    t = now;
  };
  const t0 = t;
  const client = await IpvsClient.open();
  step('open');
  const [info, kernel] = await Promise.all([client.info(), client.listing()]);
  step('dump');
  const table = sortListing(kernel);
  step('sort');
  const text = formatListing(info, table);
  step('format');
  writeSync(out, text);
  step('write');
  client.close();
  process.stdout.write(`${steps.join(', ')}; total ${(performance.now() - t0).toFixed(0)} ms\n`);
  process.exit(0);
}

if (process.argv.includes('--host')) {
  // The JS side alone over bench/fake-ipvs-kernel.ts (no IPVS on the host): a cold first round, as a CLI run
  // pays it, then warm ones. Run under `node --cpu-prof` to see where it goes.
  const { IpvsClient } = await import('../src/ipvs/client.ts');
  const { formatListing, sortListing } = await import('../src/ipvs/format.ts');
  const { NetlinkSocket } = await import('../src/netlink/socket.ts');
  const { FakeIpvsKernel } = await import('./fake-ipvs-kernel.ts');
  const size = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 10000);
  const flags = { persistent: false, onePacket: false, shFallback: false, shPort: false, schedFlag3: false };
  const services = Array.from({ length: size }, (_, k) => {
    const i = size - k; // the kernel's dump order is its hash order, not ipvsadm's: make the sort work
    return {
      service: { id: { kind: 'addr', family: 4, protocol: 'TCP', address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 80 } as const, scheduler: 'wlc', flags, timeoutS: 0, netmask: '255.255.255.255' },
      destinations: Array.from({ length: DESTS }, (_, j) => ({ address: `10.128.${DESTS - j}.${(i % 250) + 1}`, family: 4, port: 80, forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 }) as const),
    };
  });
  const family = { id: 0x20, version: 1, name: 'IPVS', hdrsize: 0, maxattr: 0, mcastGroups: new Map() };
  for (let round = 1; round <= 3; round++) {
    const client = new IpvsClient(new NetlinkSocket(new FakeIpvsKernel(family.id, { services })), family);
    const t0 = performance.now();
    const kernel = await client.listing();
    const t1 = performance.now();
    const table = sortListing(kernel);
    const t2 = performance.now();
    const text = formatListing({ version: '1.2.1', connTableSize: 4096 }, table);
    const t3 = performance.now();
    process.stdout.write(`round ${round}: dump ${(t1 - t0).toFixed(0)} ms (fake kernel included), sort ${(t2 - t1).toFixed(0)} ms, format ${(t3 - t2).toFixed(0)} ms, ${text.length} chars\n`);
  }
  process.exit(0);
}

const args = process.argv.slice(2);
const reps = args.includes('--reps') ? Number(args[args.indexOf('--reps') + 1]) : 3;
const against = args.flatMap((a, i) => (args[i - 1] === '--against' ? [a] : []));
const n = Number(args.find((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--reps') ?? 10000);

if (!process.env.IPVS_TS_IN_VM) {
  const { relayInVm } = await import('../test/kernel/vm.ts');
  const flags = [`--reps ${reps}`, ...against.map((d) => `--against ${d}`)].join(' ');
  await relayInVm({ command: `node bench/ipvs-list.ts ${flags} ${n}`, timeoutMs: 3_600_000, memoryMb: 2048 }, 'bench');
}

const sh = (cmd: string): string => execFileSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', maxBuffer: 1 << 28 });
const timed = (cmd: string): number => {
  const t0 = performance.now();
  sh(cmd);
  return performance.now() - t0;
};
const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const say = (line: string): void => void process.stdout.write(`${line}\n`);

sh('modprobe -a ip_vs ip_vs_wlc && ipvsadm -C');
const rules: string[] = [];
for (let i = 1; i <= n; i++) {
  const vip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:80`;
  rules.push(`-A -t ${vip} -s wlc`);
  for (let j = 0; j < DESTS; j++) rules.push(`-a -t ${vip} -r 10.128.${j}.${(i % 250) + 1}:80 -m -w 1`);
}
writeFileSync('/tmp/ipvs-list.rules', rules.join('\n') + '\n');
say(`IPVS list bench in the VM (${sh('uname -r').trim()}), ${n.toLocaleString('en')} services × ${DESTS}; ipvsadm-restore ${fmt(timed('ipvsadm-restore < /tmp/ipvs-list.rules'))}`);

const trees = [{ name: 'ipvs-ts', dir: '.' }, ...against.map((dir) => ({ name: `ipvs-ts (${dir})`, dir }))];
for (const tree of trees) {
  sh(`ipvsadm -Ln > /tmp/ipvsadm.out && node ${tree.dir}/bin/ipvs-ts.js ipvs list > /tmp/ipvs-ts.out`);
  if (sh('cmp /tmp/ipvsadm.out /tmp/ipvs-ts.out && echo same').trim() !== 'same') throw new Error(`${tree.name}: ipvs list differs from ipvsadm -Ln`);
}
say(`every tree's \`ipvs list\` is byte-identical to \`ipvsadm -Ln\` (${sh('wc -l < /tmp/ipvsadm.out').trim()} lines)`);

const nodeStart = `node --input-type=module -e 'await import("./src/control/dumps.ts"); await import("./src/cli/process-name.ts"); await import("./src/cli/main.ts")'`;
for (let r = 1; r <= reps; r++) {
  const ipvsadm = timed('ipvsadm -Ln > /dev/null');
  const start = timed(nodeStart);
  say(`round ${r}: \`ipvsadm -Ln\` ${fmt(ipvsadm)}; node start ${fmt(start)}`);
  for (const tree of trees) {
    const list = timed(`node ${tree.dir}/bin/ipvs-ts.js ipvs list > /dev/null`);
    say(`round ${r}: ${tree.name} \`ipvs list\` ${fmt(list)}, without node start ${fmt(list - start)}: ${((list - start) / ipvsadm).toFixed(2)}× ipvsadm`);
  }
  say(`round ${r}: phases (fresh process, after its imports): ${sh('node bench/ipvs-list.ts --phases').trim()}`);
}
sh('ipvsadm -C');
