// Real sockets on loopback through the native shim.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { constants } from 'node:os';
import { test } from 'node:test';
import { decodePacketInfo } from '../../src/sys/cmsg.ts';
import {
  AF_INET, AF_INET6, EPOLL_CTL_DEL, IP_PKTINFO, IP_RECVTTL, IPV6_RECVHOPLIMIT, IPV6_RECVPKTINFO, SO_RCVBUF, SOCK_DGRAM, SOL_IP, SOL_IPV6, SOL_SOCKET,
} from '../../src/sys/constants.ts';
import { isErrno, sys } from '../../src/sys/native.ts';
import { encodeSockaddr } from '../../src/sys/sockaddr.ts';
import { type Datagram, DatagramSocket } from '../../src/sys/socket.ts';

function nextDatagram(s: DatagramSocket): Promise<Datagram> {
  return new Promise((resolve, reject) => {
    s.onMessage((d) => {
      s.pause();
      resolve(d);
    }, reject);
  });
}

test('UDP on 127.0.0.1 receives its own datagram with IP_PKTINFO and IP_RECVTTL decoded', async (t) => {
  const s = DatagramSocket.open(AF_INET, SOCK_DGRAM, 0);
  t.after(() => s.close());
  s.setOption(SOL_IP, IP_PKTINFO, 1).setOption(SOL_IP, IP_RECVTTL, 1);
  s.bind({ family: 4, address: '127.0.0.1', port: 0 });
  const local = s.localAddress();
  assert.ok(local?.family === 4 && local.port > 0);
  const got = nextDatagram(s);
  assert.equal(s.send([Buffer.from('hello '), Buffer.from('world')], local), 11);
  const d = await got;
  assert.equal(d.data.toString(), 'hello world');
  assert.deepEqual(d.from, { family: 4, address: '127.0.0.1', port: local.port });
  assert.equal(d.truncated, false);
  const info = decodePacketInfo(d.control);
  assert.equal(info.destination, '127.0.0.1');
  assert.equal(info.ifindex, sys().ifNameToIndex('lo'));
  assert.equal(info.ttl, 64, 'unicast default TTL');
});

test('UDP on ::1 receives its own datagram with IPV6_PKTINFO and the hop limit', async (t) => {
  let s: DatagramSocket;
  try {
    s = DatagramSocket.open(AF_INET6, SOCK_DGRAM, 0);
    s.bind({ family: 6, address: '::1', port: 0 });
  } catch (err) {
    t.skip(`no IPv6 loopback here: ${(err as Error).message}`);
    return;
  }
  t.after(() => s.close());
  s.setOption(SOL_IPV6, IPV6_RECVPKTINFO, 1).setOption(SOL_IPV6, IPV6_RECVHOPLIMIT, 1);
  const local = s.localAddress();
  assert.ok(local?.family === 6);
  const got = nextDatagram(s);
  s.send(Buffer.from('v6'), local);
  const d = await got;
  assert.equal(d.data.toString(), 'v6');
  const info = decodePacketInfo(d.control);
  assert.equal(info.destination, '::1');
  assert.equal(info.ifindex, 1);
  assert.equal(info.ttl, 64);
});

test('a datagram larger than the receive buffer is reported truncated with its real size (MSG_TRUNC)', async (t) => {
  const s = DatagramSocket.open(AF_INET, SOCK_DGRAM, 0, { bufferSize: 8, flags: 0x20 });
  t.after(() => s.close());
  s.bind({ family: 4, address: '127.0.0.1', port: 0 });
  s.send(Buffer.alloc(100, 1), s.localAddress());
  const d = await nextDatagram(s);
  assert.equal(d.truncated, true);
  assert.equal(d.size, 100);
  assert.equal(d.data.length, 8);
});

