// NetlinkSocket's bookkeeping over a scripted transport: window, seq matching, dumps, retries, events, overruns.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { encodeAttrs, string } from '../../src/netlink/attributes.ts';
import { NetlinkError } from '../../src/netlink/errors.ts';
import { NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_MULTI, NLM_F_REQUEST, NLMSGERR_ATTR_MSG } from '../../src/netlink/message.ts';
import { NetlinkSocket } from '../../src/netlink/socket.ts';
import { ack, done, FakeTransport, reply, tick } from './fake-transport.ts';

const req = (n: number) => ({ type: 0x20, payload: Buffer.from([n, 0, 0, 0]), what: `req ${n}` });
const isCode = (code: string) => (e: unknown) => e instanceof NetlinkError && e.code === code;

test('requests carry REQUEST|ACK, their own seq and our port id; replies before the ACK are collected', async () => {
  const t = new FakeTransport();
  const nl = new NetlinkSocket(t);
  const p = nl.request({ ...req(1), flags: 0x600 });
  const [m] = t.sent;
  assert.equal(m!.flags, NLM_F_REQUEST | NLM_F_ACK | 0x600);
  assert.equal(m!.pid, 4242);
  t.deliver([reply(m!.seq, 0x20, 'row'), ack(m!.seq)]);
  const replies = await p;
  assert.deepEqual(replies.map((r) => r.payload.toString()), ['row']);
});

test('the window bounds requests in flight and refills once per wake-up, in one send', async () => {
  const t = new FakeTransport();
  const nl = new NetlinkSocket(t, { window: 3 });
  const all = nl.batch(Array.from({ length: 10 }, (_, i) => req(i)));
  assert.deepEqual(t.sends.map((s) => s.length), [3], 'one send of three');
  const seqs = t.sent.map((m) => m.seq);
  t.deliver([ack(seqs[0]!)]);
  t.deliver([ack(seqs[1]!)]);
  assert.equal(t.sends.length, 1, 'no refill while ACKs are still being read');
  await tick();
  assert.deepEqual(t.sends.map((s) => s.length), [3, 2]);
  for (let round = 0; round < 10 && t.sent.length < 10; round++) {
    t.deliver(t.sends.at(-1)!.map((m) => ack(m.seq)));
    await tick();
  }
  t.deliver(t.sends.at(-1)!.map((m) => ack(m.seq)));
  t.deliver([ack(seqs[2]!)]);
  assert.equal(t.sent.length, 10);
  await Promise.all(all);
});

test('ACKs are matched by seq in any order; failures are per request with the extack text', async () => {
  const t = new FakeTransport();
  const nl = new NetlinkSocket(t);
  const [a, b, c] = nl.batch([req(1), req(2), req(3)]);
  const [s1, s2, s3] = t.sent.map((m) => m.seq);
  t.deliver([ack(s3!), ack(s2!, 17, encodeAttrs([string(NLMSGERR_ATTR_MSG, 'Service already exists')])), ack(s1!)]);
  await a;
  await c;
  await assert.rejects(b!, (e: unknown) => {
    assert.ok(e instanceof NetlinkError);
    assert.equal(e.code, 'EEXIST');
    assert.equal(e.extack, 'Service already exists');
    assert.equal(e.message, 'req 2 failed: Service already exists (EEXIST)');
    assert.equal(e.request?.seq, s2);
    return true;
  });
});

test('dumps collect every part until DONE, and run one at a time', async () => {
  const t = new FakeTransport();
  const nl = new NetlinkSocket(t);
  const d1 = nl.dump(req(1));
  const d2 = nl.dump(req(2));
  const r = nl.request(req(3));
  assert.equal(t.sent.length, 1, 'the second dump waits; the request behind it keeps FIFO order');
  const s1 = t.sent[0]!;
  assert.equal(s1.flags, NLM_F_REQUEST | NLM_F_DUMP);
  t.deliver([reply(s1.seq, 0x20, 'a', NLM_F_MULTI), reply(s1.seq, 0x20, 'b', NLM_F_MULTI)]);
  t.deliver([reply(s1.seq, 0x20, 'c', NLM_F_MULTI), done(s1.seq)]);
  assert.deepEqual((await d1).map((m) => m.payload.toString()), ['a', 'b', 'c']);
  await tick();
  const [s2, s3] = t.sent.slice(1);
  assert.equal(s2!.flags, NLM_F_REQUEST | NLM_F_DUMP);
  t.deliver([ack(s3!.seq), done(s2!.seq)]);
  assert.deepEqual(await d2, []);
  await r;
});

test('a dump error in NLMSG_DONE or an NLMSG_ERROR refusing the dump rejects with its errno', async () => {
  const t = new FakeTransport();
  const nl = new NetlinkSocket(t);
  const d1 = nl.dump(req(1));
  t.deliver([done(t.sent[0]!.seq, 22)]);
  await assert.rejects(d1, isCode('EINVAL'));
  await tick();
  const d2 = nl.dump(req(2));
  t.deliver([ack(t.sent[1]!.seq, 1)]);
  await assert.rejects(d2, isCode('EPERM'));
});

