// Sends random and mutated VRRP adverts from inside a lab namespace (run by fuzz.test.ts): argv = interface,
// VRID of the target instance, count, seed. Every packet is one the receiver must drop; prints the drop reason
// each should be counted under, as JSON {reason: count}.
import { AF_INET, IP_HDRINCL, IPPROTO_VRRP, SOCK_RAW, SOL_IP, SO_BINDTODEVICE, SOL_SOCKET } from '../../src/sys/constants.ts';
import { DatagramSocket } from '../../src/sys/socket.ts';
import { networkInterfaces } from 'node:os';
import { AUTH_NONE, checkAdvert, decodeAdvert, encodeAdvert, type Advert } from '../../src/vrrp/codec.ts';
import { inetPton } from '../../src/sys/inet.ts';

const [ifname = 'eth0', vridText = '1', countText = '1000', seedText = '1', vipText = '10.0.0.100'] = process.argv.slice(2);
const vrid = Number(vridText);
const count = Number(countText);
let seed = Number(seedText) >>> 0 || 1;
const rand = (n: number) => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
};
const src = networkInterfaces()[ifname]?.find((n) => n.family === 'IPv4')?.address ?? '0.0.0.0';
const dst = '224.0.0.18';
const expect = { version: 3 as const, vrid, intervalMs: 100, addresses: [vipText], authType: AUTH_NONE, authData: Buffer.alloc(0), unicast: false };
const good: Advert = { version: 3, vrid, priority: 255, intervalMs: 100, family: 4, addresses: [vipText], authType: AUTH_NONE, authData: Buffer.alloc(0) };

/** What the receiver will count this packet under; undefined if it would be accepted (the sender then skips it). */
function verdict(payload: Buffer, ttl: number): string | undefined {
  const d = decodeAdvert(payload, 4, { src, dst });
  if (!d.ok) return d.reason;
  if (d.advert.vrid !== vrid) return 'vrid_err';
  const c = checkAdvert(d.advert, ttl, expect);
  return c.ok ? undefined : c.reason;
}

const mutations: (() => { payload: Buffer; ttl: number })[] = [
  () => ({ payload: encodeAdvert(good, { src, dst }), ttl: 1 + rand(254) }),
  () => {
    const p = encodeAdvert(good, { src, dst });
    p[6]! ^= 1 + rand(255);
    return { payload: p, ttl: 255 };
  },
  () => ({ payload: encodeAdvert(good, { src, dst }).subarray(0, rand(12)), ttl: 255 }),
  () => {
    const p = encodeAdvert(good, { src, dst });
    p[3] = 2 + rand(254);
    return { payload: p, ttl: 255 };
  },
  () => ({ payload: encodeAdvert({ ...good, vrid: (vrid + 1 + rand(254)) % 256 }, { src, dst }), ttl: 255 }),
  () => ({ payload: encodeAdvert({ ...good, version: 2, intervalMs: 1000 }, { src, dst }), ttl: 255 }),
  () => {
    const p = encodeAdvert(good, { src, dst });
    p[0] = (3 << 4) | (2 + rand(14));
    return { payload: p, ttl: 255 };
  },
  () => {
    const p = encodeAdvert(good, { src, dst });
    p[rand(p.length)]! ^= 1 << rand(8);
    return { payload: p, ttl: 255 };
  },
  () => ({ payload: Buffer.from(Array.from({ length: rand(80) }, () => rand(256))), ttl: 255 }),
];

const sock = DatagramSocket.open(AF_INET, SOCK_RAW, IPPROTO_VRRP);
sock.setOption(SOL_IP, IP_HDRINCL, 1);
sock.setOption(SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${ifname}\0`));
const tally: Record<string, number> = {};
let sent = 0;
while (sent < count) {
  const { payload, ttl } = mutations[rand(mutations.length)]!();
  const reason = verdict(payload, ttl);
  if (reason === undefined) continue;
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip[1] = 0xc0;
  ip.writeUInt16BE(20 + payload.length, 2);
  ip[8] = ttl;
  ip[9] = IPPROTO_VRRP;
  inetPton(src).copy(ip, 12);
  inetPton(dst).copy(ip, 16);
  sock.send(Buffer.concat([ip, payload]), { family: 4, address: dst, port: 0 });
  tally[reason] = (tally[reason] ?? 0) + 1;
  sent++;
  // Pace the burst so the receiver's socket buffer never overflows (a kernel drop would not be counted).
  if (sent % 25 === 0) await new Promise((r) => setTimeout(r, 10));
}
sock.close();
process.stdout.write(`${JSON.stringify(tally)}\n`);
