// The real server's side of the host: reads links and addresses over rtnetlink and sysctls from /proc/sys (both
// belong to the network namespace the process runs in), and carries out the steps plan.ts decided.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { addAddress, deleteAddress, IFA_F_NODAD, listAddresses, listLinks, setLinkUp } from '../netlink/rtnetlink.ts';
import type { NetlinkConnection } from '../netlink/socket.ts';
import { RealServerError } from './errors.ts';
import type { HostState, Step } from './plan.ts';

export async function readHost(nl: NetlinkConnection, sysctlKeys: readonly string[]): Promise<HostState & { ifindex: ReadonlyMap<string, number> }> {
  const [links, addrs] = await Promise.all([listLinks(nl), listAddresses(nl)]);
  const names = new Map(links.map((l) => [l.index, l.name]));
  return {
    links: new Map(links.map((l) => [l.name, l.up])),
    ifindex: new Map(links.map((l) => [l.name, l.index])),
    addresses: addrs.map((a) => ({ address: a.address, prefix: a.prefixLength, device: names.get(a.ifindex) ?? `if${a.ifindex}` })),
    sysctls: new Map(sysctlKeys.map((k) => [k, readSysctl(k)])),
  };
}

/** `modprobe NAME`; throws REALSERVER_NO_TUNNEL with modprobe's own words when it fails. */
export function loadModule(name: string, device: string): void {
  const r = spawnSync('modprobe', [name], { encoding: 'utf8' });
  if (r.status !== 0) {
    const why = r.error ? r.error.message : r.stderr.trim() || `exit ${r.status}`;
    throw new RealServerError('REALSERVER_NO_TUNNEL', `${device} does not exist and \`modprobe ${name}\` failed (${why}): this kernel cannot receive LVS-TUN packets; nothing was changed`);
  }
}

export async function runStep(nl: NetlinkConnection, ifindex: ReadonlyMap<string, number>, step: Step): Promise<void> {
  switch (step.kind) {
    case 'sysctl':
      writeSysctl(step.key, step.to);
      return;
    case 'link':
      await setLinkUp(nl, index(ifindex, step.device), step.up);
      return;
    case 'add-address': {
      const a = step.address;
      // NODAD: a VIP must be usable at once, and DAD on lo or a tunnel finds nobody anyway.
      await addAddress(nl, { address: a.address, prefixLength: a.prefix, ifindex: index(ifindex, a.device), ...(a.family === 6 ? { flags: IFA_F_NODAD } : {}) });
      return;
    }
    case 'del-address':
      await deleteAddress(nl, { address: step.address.address, prefixLength: step.address.prefix, ifindex: index(ifindex, step.address.device) });
      return;
  }
}

function index(ifindex: ReadonlyMap<string, number>, device: string): number {
  const i = ifindex.get(device);
  if (i === undefined) throw new RealServerError('REALSERVER_ARGUMENT', `${device} does not exist`);
  return i;
}

// The dotted name maps to the path by replacing dots; the devices used here (all, lo, tunl0) have none in their names.
function sysctlPath(key: string): string {
  return `/proc/sys/${key.replaceAll('.', '/')}`;
}

function readSysctl(key: string): string | undefined {
  try {
    return readFileSync(sysctlPath(key), 'utf8').trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RealServerError('REALSERVER_SYSCTL', `cannot read ${key}: ${(e as Error).message}`, { cause: e });
  }
}

function writeSysctl(key: string, value: string): void {
  try {
    writeFileSync(sysctlPath(key), value);
  } catch (e) {
    throw new RealServerError('REALSERVER_SYSCTL', `cannot set ${key} to ${value}: ${(e as Error).message}`, { cause: e });
  }
}