test('NLM_F_DUMP_INTR: the dump is retried with a fresh seq, and rejected after three interrupted attempts', async () => {
  const t = new FakeTransport();
  const nl = new NetlinkSocket(t);
  const d = nl.dump(req(1));
  const first = t.sent[0]!;
  t.deliver([reply(first.seq, 0x20, 'stale', NLM_F_MULTI | NLM_F_DUMP_INTR), done(first.seq)]);
  await tick();
  const second = t.sent[1]!;
  assert.notEqual(second.seq, first.seq);
  t.deliver([reply(second.seq, 0x20, 'fresh', NLM_F_MULTI), done(second.seq)]);
  assert.deepEqual((await d).map((m) => m.payload.toString()), ['fresh']);

  const again = nl.dump(req(2));
  for (let i = 0; i < 3; i++) {
    await tick();
    const s = t.sent.at(-1)!;
    t.deliver([reply(s.seq, 0x20, 'x', NLM_F_MULTI | NLM_F_DUMP_INTR), done(s.seq)]);
  }
  await assert.rejects(again, isCode('DUMP_INTERRUPTED'));
});

test('events: multicast datagrams and seq-0 messages go to the subscriber, even when a seq collides', async () => {
  const t = new FakeTransport();
  const nl = new NetlinkSocket(t);
  const events: string[] = [];
  nl.subscribe([5, 9], (m) => events.push(m.payload.toString()));
  assert.deepEqual([...t.groups], [5, 9]);
  const p = nl.request(req(1));
  const seq = t.sent[0]!.seq;
  t.deliver([reply(seq, 20, 'caused by our request')], 1 << 4);
  t.deliver([reply(0, 20, 'unsolicited')]);
  t.deliver([ack(seq)]);
  assert.deepEqual(await p, []);
  assert.deepEqual(events, ['caused by our request', 'unsolicited']);
  nl.unsubscribe([5]);
  assert.deepEqual([...t.groups], [9]);
});

