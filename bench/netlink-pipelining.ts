// Measures pipelining on this host's kernel: N requests sent as one batch versus N sequential request/ACK round
// trips, for two harmless requests — NLMSG_NOOP with NLM_F_ACK (the kernel only ACKs it: pure transport cost,
// like IPVS writes that answer with a bare ACK) and generic-netlink CTRL_CMD_GETFAMILY "nlctrl" (a GET whose
// reply the kernel has to build). Prints wall time and this process's CPU time (user + system, which includes
// the kernel's work inside sendmsg/recvmsg); on a shared, loaded machine the CPU figure is the steadier one.
// Run: node bench/netlink-pipelining.ts [N]
import { performance } from 'node:perf_hooks';
import { string } from '../src/netlink/attributes.ts';
import { CTRL_ATTR_FAMILY_NAME, CTRL_CMD_GETFAMILY, GENL_ID_CTRL, genlRequest } from '../src/netlink/genl.ts';
import { NLMSG_NOOP } from '../src/netlink/message.ts';
import { type NetlinkRequest, NetlinkSocket } from '../src/netlink/socket.ts';
import { NETLINK_GENERIC } from '../src/sys/constants.ts';

const n = Number(process.argv[2] ?? 1000);
const runs = 7;
const workloads: [string, NetlinkRequest][] = [
  ['NLMSG_NOOP+ACK', { type: NLMSG_NOOP, payload: new Uint8Array(0) }],
  ['GETFAMILY nlctrl', genlRequest({ id: GENL_ID_CTRL, version: 1 }, CTRL_CMD_GETFAMILY, [string(CTRL_ATTR_FAMILY_NAME, 'nlctrl')])],
];
const nl = NetlinkSocket.open(NETLINK_GENERIC);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Microseconds per request: [wall, cpu]. */
async function measure(run: () => Promise<unknown>): Promise<[number, number]> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await run();
  const c = process.cpuUsage(c0);
  return [((performance.now() - t0) * 1000) / n, (c.user + c.system) / n];
}

for (const [name, req] of workloads) {
  const sequential = async () => {
    for (let i = 0; i < n; i++) await nl.request(req);
  };
  const batched = () => Promise.all(nl.batch(Array.from({ length: n }, () => req)));
  await sequential(); // warm-up (JIT)
  await batched();
  const seq: [number, number][] = [];
  const bat: [number, number][] = [];
  for (let i = 0; i < runs; i++) {
    seq.push(await measure(sequential));
    bat.push(await measure(batched));
  }
  const [sw, sc] = [median(seq.map((r) => r[0])), median(seq.map((r) => r[1]))];
  const [bw, bc] = [median(bat.map((r) => r[0])), median(bat.map((r) => r[1]))];
  console.log(`${n} × ${name}, median of ${runs}, µs per request (window ${nl.window}):`);
  console.log(`  sequential round trips: wall ${sw.toFixed(1)}  cpu ${sc.toFixed(1)}`);
  console.log(`  one pipelined batch:    wall ${bw.toFixed(1)}  cpu ${bc.toFixed(1)}`);
  console.log(`  ratio: wall ${(sw / bw).toFixed(1)}x  cpu ${(sc / bc).toFixed(1)}x`);
}
nl.close();