test('receiveBatch drains many datagrams in one native call, each with its own source and control data', (t) => {
  const rx = DatagramSocket.open(AF_INET, SOCK_DGRAM, 0, { bufferSize: 64 });
  const a = DatagramSocket.open(AF_INET, SOCK_DGRAM, 0);
  const b = DatagramSocket.open(AF_INET, SOCK_DGRAM, 0);
  t.after(() => [rx, a, b].forEach((s) => s.close()));
  rx.setOption(SOL_IP, IP_RECVTTL, 1).bind({ family: 4, address: '127.0.0.1', port: 0 });
  a.bind({ family: 4, address: '127.0.0.1', port: 0 });
  b.bind({ family: 4, address: '127.0.0.1', port: 0 });
  const to = rx.localAddress()!;
  const sent = ['a', 'bb', 'ccc', 'x'.repeat(100), 'ddddd'];
  sent.forEach((text, i) => (i % 2 ? b : a).send(Buffer.from(text), to));
  const got = rx.receiveBatch();
  assert.deepEqual(got.map((d) => d.data.toString()), ['a', 'bb', 'ccc', 'x'.repeat(64), 'ddddd']);
  assert.deepEqual(got.map((d) => d.truncated), [false, false, false, true, false]);
  assert.equal(got[3]!.size, 64, 'without MSG_TRUNC the kernel reports the truncated length');
  assert.deepEqual(got.map((d) => (d.from?.family === 4 ? d.from.port : 0)), sent.map((_, i) => ((i % 2 ? b : a).localAddress() as { port: number }).port));
  assert.ok(got.every((d) => decodePacketInfo(d.control).ttl === 64));
  assert.deepEqual(rx.receiveBatch(), []);
});

test('a pending socket error (ICMP port unreachable) reaches onError with its errno and polling continues', async (t) => {
  const gone = DatagramSocket.open(AF_INET, SOCK_DGRAM, 0).bind({ family: 4, address: '127.0.0.1', port: 0 });
  const closedPort = gone.localAddress()!;
  gone.close();
  const s = DatagramSocket.open(AF_INET, SOCK_DGRAM, 0).bind({ family: 4, address: '127.0.0.1', port: 0 });
  const peer = DatagramSocket.open(AF_INET, SOCK_DGRAM, 0).bind({ family: 4, address: '127.0.0.1', port: 0 });
  t.after(() => [s, peer].forEach((x) => x.close()));
  const errors: Error[] = [];
  const got = new Promise<string>((resolve) => s.onMessage((d) => resolve(d.data.toString()), (e) => errors.push(e)));
  s.connect(closedPort).send(Buffer.from('anyone?'));
  for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(isErrno(errors[0], 'ECONNREFUSED'), `got ${errors[0]?.message}`);
  s.connect(peer.localAddress()!);
  peer.send(Buffer.from('still here'), s.localAddress());
  assert.equal(await got, 'still here');
});

test('the poller reports writability when asked, and stop() silences it', async (t) => {
  const fd = sys().socket(AF_INET, SOCK_DGRAM, 0);
  t.after(() => sys().close(fd));
  const seen = await new Promise<[boolean, boolean]>((resolve) => {
    const p = new (sys().Poller)(fd, (_err, readable, writable) => {
      p.close();
      resolve([readable, writable]);
    });
    p.start(false, true);
  });
  assert.deepEqual(seen, [false, true]);
});

test('syscall failures are Errors with errno, code and syscall; receive on an empty socket is null', (t) => {
  const s = DatagramSocket.open(AF_INET, SOCK_DGRAM, 0);
  t.after(() => s.close());
  assert.equal(s.receive(), null);
  assert.ok(s.getIntOption(SOL_SOCKET, SO_RCVBUF) > 0);
  try {
    s.bind({ family: 4, address: '192.0.2.77', port: 0 });
    assert.fail('bind to a foreign address must fail');
  } catch (err) {
    assert.ok(isErrno(err, 'EADDRNOTAVAIL'));
    assert.equal(err.errno, 99);
    assert.equal(err.syscall, 'bind');
  }
  assert.throws(() => sys().ifNameToIndex('no-such-if0'), (e: unknown) => isErrno(e, 'ENODEV'));
  assert.equal(sys().ifIndexToName(1), 'lo');
  assert.throws(() => sys().socket(12345, SOCK_DGRAM, 0), (e: unknown) => isErrno(e, 'EAFNOSUPPORT') && e.syscall === 'socket');
});