test('a throwing event listener does not break reply bookkeeping (its error is re-raised as uncaught)', () => {
  // In a child process: the test runner treats any uncaught exception as a failure of its own.
  const src = `
    import { NetlinkSocket } from ${JSON.stringify(new URL('../../src/netlink/socket.ts', import.meta.url).href)};
    import { ack, reply, FakeTransport } from ${JSON.stringify(new URL('./fake-transport.ts', import.meta.url).href)};
    const caught = [];
    process.on('uncaughtException', (e) => caught.push(e.message));
    const t = new FakeTransport();
    const nl = new NetlinkSocket(t);
    nl.subscribe([1], () => { throw new Error('listener bug'); });
    const p = nl.request({ type: 0x20, payload: Buffer.alloc(4) });
    t.deliver([reply(0, 16, 'event'), ack(t.sent[0].seq)]);
    await p;
    setImmediate(() => console.log(JSON.stringify(caught)));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', src], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), ['listener bug']);
});

test('ENOBUFS: surviving ACKs still settle, the rest reject with OVERRUN, dumps carry on, subscribers hear of it', async () => {
  const t = new FakeTransport();
  const nl = new NetlinkSocket(t);
  const overruns: NetlinkError[] = [];
  nl.subscribe([1], () => {}, (e) => overruns.push(e));
  const d = nl.dump(req(0));
  const [a, b, c] = nl.batch([req(1), req(2), req(3)]);
  const [sd, s1, , s3] = t.sent.map((m) => m.seq);
  t.queued = [{ data: Buffer.concat([ack(s1!), ack(s3!)]), groups: 0, truncated: false, size: 0 }];
  t.fail(Object.assign(new Error('recvmsg: ENOBUFS'), { errno: 105, code: 'ENOBUFS', syscall: 'recvmsg' }));
  await a;
  await c;
  await assert.rejects(b!, isCode('OVERRUN'));
  assert.equal(overruns.length, 1);
  t.deliver([reply(sd!, 0x20, 'part', NLM_F_MULTI), done(sd!)]);
  assert.equal((await d).length, 1);
});

test('a truncated datagram grows the buffer and fails what was in flight with TRUNCATED; malformed with MALFORMED', async () => {
  const t = new FakeTransport();
  const nl = new NetlinkSocket(t);
  const p = nl.request(req(1));
  t.deliverRaw({ data: Buffer.alloc(16), groups: 0, truncated: true, size: 100_000 });
  await assert.rejects(p, isCode('TRUNCATED'));
  assert.equal(t.grownTo, 100_000);
  const q = nl.request(req(2));
  const bad = ack(t.sent[1]!.seq);
  bad.writeUInt32LE(9999, 0);
  t.deliver([bad]);
  await assert.rejects(q, isCode('MALFORMED'));
});

test('a failed send rejects that chunk with the errno code; close rejects the rest with CLOSED', async () => {
  const t = new FakeTransport();
  const nl = new NetlinkSocket(t);
  t.sendError = Object.assign(new Error('sendmsg: EMSGSIZE'), { errno: 90, code: 'EMSGSIZE', syscall: 'sendmsg' });
  await assert.rejects(nl.request(req(1)), isCode('EMSGSIZE'));
  t.sendError = undefined;
  const p = nl.request(req(2));
  nl.close();
  assert.equal(t.closed, true);
  await assert.rejects(p, isCode('CLOSED'));
});

test('batchSettled: one promise for the batch, each request\'s error at its index, in as few sends as batch()', async () => {
  const t = new FakeTransport();
  const nl = new NetlinkSocket(t, { window: 2 });
  const all = nl.batchSettled([req(1), req(2), req(3)]);
  assert.deepEqual(t.sends.map((s) => s.length), [2]);
  const [s1, s2] = t.sent.map((m) => m.seq);
  t.deliver([ack(s1!), ack(s2!, 2, encodeAttrs([string(NLMSGERR_ATTR_MSG, 'no such thing')]))]);
  await tick();
  t.deliver([ack(t.sent[2]!.seq)]);
  const errors = await all;
  assert.equal(errors.length, 3);
  assert.equal(errors[0], undefined);
  assert.equal(errors[1]?.code, 'ENOENT');
  assert.equal(errors[1]?.message, 'req 2 failed: no such thing (ENOENT)');
  assert.equal(errors[2], undefined);
  assert.deepEqual(await nl.batchSettled([]), []);
  nl.close();
  assert.deepEqual((await nl.batchSettled([req(4)])).map((e) => e?.code), ['CLOSED']);
});

test('payload writers write in place, zero padding included, even after a longer message used the send buffer', () => {
  const t = new FakeTransport();
  const raw: Buffer[] = [];
  const send = t.send.bind(t);
  t.send = (messages) => {
    raw.push(Buffer.concat(messages));
    send(messages);
  };
  const nl = new NetlinkSocket(t);
  nl.request({ type: 0x20, payload: Buffer.alloc(40, 0xff) }).catch(() => undefined);
  const writer = { length: 5, write: (out: Buffer, at: number) => void out.set([1, 2, 3, 4, 5], at) };
  nl.request({ type: 0x20, payload: writer }).catch(() => undefined);
  assert.equal(t.sent[1]!.payload.toString('hex'), '0102030405');
  assert.equal(raw[1]!.subarray(16).toString('hex'), '0102030405000000');
  nl.close();
});

test('dumpRows decodes each part in place; a throwing decoder fails that dump, which still ends before the next', async () => {
  const t = new FakeTransport();
  const nl = new NetlinkSocket(t);
  const rows = nl.dumpRows(req(1), (buf, start, end) => buf.toString('utf8', start, end));
  const bad = nl.dumpRows(req(2), (buf, start) => {
    if (buf[start] === 0x78) throw new Error('cannot decode x');
    return 1;
  });
  const s1 = t.sent[0]!.seq;
  t.deliver([reply(s1, 0x20, 'a', NLM_F_MULTI), reply(s1, 0x20, 'bc', NLM_F_MULTI)]);
  t.deliver([done(s1)]);
  assert.equal(t.sent.length, 2, 'the next dump goes out as soon as one ends, in the same wake-up');
  assert.deepEqual(await rows, ['a', 'bc']);
  const s2 = t.sent[1]!.seq;
  t.deliver([reply(s2, 0x20, 'x', NLM_F_MULTI), reply(s2, 0x20, 'y', NLM_F_MULTI)]);
  await assert.rejects(bad, /cannot decode x/);
  const third = nl.dump(req(3));
  assert.equal(t.sent.length, 2, 'still waiting for the failed dump to end');
  t.deliver([done(s2)]);
  assert.equal(t.sent.length, 3);
  t.deliver([done(t.sent[2]!.seq)]);
  assert.deepEqual(await third, []);
});

test('dumpEach reads each dump as it is sent, falls back to waiting when nothing is queued, and reports failures after all ended', async () => {
  const t = new FakeTransport();
  const nl = new NetlinkSocket(t);
  // Seqs 1, 2, 3 in order: the replies the kernel would have queued inside each send.
  t.queued = [
    { data: Buffer.concat([reply(1, 0x20, 'a', NLM_F_MULTI), reply(1, 0x20, 'b', NLM_F_MULTI)]), groups: 0, truncated: false, size: 0 },
    { data: done(1), groups: 0, truncated: false, size: 0 },
    { data: Buffer.concat([reply(2, 0x20, 'x', NLM_F_MULTI), done(2, 22)]), groups: 0, truncated: false, size: 0 },
  ];
  const rows: string[] = [];
  const all = nl.dumpEach([req(1), req(2), req(3)], (i, buf, start, end) => rows.push(`${i}:${buf.toString('utf8', start, end)}`));
  assert.equal(t.sent.length, 3, 'every dump sent and read within the call, the third still waiting for its parts');
  assert.deepEqual(rows, ['0:a', '0:b', '1:x']);
  t.deliver([reply(3, 0x20, 'z', NLM_F_MULTI), done(3)]);
  await assert.rejects(all, (e: unknown) => isCode('EINVAL')(e) && /req 2/.test((e as Error).message));
  assert.deepEqual(rows, ['0:a', '0:b', '1:x', '2:z']);
});
