// The real implementations of the director's ports: the IPVS client, one CheckRunner per virtual server, the VRRP
// worker thread, rtnetlink addresses, and the ownership state file.
import { sharedRunners } from '../check/runner.ts';
import type { Config } from '../config/model.ts';
import type { IpvsClient } from '../ipvs/client.ts';
import type { LowerPriorityAdvert } from '../vrrp/engine.ts';
import { loadState, saveStateAsync } from '../ipvs/state.ts';
import { decodeRtEvent, listAddresses, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR } from '../netlink/rtnetlink.ts';
import { NetlinkSocket } from '../netlink/socket.ts';
import { NETLINK_ROUTE } from '../sys/constants.ts';
import { addVip, deleteVip } from '../vrrp/vips.ts';
import { VrrpService } from '../vrrp/service.ts';
import { DirectorError } from '../director/errors.ts';
import type { AddressPort, DirectorPorts } from '../director/ports.ts';

/** A director whose VRRP never starts would never take over: fail instead, so systemd restarts the daemon. */
const VRRP_START_TIMEOUT_MS = 120_000;

export interface RealPortsOptions {
  readonly config: Config;
  readonly ipvs: IpvsClient;
  readonly stateFile: string;
  readonly onScriptError: (message: string) => void;
  readonly onAddressOverrun: () => void;
  /** A VRRP master heard a lower-priority peer (the notify FIFOs' MASTER_RX_LOWER_PRI); the director has no use for it. */
  readonly onRxLowerPri?: (ev: LowerPriorityAdvert) => void;
}

export function realPorts(opts: RealPortsOptions): DirectorPorts & { close(): void } {
  const addresses = rtnetlinkAddresses(opts.onAddressOverrun);
  const g = opts.config.globalDefs;
  return {
    kernel: opts.ipvs,
    // One pool for every virtual server's runner: one timer, one concurrency limit.
    checks: sharedRunners({
      quietAlwaysUp: true,
      ...(g.scriptUser ? { scriptUser: g.scriptUser } : {}),
      enableScriptSecurity: g.enableScriptSecurity,
      onScriptError: (a, m) => opts.onScriptError(`${a.reason} ${a.command}: ${m}`),
    }),
    vrrp: (config, hooks) =>
      bounded(VrrpService.start(config, { log: hooks.log, transition: hooks.transition, failed: hooks.failed, ...(opts.onRxLowerPri ? { rxLowerPri: opts.onRxLowerPri } : {}) }), VRRP_START_TIMEOUT_MS),
    addresses,
    state: {
      loadOwned: () => new Set(loadState(opts.stateFile).owned),
      save: (owned) => saveStateAsync(opts.stateFile, owned),
    },
    now: Date.now,
    close: () => addresses.close(),
  };
}

/** Two sockets: events on one, requests (list, add) on the other, as src/netlink asks. */
function rtnetlinkAddresses(onOverrun: () => void): AddressPort & { close(): void } {
  const requests = NetlinkSocket.open(NETLINK_ROUTE);
  let events: NetlinkSocket | undefined;
  return {
    local: async () => new Set((await listAddresses(requests)).map((a) => a.address)),
    watch: (listener) => {
      events = NetlinkSocket.open(NETLINK_ROUTE);
      events.subscribe(
        [RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR],
        (m) => {
          const ev = decodeRtEvent(m);
          if (ev?.kind === 'newaddr') listener({ kind: 'add', address: ev.address.address });
          else if (ev?.kind === 'deladdr') listener({ kind: 'del', address: ev.address.address });
        },
        onOverrun,
      );
      return () => events?.close();
    },
    addVip: (v) => addVip(requests, v),
    deleteVip: (v) => deleteVip(requests, v),
    close: () => {
      requests.close();
      events?.close();
    },
  };
}

function bounded<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DirectorError('DIRECTOR_START', `VRRP did not start within ${ms / 1000} s (its worker thread never reported ready)`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
