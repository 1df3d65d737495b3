// The IPVS client: typed reads and writes of the kernel's table over one generic-netlink socket. Writes go out
// pipelined (many requests per sendmsg, matched by sequence number) so thousands of objects cost few round trips.
import { NETLINK_GENERIC } from '../sys/constants.ts';
import { decodeGenl, type GenlFamily, genlRequest, resolveFamily } from '../netlink/genl.ts';
import { NetlinkError } from '../netlink/errors.ts';
import type { NetlinkRequest } from '../netlink/socket.ts';
import { NetlinkSocket } from '../netlink/socket.ts';
import { nested } from '../netlink/attributes.ts';
import {
  decodeConfig, decodeDaemon, decodeDest, decodeInfo, decodeService, delDaemonRequest, getDestsRequest, type IpvsInfo,
  type IpvsRequest, type IpvsTimeouts, newDaemonRequest, opPayload, serviceIdAttrs, setConfigRequest, type SyncDaemon,
} from './codec.ts';
import { IPVS_CMD, IPVS_CMD_ATTR, IPVS_GENL_NAME } from './constants.ts';
import { describeOp } from './describe.ts';
import { IPVS_UNAVAILABLE_MESSAGE, IpvsError } from './errors.ts';
import type { DestinationEntry, IpvsOp, ServiceEntry, ServiceId } from './types.ts';

/** Sockets used at once for the per-service destination dumps of a large table. */
const DUMP_LANES = 8;

export interface KernelTable {
  readonly services: readonly { readonly service: ServiceEntry; readonly destinations: readonly DestinationEntry[] }[];
}

export interface ApplyResult {
  /** The operations the kernel accepted, after idempotent fallbacks (add that existed → edit, and so on). */
  readonly applied: readonly IpvsOp[];
  readonly failed: readonly { readonly op: IpvsOp; readonly error: IpvsError }[];
}

export class IpvsClient {
  readonly #nl: NetlinkSocket;
  readonly #family: GenlFamily;

  private constructor(nl: NetlinkSocket, family: GenlFamily) {
    this.#nl = nl;
    this.#family = family;
  }

  /** Opens a socket and resolves the IPVS family; IPVS_UNAVAILABLE when ip_vs is not loaded. */
  static async open(): Promise<IpvsClient> {
    const nl = NetlinkSocket.open(NETLINK_GENERIC);
    try {
      return new IpvsClient(nl, await resolveFamily(nl, IPVS_GENL_NAME));
    } catch (err) {
      nl.close();
      if (err instanceof NetlinkError && err.code === 'FAMILY_NOT_FOUND') throw new IpvsError('IPVS_UNAVAILABLE', IPVS_UNAVAILABLE_MESSAGE);
      throw asIpvsError(err);
    }
  }

  close(): void {
    this.#nl.close();
  }

  async services(): Promise<ServiceEntry[]> {
    const replies = await this.#dump({ cmd: IPVS_CMD.GET_SERVICE, attrs: [] }, 'list services');
    return replies.map((m) => decodeService(decodeGenl(m).attrs));
  }

  /** One service as the kernel has it, or undefined when it has none with that id. */
  async service(id: ServiceId): Promise<ServiceEntry | undefined> {
    try {
      const [reply] = await this.#call({ cmd: IPVS_CMD.GET_SERVICE, attrs: [nested(IPVS_CMD_ATTR.SERVICE, serviceIdAttrs(id))] }, 'read a virtual service');
      return reply ? decodeService(decodeGenl(reply).attrs) : undefined;
    } catch (err) {
      if (err instanceof IpvsError && (err.errno === 'ESRCH' || err.errno === 'ENOENT')) return undefined;
      throw err;
    }
  }

  /** An unknown service gives an empty list (that is what the kernel's dump returns). */
  async destinations(id: ServiceId): Promise<DestinationEntry[]> {
    return this.#destinationsOn(this.#nl, id);
  }