test('connectMany starts TCP connects in one call; epollReap reads SO_ERROR of those marked connecting; closeMany closes', async (t) => {
  const native = sys();
  const open = createServer((c) => c.destroy()).listen(0, '127.0.0.1');
  await once(open, 'listening');
  t.after(() => open.close());
  const closed = createServer().listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const refusedPort = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const epfd = native.epollCreate();
  t.after(() => native.close(epfd));
  const addresses = [
    encodeSockaddr({ family: 4, address: '127.0.0.1', port: (open.address() as AddressInfo).port }),
    encodeSockaddr({ family: 4, address: '127.0.0.1', port: refusedPort }),
    encodeSockaddr({ family: 4, address: '127.0.0.1', port: 1 }),
  ];
  const fds = new Int32Array(3);
  native.connectMany(epfd, Int32Array.of(AF_INET, AF_INET, 12345), addresses, 3, fds);
  assert.ok(fds[0]! >= 0 && fds[1]! >= 0);
  assert.equal(fds[2], -constants.errno.EAFNOSUPPORT);
  const connecting = new Uint8Array(Math.max(fds[0]!, fds[1]!) + 1);
  connecting[fds[0]!] = connecting[fds[1]!] = 1;
  const errors = new Map<number, number>();
  const out = new Int32Array(3 * 8);
  for (let i = 0; i < 200 && errors.size < 2; i++) {
    const n = native.epollReap(epfd, out, connecting);
    for (let k = 0; k < n; k++) {
      errors.set(out[3 * k]!, out[3 * k + 2]!);
      // Reported once: a level-triggered set would report it again until it leaves the set.
      native.epollCtl(epfd, EPOLL_CTL_DEL, out[3 * k]!, 0);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(errors.get(fds[0]!), 0);
  assert.equal(errors.get(fds[1]!), constants.errno.ECONNREFUSED);
  native.closeMany(fds, 2);
  assert.throws(() => native.close(fds[0]!), (e: unknown) => isErrno(e, 'EBADF'));
});

test('connectMany refuses an address that is not bytes before it makes any descriptor', () => {
  const native = sys();
  const epfd = native.epollCreate();
  try {
    const fds = new Int32Array(2).fill(-1);
    const addresses = [encodeSockaddr({ family: 4, address: '127.0.0.1', port: 1 }), 'no' as unknown as Uint8Array];
    const open = readdirSync('/proc/self/fd').length;
    assert.throws(() => native.connectMany(epfd, Int32Array.of(AF_INET, AF_INET), addresses, 2, fds), TypeError);
    assert.equal(readdirSync('/proc/self/fd').length, open);
    assert.deepEqual([...fds], [-1, -1]);
  } finally {
    native.close(epfd);
  }
});

test('a throwing receive handler raises uncaughtException and the socket keeps working', () => {
  // In a child process: the first datagram's handler throws; the process' uncaughtException handler counts it
  // and the second datagram still arrives. A native abort would end the child with a signal instead.
  const child = `
    import { DatagramSocket } from ${JSON.stringify(new URL('../../src/sys/socket.ts', import.meta.url).href)};
    let uncaught = 0;
    process.on('uncaughtException', (e) => { uncaught++; if (e.message !== 'boom') throw e; });
    const s = DatagramSocket.open(2, 2, 0).bind({ family: 4, address: '127.0.0.1', port: 0 });
    const to = s.localAddress();
    let n = 0;
    s.onMessage((d) => {
      n++;
      if (n === 1) { setTimeout(() => s.send(Buffer.from('two'), to), 10); throw new Error('boom'); }
      console.log(JSON.stringify({ uncaught, second: d.data.toString() }));
      s.close();
    });
    s.send(Buffer.from('one'), to);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', child], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.signal, null, r.stderr);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { uncaught: 1, second: 'two' });
});

test('an idle unref()ed socket does not keep the process alive; close() stops the poller', () => {
  const child = `
    import { DatagramSocket } from ${JSON.stringify(new URL('../../src/sys/socket.ts', import.meta.url).href)};
    const a = DatagramSocket.open(2, 2, 0).bind({ family: 4, address: '127.0.0.1', port: 0 });
    a.onMessage(() => {});
    a.unref();
    const b = DatagramSocket.open(2, 2, 0).bind({ family: 4, address: '127.0.0.1', port: 0 });
    b.onMessage(() => {});
    b.close();
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', child], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.error, undefined, 'the child must exit on its own');
  assert.equal(r.status, 0, r.stderr);
});

test('a worker thread terminated with a socket still polling shuts down cleanly', () => {
  // Each environment closes its open pollers in an async cleanup hook; without it the process crashed here.
  const worker = `
    import { DatagramSocket } from ${JSON.stringify(new URL('../../src/sys/socket.ts', import.meta.url).href)};
    import { parentPort } from 'node:worker_threads';
    const s = DatagramSocket.open(2, 2, 0).bind({ family: 4, address: '127.0.0.1', port: 0 });
    s.onMessage(() => {});
    parentPort.postMessage('polling');
  `;
  const main = `
    import { Worker } from 'node:worker_threads';
    const w = new Worker(${JSON.stringify(worker)}, { eval: true });
    w.on('message', async () => { await w.terminate(); console.log('terminated'); });
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', main], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.signal, null, `crashed: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'terminated');
});
