// The IPVS client: typed reads and writes of the kernel's table over one generic-netlink connection. Writes go
// out pipelined (many requests per sendmsg, matched by sequence number) so thousands of objects cost few round
// trips; requests are written straight into the socket's send buffer and dump replies decoded where they arrive.
//
//   const ipvs = await IpvsClient.open();            // its own socket, closed by ipvs.close()
//   const ipvs = await IpvsClient.connect(nl);       // over a socket the caller opened, shares and closes
import { NETLINK_GENERIC } from '../sys/constants.ts';
import { decodeGenl, type GenlFamily, GENL_HDRLEN, genlRequest, resolveFamily } from '../netlink/genl.ts';
import { NetlinkError } from '../netlink/errors.ts';
import type { NetlinkConnection, NetlinkRequest, RowDecoder } from '../netlink/socket.ts';
import { NetlinkSocket } from '../netlink/socket.ts';
import {
  decodeConfig, decodeDaemon, decodeDest, decodeInfo, decodeService, delDaemonRequest, type IpvsInfo, type IpvsPayload,
  type IpvsRequest, type IpvsTimeouts, newDaemonRequest, opPayload, servicePayload, setConfigRequest, type SyncDaemon,
} from './codec.ts';
import { IPVS_CMD, IPVS_GENL_NAME } from './constants.ts';
import { describeOp } from './describe.ts';
import { IPVS_UNAVAILABLE_MESSAGE, IpvsError } from './errors.ts';
import { DestinationRows, type Listing } from './listing.ts';
import type { DestinationEntry, IpvsOp, ServiceEntry, ServiceId } from './types.ts';

export interface KernelTable {
  readonly services: readonly { readonly service: ServiceEntry; readonly destinations: readonly DestinationEntry[] }[];
}

export interface ApplyResult {
  /** The operations the kernel accepted, after idempotent fallbacks (add that existed → edit, and so on). */
  readonly applied: readonly IpvsOp[];
  readonly failed: readonly { readonly op: IpvsOp; readonly error: IpvsError }[];
}

export class IpvsClient {
  readonly #nl: NetlinkConnection;
  readonly #family: GenlFamily;
  readonly #owned: NetlinkSocket | undefined;

  /**
   * A client over `nl` for the IPVS family as resolveFamily described it. `owned`, when given, is the socket
   * close() closes; without it the connection stays its opener's (tests and the daemon inject or share one).
   */
  constructor(nl: NetlinkConnection, family: GenlFamily, owned?: NetlinkSocket) {
    this.#nl = nl;
    this.#family = family;
    this.#owned = owned;
  }

  /** Resolves the IPVS family over an open generic-netlink socket; IPVS_UNAVAILABLE when ip_vs is not loaded. */
  static async connect(nl: NetlinkConnection): Promise<IpvsClient> {
    try {
      return new IpvsClient(nl, await resolveFamily(nl, IPVS_GENL_NAME));
    } catch (err) {
      if (err instanceof NetlinkError && err.code === 'FAMILY_NOT_FOUND') throw new IpvsError('IPVS_UNAVAILABLE', IPVS_UNAVAILABLE_MESSAGE);
      throw asIpvsError(err);
    }
  }

