// Measures pipelining on this host's kernel: N requests sent as one batch versus N sequential request/ACK round
// trips, for two harmless requests — NLMSG_NOOP with NLM_F_ACK (the kernel only ACKs it: pure transport cost,
// like IPVS writes that answer with a bare ACK) and generic-netlink CTRL_CMD_GETFAMILY "nlctrl" (a GET whose
// reply the kernel has to build). Run: node test/netlink/pipelining.bench.ts [N]
import { performance } from 'node:perf_hooks';
import { string } from '../../src/netlink/attributes.ts';
import { CTRL_ATTR_FAMILY_NAME, CTRL_CMD_GETFAMILY, GENL_ID_CTRL, genlRequest } from '../../src/netlink/genl.ts';
import { NLMSG_NOOP } from '../../src/netlink/message.ts';
import { type NetlinkRequest, NetlinkSocket } from '../../src/netlink/socket.ts';
import { NETLINK_GENERIC } from '../../src/sys/constants.ts';

const n = Number(process.argv[2] ?? 1000);
const workloads: [string, NetlinkRequest][] = [
  ['NLMSG_NOOP+ACK', { type: NLMSG_NOOP, payload: new Uint8Array(0) }],
  ['GETFAMILY nlctrl', genlRequest({ id: GENL_ID_CTRL, version: 1 }, CTRL_CMD_GETFAMILY, [string(CTRL_ATTR_FAMILY_NAME, 'nlctrl')])],
];
const nl = NetlinkSocket.open(NETLINK_GENERIC);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function sequential(req: NetlinkRequest): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await nl.request(req);
  return performance.now() - t0;
}

async function batched(req: NetlinkRequest): Promise<number> {
  const t0 = performance.now();
  await Promise.all(nl.batch(Array.from({ length: n }, () => req)));
  return performance.now() - t0;
}

for (const [name, req] of workloads) {
  await sequential(req); // warm-up (JIT)
  await batched(req);
  const runs = 5;
  const seq: number[] = [];
  const bat: number[] = [];
  for (let i = 0; i < runs; i++) {
    seq.push(await sequential(req));
    bat.push(await batched(req));
  }
  const s = median(seq);
  const b = median(bat);
  console.log(`${n} × ${name}, median of ${runs} (window ${nl.window}):`);
  console.log(`  sequential round trips: ${s.toFixed(1)} ms (${((s / n) * 1000).toFixed(1)} us/request)`);
  console.log(`  one pipelined batch:    ${b.toFixed(1)} ms (${((b / n) * 1000).toFixed(1)} us/request)`);
  console.log(`  ratio: ${(s / b).toFixed(1)}x`);
}
nl.close();