  /**
   * The whole table: one service dump, then one destination dump per service. The kernel runs one dump at a
   * time per socket, so large tables spread those dumps over a few extra sockets to keep several in flight.
   */
  async table(): Promise<KernelTable> {
    const services = await this.services();
    const lanes = Math.min(DUMP_LANES, Math.ceil(services.length / 64));
    const extra = Array.from({ length: Math.max(0, lanes - 1) }, () => NetlinkSocket.open(NETLINK_GENERIC));
    try {
      const sockets = [this.#nl, ...extra];
      const dests = await Promise.all(services.map((s, i) => this.#destinationsOn(sockets[i % sockets.length] as NetlinkSocket, s.id)));
      return { services: services.map((service, i) => ({ service, destinations: dests[i] ?? [] })) };
    } finally {
      for (const nl of extra) nl.close();
    }
  }

  async #destinationsOn(nl: NetlinkSocket, id: ServiceId): Promise<DestinationEntry[]> {
    try {
      const replies = await nl.dump(this.#request(getDestsRequest(id), 'list real servers'));
      return replies.map((m) => decodeDest(decodeGenl(m).attrs, id.family));
    } catch (err) {
      throw asIpvsError(err);
    }
  }

  /**
   * Applies plan steps in order, pipelined. Idempotent: an add that finds the object edits it, an edit that
   * finds nothing adds it, a delete of something already gone counts as done; steps whose service was missing
   * are retried once after the others.
   */
  async apply(ops: readonly IpvsOp[]): Promise<ApplyResult> {
    const applied: IpvsOp[] = [];
    const failed: { op: IpvsOp; error: IpvsError }[] = [];
    let pending: IpvsOp[] = [...ops];
    for (let pass = 0; pass < 2 && pending.length > 0; pass++) {
      const results = await Promise.allSettled(this.#nl.batch(pending.map((op) => this.#opRequest(op))));
      const retry: IpvsOp[] = [];
      results.forEach((r, i) => {
        const op = pending[i] as IpvsOp;
        if (r.status === 'fulfilled') return void applied.push(op);
        const error = asIpvsError(r.reason);
        const fallback = pass === 0 ? fallbackFor(op, error.errno) : undefined;
        if (fallback === 'done') return;
        if (fallback) retry.push(fallback);
        else failed.push({ op, error: explain(op, error) });
      });
      pending = retry;
    }
    return { applied, failed };
  }

  async info(): Promise<IpvsInfo> {
    const [reply] = await this.#call({ cmd: IPVS_CMD.GET_INFO, attrs: [] }, 'read IPVS info');
    if (!reply) throw new IpvsError('IPVS_DECODE', 'the kernel sent no IPVS info');
    return decodeInfo(decodeGenl(reply).attrs);
  }

  async timeouts(): Promise<IpvsTimeouts> {
    const [reply] = await this.#call({ cmd: IPVS_CMD.GET_CONFIG, attrs: [] }, 'read IPVS timeouts');
    if (!reply) throw new IpvsError('IPVS_DECODE', 'the kernel sent no IPVS timeouts');
    return decodeConfig(decodeGenl(reply).attrs);
  }

  /** Seconds; a 0 leaves that timeout as it is. */
  async setTimeouts(t: IpvsTimeouts): Promise<void> {
    await this.#call(setConfigRequest(t), 'set IPVS timeouts');
  }

  /** Zeroes the counters of one service, or of every service. */
  async zero(id?: ServiceId): Promise<void> {
    await this.#call({ cmd: IPVS_CMD.ZERO, attrs: id ? [nested(IPVS_CMD_ATTR.SERVICE, serviceIdAttrs(id))] : [] }, 'zero IPVS counters');
  }

  /** Removes every service; only on explicit request (lvs_flush), never as part of reconciling. */
  async flush(): Promise<void> {
    await this.#call({ cmd: IPVS_CMD.FLUSH, attrs: [] }, 'flush the IPVS table');
  }

  async startDaemon(d: SyncDaemon): Promise<void> {
    await this.#call(newDaemonRequest(d), `start the ${d.state} sync daemon on ${d.interface}`);
  }

  async stopDaemon(state: SyncDaemon['state']): Promise<void> {
    await this.#call(delDaemonRequest(state), `stop the ${state} sync daemon`);
  }

  async daemons(): Promise<SyncDaemon[]> {
    const replies = await this.#dump({ cmd: IPVS_CMD.GET_DAEMON, attrs: [] }, 'list sync daemons');
    return replies.map((m) => decodeDaemon(decodeGenl(m).attrs));
  }

  #opRequest(op: IpvsOp): NetlinkRequest {
    return new OpRequest(this.#family.id, opPayload(op, this.#family.version), op);
  }

  #request(r: IpvsRequest, what: string): NetlinkRequest {
    return genlRequest(this.#family, r.cmd, r.attrs, { what });
  }

  async #call(r: IpvsRequest, what: string) {
    try {
      return await this.#nl.request(this.#request(r, what));
    } catch (err) {
      throw asIpvsError(err);
    }
  }

  async #dump(r: IpvsRequest, what: string) {
    try {
      return await this.#nl.dump(this.#request(r, what));
    } catch (err) {
      throw asIpvsError(err);
    }
  }
}

/** Described only when a message needs it: formatting 100,000 descriptions up front was a visible cost. */
class OpRequest implements NetlinkRequest {
  readonly type: number;
  readonly payload: Buffer;
  readonly #op: IpvsOp;

  constructor(type: number, payload: Buffer, op: IpvsOp) {
    this.type = type;
    this.payload = payload;
    this.#op = op;
  }

  get what(): string {
    return describeOp(this.#op);
  }
}

function fallbackFor(op: IpvsOp, errno: string | undefined): IpvsOp | 'done' | undefined {
  switch (op.op) {
    case 'add-service':
      return errno === 'EEXIST' ? { op: 'edit-service', service: op.service } : undefined;
    case 'edit-service':
      return errno === 'ESRCH' ? { op: 'add-service', service: op.service } : undefined;
    case 'del-service':
    case 'del-dest':
      return errno === 'ENOENT' || errno === 'ESRCH' ? 'done' : undefined;
    case 'add-dest':
      return errno === 'EEXIST' ? { op: 'edit-dest', service: op.service, dest: op.dest } : errno === 'ESRCH' ? op : undefined;
    case 'edit-dest':
      return errno === 'ENOENT' ? { op: 'add-dest', service: op.service, dest: op.dest } : errno === 'ESRCH' ? op : undefined;
  }
}

/** The kernel's errnos are terse and reused; say what they mean for this kind of request. */
function explain(op: IpvsOp, error: IpvsError): IpvsError {
  const service = op.op === 'add-service' || op.op === 'edit-service';
  const hint =
    error.errno === 'ENOENT' && service ? `no scheduler "${op.service.scheduler}"${op.service.pe ? ` or persistence engine "${op.service.pe}"` : ''} in this kernel`
    : error.errno === 'ESRCH' ? 'the virtual service does not exist'
    : error.errno === 'EINVAL' && service ? 'the kernel rejected the settings (persistence netmask, timeout or flags)'
    : error.errno === 'EINVAL' ? 'the kernel rejected the settings (weight, thresholds or tunnel options)'
    : undefined;
  return hint ? new IpvsError('IPVS_KERNEL', `${describeOp(op)} failed: ${hint} (${error.errno})`, error.errno) : error;
}

function asIpvsError(err: unknown): IpvsError {
  if (err instanceof IpvsError) return err;
  if (err instanceof NetlinkError && err.code === 'EPERM') return new IpvsError('IPVS_KERNEL', `${err.message}: IPVS needs root (CAP_NET_ADMIN)`, 'EPERM');
  if (err instanceof NetlinkError) return new IpvsError(err.errno ? 'IPVS_KERNEL' : 'IPVS_DECODE', err.message, err.errno ? err.code : undefined);
  return new IpvsError('IPVS_KERNEL', err instanceof Error ? err.message : String(err));
}
