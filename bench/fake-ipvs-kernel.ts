// A NetlinkTransport that answers like the kernel's IPVS family, for measuring the JS side of IpvsClient on a
// host without IPVS (bench/ipvs-apply.ts --host). It ACKs every request, one datagram per ACK as the kernel does,
// and answers the service dump and the per-service destination dumps from a table given up front, in datagrams
// of at most 32 KiB with NLMSG_DONE on its own, with the attributes the kernel sends (16-byte address unions, 32-
// and 64-bit stats). Replies arrive on a later turn of the event loop. Its own costs are kept small: every reply
// is encoded before the clock starts.
import { createHash } from 'node:crypto';
import { binary, decodeAttrs, encodeAttrs, nested, string, u16, u32, u64, u8 } from '../src/netlink/attributes.ts';
import { encodeMessage, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_MULTI, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, nlmsgAlign } from '../src/netlink/message.ts';
import type { NetlinkDatagram, NetlinkTransport } from '../src/netlink/transport.ts';
import { inetPton } from '../src/sys/inet.ts';
import { IPVS_CMD, IPVS_CMD_ATTR, IPVS_DEST_ATTR, IPVS_SVC_ATTR } from '../src/ipvs/constants.ts';
import type { IpvsTable } from '../src/ipvs/types.ts';

const DUMP_BYTES = 32 * 1024;

interface Reply {
  readonly datagrams: readonly Buffer[];
  readonly seqAt: readonly { readonly data: Buffer; readonly offset: number }[];
}

export class FakeIpvsKernel implements NetlinkTransport {
  readonly portId = 4242;
  readonly ackCapacity = 1024;
  readonly maxSendBytes = 512 * 1024 - 1024;
  closed = false;
  readonly hash = createHash('sha256');
  bytes = 0;
  sends = 0;
  readonly #services: Reply;
  readonly #dests = new Map<string, Reply>();
  #onDatagram: ((d: NetlinkDatagram) => void) | undefined;
  /** Replies queued as the kernel queues them in sendmsg: read by receiveNow(), or delivered on the next turn. */
  #queued: Buffer[] = [];
  #delivery: NodeJS.Immediate | undefined;

  readonly familyId: number;

