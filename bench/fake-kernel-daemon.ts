// `ipvs-ts daemon` in this process, its IPVS client over bench/fake-ipvs-kernel.ts (an empty table; every request
// ACKed), for a host without IPVS: bench/daemon-start.ts times its start, test/daemon/signal-during-start.test.ts
// signals it mid-start. `onRequest` sees each request's generic netlink command before the fake answers it.
import { join, resolve } from 'node:path';
import { IpvsClient } from '../src/ipvs/client.ts';
import { NLMSG_HDRLEN, nlmsgAlign } from '../src/netlink/message.ts';
import { NetlinkSocket } from '../src/netlink/socket.ts';
import { FakeIpvsKernel } from './fake-ipvs-kernel.ts';

const PROJECT = resolve(import.meta.dirname, '..');

export interface FakeKernelDaemon {
  /** A directory for the daemon's files that holds keepalived.conf. */
  readonly dir: string;
  /** `--metrics`: 'off', or an address to listen on. */
  readonly metrics: string;
  readonly onRequest: (cmd: number) => void;
}

/** Runs the daemon as `ipvs-ts daemon -f DIR/keepalived.conf …` would; resolves once its CLI has started it. */
export async function runDaemonOnFakeKernel({ dir, metrics, onRequest }: FakeKernelDaemon): Promise<void> {
  const family = { id: 0x20, version: 1, name: 'IPVS', hdrsize: 0, maxattr: 0, mcastGroups: new Map() };
  const kernel = new FakeIpvsKernel(family.id, { services: [] });
  const send = kernel.send.bind(kernel);
  kernel.send = (messages) => {
    for (const m of messages) {
      for (let off = 0; off + NLMSG_HDRLEN <= m.length; off += nlmsgAlign(m.readUInt32LE(off))) onRequest(m[off + NLMSG_HDRLEN]!);
    }
    send(messages);
  };
  IpvsClient.open = async () => new IpvsClient(new NetlinkSocket(kernel), family);
  const bin = join(PROJECT, 'bin/ipvs-ts.js');
  process.argv = [process.argv[0]!, bin, 'daemon', '-f', join(dir, 'keepalived.conf'), '--control', join(dir, 'control.sock'), '--metrics', metrics,
    '--state', join(dir, 'state'), '--run-dir', join(dir, 'run'), '--data-file', join(dir, 'data'), '--stats-file', join(dir, 'stats')];
  await import(bin);
}