  /** Opens its own socket (closed by close()) and resolves the family as connect() does. */
  static async open(): Promise<IpvsClient> {
    const nl = NetlinkSocket.open(NETLINK_GENERIC);
    try {
      return new IpvsClient(nl, (await IpvsClient.connect(nl)).#family, nl);
    } catch (err) {
      nl.close();
      throw err;
    }
  }

  /** Closes the socket open() opened; a connection given to connect() or the constructor is left open. */
  close(): void {
    this.#owned?.close();
  }

  async services(): Promise<ServiceEntry[]> {
    return this.#rows(servicePayload(IPVS_CMD.GET_SERVICE, this.#family.version), 'list services', (buf, start, end) => decodeService(buf, start + GENL_HDRLEN, end));
  }

  /** One service as the kernel has it, or undefined when it has none with that id. */
  async service(id: ServiceId): Promise<ServiceEntry | undefined> {
    try {
      const [reply] = await this.#call(this.#payloadRequest(servicePayload(IPVS_CMD.GET_SERVICE, this.#family.version, id), 'read a virtual service'));
      return reply ? decodeService(reply.payload, GENL_HDRLEN) : undefined;
    } catch (err) {
      if (err instanceof IpvsError && (err.errno === 'ESRCH' || err.errno === 'ENOENT')) return undefined;
      throw err;
    }
  }

  /** An unknown service gives an empty list (that is what the kernel's dump returns). */
  async destinations(id: ServiceId): Promise<DestinationEntry[]> {
    return this.#rows(servicePayload(IPVS_CMD.GET_DEST, this.#family.version, id), 'list real servers', (buf, start, end) => decodeDest(buf, id.family, start + GENL_HDRLEN, end));
  }

  /**
   * The whole table: one service dump, then one destination dump per service. The kernel runs one dump at a
   * time per socket; the socket sends the next as soon as one ends, so they run back to back without a wake-up
   * each.
   */
  async table(): Promise<KernelTable> {
    const services = await this.services();
    const dests = await Promise.all(services.map((s) => this.destinations(s.id)));
    return { services: services.map((service, i) => ({ service, destinations: dests[i] ?? [] })) };
  }

  /**
   * The whole table as `ipvs list` prints it: table()'s dumps, read as they are sent (dumpEach: the listing holds
   * the event loop), the destinations read into rows instead of an object each; their counters only `withStats`.
   */
  async listing(withStats = false): Promise<Listing> {
    const services = await this.services();
    const rows = new DestinationRows(services.length * 10, withStats);
    const dests = services.map((): number[] => []);
    try {
      const reqs = services.map((s) => this.#payloadRequest(servicePayload(IPVS_CMD.GET_DEST, this.#family.version, s.id), 'list real servers'));
      await this.#nl.dumpEach(reqs, (i, buf, start, end) => {
        dests[i]!.push(rows.add(buf, services[i]!.id.family, start + GENL_HDRLEN, end));
      });
      return { services, dests, rows };
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
    let pending: readonly IpvsOp[] = ops;
    for (let pass = 0; pass < 2 && pending.length > 0; pass++) {
      const errors = await this.#nl.batchSettled(pending.map((op) => new OpRequest(this.#family.id, opPayload(op, this.#family.version), op)));
      const retry: IpvsOp[] = [];
      for (let i = 0; i < pending.length; i++) {
        const op = pending[i] as IpvsOp;
        const err = errors[i];
        if (!err) {
          applied.push(op);
          continue;
        }
        const error = asIpvsError(err);
        const fallback = pass === 0 ? fallbackFor(op, error.errno) : undefined;
        if (fallback === 'done') continue;
        if (fallback) retry.push(fallback);
        else failed.push({ op, error: explain(op, error) });
      }
      pending = retry;
    }
    return { applied, failed };
  }

  async info(): Promise<IpvsInfo> {
    const [reply] = await this.#call(this.#request({ cmd: IPVS_CMD.GET_INFO, attrs: [] }, 'read IPVS info'));
    if (!reply) throw new IpvsError('IPVS_DECODE', 'the kernel sent no IPVS info');
    return decodeInfo(decodeGenl(reply).attrs);
  }

  async timeouts(): Promise<IpvsTimeouts> {
    const [reply] = await this.#call(this.#request({ cmd: IPVS_CMD.GET_CONFIG, attrs: [] }, 'read IPVS timeouts'));
    if (!reply) throw new IpvsError('IPVS_DECODE', 'the kernel sent no IPVS timeouts');
    return decodeConfig(decodeGenl(reply).attrs);
  }

  /** Seconds; a 0 leaves that timeout as it is. */
  async setTimeouts(t: IpvsTimeouts): Promise<void> {
    await this.#call(this.#request(setConfigRequest(t), 'set IPVS timeouts'));
  }

  /** Zeroes the counters of one service, or of every service. */
  async zero(id?: ServiceId): Promise<void> {
    await this.#call(this.#payloadRequest(servicePayload(IPVS_CMD.ZERO, this.#family.version, id), 'zero IPVS counters'));
  }

  /** Removes every service; only on explicit request (lvs_flush), never as part of reconciling. */
  async flush(): Promise<void> {
    await this.#call(this.#request({ cmd: IPVS_CMD.FLUSH, attrs: [] }, 'flush the IPVS table'));
  }

  async startDaemon(d: SyncDaemon): Promise<void> {
    await this.#call(this.#request(newDaemonRequest(d), `start the ${d.state} sync daemon on ${d.interface}`));
  }

  async stopDaemon(state: SyncDaemon['state']): Promise<void> {
    await this.#call(this.#request(delDaemonRequest(state), `stop the ${state} sync daemon`));
  }

  async daemons(): Promise<SyncDaemon[]> {
    try {
      const replies = await this.#nl.dump(this.#request({ cmd: IPVS_CMD.GET_DAEMON, attrs: [] }, 'list sync daemons'));
      return replies.map((m) => decodeDaemon(decodeGenl(m).attrs));
    } catch (err) {
      throw asIpvsError(err);
    }
  }

  #request(r: IpvsRequest, what: string): NetlinkRequest {
    return genlRequest(this.#family, r.cmd, r.attrs, { what });
  }

  #payloadRequest(payload: IpvsPayload, what: string): NetlinkRequest {
    return { type: this.#family.id, payload, what };
  }

  async #call(req: NetlinkRequest) {
    try {
      return await this.#nl.request(req);
    } catch (err) {
      throw asIpvsError(err);
    }
  }

  async #rows<T>(payload: IpvsPayload, what: string, row: RowDecoder<T>): Promise<T[]> {
    try {
      return await this.#nl.dumpRows(this.#payloadRequest(payload, what), row);
    } catch (err) {
      throw asIpvsError(err);
    }
  }
}

/** Described only when a message needs it: formatting 100,000 descriptions up front was a visible cost. */
class OpRequest implements NetlinkRequest {
  readonly type: number;
  readonly payload: IpvsPayload;
  readonly #op: IpvsOp;

  constructor(type: number, payload: IpvsPayload, op: IpvsOp) {
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