  constructor(familyId: number, table: IpvsTable) {
    this.familyId = familyId;
    const services: Buffer[] = [];
    for (const { service, destinations } of table.services) {
      if (service.id.kind !== 'addr') continue;
      const addr = union(service.id.address);
      const flags = Buffer.alloc(8);
      flags.writeUInt32LE(0xffffffff, 4);
      services.push(genl(IPVS_CMD.NEW_SERVICE, nested(IPVS_CMD_ATTR.SERVICE, [
        u16(IPVS_SVC_ATTR.AF, 2), u16(IPVS_SVC_ATTR.PROTOCOL, 6), binary(IPVS_SVC_ATTR.ADDR, addr), be16(IPVS_SVC_ATTR.PORT, service.id.port),
        u32(IPVS_SVC_ATTR.FWMARK, 0), string(IPVS_SVC_ATTR.SCHED_NAME, service.scheduler), binary(IPVS_SVC_ATTR.FLAGS, flags),
        u32(IPVS_SVC_ATTR.TIMEOUT, service.timeoutS), binary(IPVS_SVC_ATTR.NETMASK, inetPton(service.netmask)), stats32(IPVS_SVC_ATTR.STATS), stats64(IPVS_SVC_ATTR.STATS64),
      ])));
      this.#dests.set(key(addr.subarray(0, 4), service.id.port), this.#reply(destinations.map((d) => genl(IPVS_CMD.NEW_DEST, nested(IPVS_CMD_ATTR.DEST, [
        binary(IPVS_DEST_ATTR.ADDR, union(d.address)), be16(IPVS_DEST_ATTR.PORT, d.port), u32(IPVS_DEST_ATTR.FWD_METHOD, 0), u32(IPVS_DEST_ATTR.WEIGHT, d.weight),
        u32(IPVS_DEST_ATTR.U_THRESH, 0), u32(IPVS_DEST_ATTR.L_THRESH, 0), u32(IPVS_DEST_ATTR.ACTIVE_CONNS, 0), u32(IPVS_DEST_ATTR.INACT_CONNS, 0),
        u32(IPVS_DEST_ATTR.PERSIST_CONNS, 0), stats32(IPVS_DEST_ATTR.STATS), u16(IPVS_DEST_ATTR.ADDR_FAMILY, 2), stats64(IPVS_DEST_ATTR.STATS64),
        u8(IPVS_DEST_ATTR.TUN_TYPE, 0), be16(IPVS_DEST_ATTR.TUN_PORT, 0), u16(IPVS_DEST_ATTR.TUN_FLAGS, 0),
      ])))));
    }
    this.#services = this.#reply(services);
  }

  /** A dump's reply parts, encoded once; each request only writes its sequence number into them. */
  #reply(rows: readonly Buffer[]): Reply {
    const datagrams: Buffer[] = [];
    const seqAt: { data: Buffer; offset: number }[] = [];
    let part: Buffer[] = [];
    let size = 0;
    const flush = (): void => {
      const data = Buffer.concat(part);
      for (let o = 0; o < data.length; o += nlmsgAlign(data.readUInt32LE(o))) seqAt.push({ data, offset: o });
      datagrams.push(data);
      part = [];
      size = 0;
    };
    for (const row of rows) {
      const msg = encodeMessage({ type: this.familyId, flags: NLM_F_MULTI, seq: 0, pid: this.portId, payload: row });
      if (size + msg.length > DUMP_BYTES) flush();
      part.push(msg);
      size += msg.length;
    }
    if (part.length) flush();
    return { datagrams, seqAt };
  }

  send(messages: readonly Buffer[]): void {
    this.sends++;
    const out: Buffer[] = [];
    for (const m of messages) {
      this.hash.update(m);
      this.bytes += m.length;
      for (let off = 0; off + NLMSG_HDRLEN <= m.length; off += nlmsgAlign(m.readUInt32LE(off))) {
        const seq = m.readUInt32LE(off + 8);
        if ((m.readUInt16LE(off + 6) & NLM_F_DUMP) === 0) {
          out.push(ack(seq));
          continue;
        }
        const cmd = m[off + NLMSG_HDRLEN];
        let reply: Reply | undefined;
        if (cmd === IPVS_CMD.GET_SERVICE) reply = this.#services;
        else if (cmd === IPVS_CMD.GET_DEST) {
          const svc = decodeAttrs(m.subarray(off + NLMSG_HDRLEN + 4, off + m.readUInt32LE(off))).nested(IPVS_CMD_ATTR.SERVICE);
          reply = this.#dests.get(key(svc?.get(IPVS_SVC_ATTR.ADDR) ?? Buffer.alloc(4), svc?.be16(IPVS_SVC_ATTR.PORT) ?? 0));
        }
        for (const at of reply?.seqAt ?? []) at.data.writeUInt32LE(seq, at.offset + 8);
        if (reply) out.push(...reply.datagrams);
        out.push(encodeMessage({ type: NLMSG_DONE, flags: NLM_F_MULTI, seq, pid: this.portId, payload: Buffer.alloc(4) }));
      }
    }
    this.#queued.push(...out);
    this.#delivery ??= setImmediate(() => {
      this.#delivery = undefined;
      while (this.receiveNow());
    });
  }
  listen(onDatagram: (d: NetlinkDatagram) => void): void {
    this.#onDatagram = onDatagram;
  }
  drain(): NetlinkDatagram[] {
    return [];
  }
  receiveNow(): boolean {
    const data = this.#queued.shift();
    if (data === undefined || this.closed) return false;
    this.#onDatagram?.({ data, groups: 0, truncated: false, size: data.length });
    return true;
  }
  growReceiveBuffer(): void {}
  join(): void {}
  leave(): void {}
  ref(): void {}
  unref(): void {}
  close(): void {
    this.closed = true;
  }
}

function ack(seq: number): Buffer {
  const err = Buffer.alloc(4 + NLMSG_HDRLEN);
  err.writeUInt32LE(NLMSG_HDRLEN, 4);
  err.writeUInt32LE(seq, 12);
  return encodeMessage({ type: NLMSG_ERROR, flags: NLM_F_CAPPED, seq, payload: err });
}

function genl(cmd: number, attr: ReturnType<typeof nested>): Buffer {
  return Buffer.concat([Buffer.from([cmd, 1, 0, 0]), encodeAttrs([attr])]);
}

function union(address: string): Buffer {
  const b = Buffer.alloc(16);
  b.set(inetPton(address));
  return b;
}

function be16(type: number, v: number) {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v, 0);
  return binary(type, b);
}

const stats32 = (type: number) => nested(type, Array.from({ length: 10 }, (_, i) => u32(i + 1, 0)));
const stats64 = (type: number) => nested(type, Array.from({ length: 10 }, (_, i) => u64(i + 1, 0n)));
const key = (addr: Buffer, port: number): string => `${addr.subarray(0, 4).toString('hex')}:${port}`;
