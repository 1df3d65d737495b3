// The netlink layer against this host's real kernel: generic netlink (nlctrl) and rtnetlink reads. Nothing here
// changes the host's configuration (the one write is refused by the kernel by design).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { string } from '../../src/netlink/attributes.ts';
import { NetlinkError } from '../../src/netlink/errors.ts';
import { CTRL_ATTR_FAMILY_NAME, CTRL_CMD_GETFAMILY, decodeGenl, GENL_ID_CTRL, genlRequest, resolveFamily } from '../../src/netlink/genl.ts';
import { addAddress, listAddresses, listLinks } from '../../src/netlink/rtnetlink.ts';
import { NLMSG_NOOP } from '../../src/netlink/message.ts';
import { NetlinkSocket } from '../../src/netlink/socket.ts';
import { NETLINK_GENERIC, NETLINK_ROUTE } from '../../src/sys/constants.ts';

const CTRL = { id: GENL_ID_CTRL, version: 1 };
const getFamily = (name: string) => genlRequest(CTRL, CTRL_CMD_GETFAMILY, [string(CTRL_ATTR_FAMILY_NAME, name)], { what: `get ${name}` });

function genl(t: { after: (fn: () => void) => void }, opts = {}): NetlinkSocket {
  const nl = NetlinkSocket.open(NETLINK_GENERIC, opts);
  t.after(() => nl.close());
  return nl;
}

test('resolveFamily finds nlctrl itself with its id, version and multicast group', async (t) => {
  const nl = genl(t);
  assert.ok(nl.portId > 0);
  const f = await resolveFamily(nl, 'nlctrl');
  assert.equal(f.id, GENL_ID_CTRL);
  assert.equal(f.name, 'nlctrl');
  assert.ok(f.version >= 1);
  assert.equal(f.mcastGroups.get('notify'), GENL_ID_CTRL);
});

test('a family the kernel lacks rejects with the typed FAMILY_NOT_FOUND error', async (t) => {
  const nl = genl(t);
  await assert.rejects(resolveFamily(nl, 'IPVS-NOT-HERE'), (e: unknown) => {
    assert.ok(e instanceof NetlinkError);
    assert.equal(e.code, 'FAMILY_NOT_FOUND');
    assert.equal(e.errno, 2);
    assert.match(e.message, /"IPVS-NOT-HERE" is not available/);
    return true;
  });
});

test('kernel refusals carry errno names: EOPNOTSUPP for an unknown command, EINVAL for a bad request', async (t) => {
  const nl = genl(t);
  await assert.rejects(nl.request(genlRequest(CTRL, 1, [])), (e: unknown) => e instanceof NetlinkError && e.code === 'EOPNOTSUPP' && e.errno === 95);
  await assert.rejects(nl.request(genlRequest(CTRL, CTRL_CMD_GETFAMILY, [])), (e: unknown) => e instanceof NetlinkError && e.code === 'EINVAL');
});

test('a dump returns every family in a multi-part reply', async (t) => {
  const nl = genl(t);
  const parts = await nl.dump(genlRequest(CTRL, CTRL_CMD_GETFAMILY, []));
  const names = parts.map((m) => decodeGenl(m).attrs.string(CTRL_ATTR_FAMILY_NAME));
  assert.ok(names.includes('nlctrl'));
  assert.ok(parts.length >= 2);
});

test('concurrent dumps on one socket are queued, not refused EBUSY; requests interleave', async (t) => {
  const nl = genl(t);
  const dump = () => nl.dump(genlRequest(CTRL, CTRL_CMD_GETFAMILY, []));
  const [a, b, one, c] = await Promise.all([dump(), dump(), nl.request(getFamily('nlctrl')), dump()]);
  assert.equal(a.length, b.length);
  assert.equal(b.length, c.length);
  assert.equal(one.length, 1);
});

test('dumpEach: many dumps read as they are sent, each row with its request\'s index', async (t) => {
  const nl = genl(t);
  const one = await nl.dump(genlRequest(CTRL, CTRL_CMD_GETFAMILY, []));
  const counts = [0, 0, 0, 0, 0];
  await nl.dumpEach(counts.map(() => genlRequest(CTRL, CTRL_CMD_GETFAMILY, [])), (i) => counts[i]!++);
  assert.deepEqual(counts, counts.map(() => one.length));
  await assert.rejects(nl.dumpEach([genlRequest(CTRL, 1, [])], () => {}), (e: unknown) => e instanceof NetlinkError && e.code === 'EOPNOTSUPP');
});

test('batch: many requests pipelined beyond the window, each settled by its own ACK', async (t) => {
  const nl = genl(t, { window: 8 });
  const names = Array.from({ length: 300 }, (_, i) => (i % 7 === 3 ? `missing-${i}` : 'nlctrl'));
  const results = await Promise.allSettled(nl.batch(names.map(getFamily)));
  results.forEach((r, i) => {
    if (names[i]!.startsWith('missing')) {
      assert.equal(r.status, 'rejected');
      assert.equal((r as PromiseRejectedResult).reason.code, 'ENOENT');
      assert.match((r as PromiseRejectedResult).reason.message, new RegExp(`^get missing-${i} failed`));
    } else {
      assert.equal(r.status, 'fulfilled');
      const [m] = (r as PromiseFulfilledResult<Awaited<ReturnType<NetlinkSocket['request']>>>).value;
      assert.equal(decodeGenl(m!).attrs.string(CTRL_ATTR_FAMILY_NAME), 'nlctrl');
    }
  });
});

test('close() rejects what is in flight with CLOSED, and later calls reject at once', async () => {
  const nl = NetlinkSocket.open(NETLINK_GENERIC);
  const pending = nl.batch(Array.from({ length: 5 }, () => getFamily('nlctrl')));
  nl.close();
  for (const p of pending) await assert.rejects(p, (e: unknown) => e instanceof NetlinkError && e.code === 'CLOSED');
  await assert.rejects(nl.request(getFamily('nlctrl')), (e: unknown) => e instanceof NetlinkError && e.code === 'CLOSED');
});

test('rtnetlink reads: links with names and states, addresses with prefixes', async (t) => {
  const nl = NetlinkSocket.open(NETLINK_ROUTE);
  t.after(() => nl.close());
  const links = await listLinks(nl);
  const lo = links.find((l) => l.name === 'lo');
  assert.ok(lo, 'lo is listed');
  assert.equal(lo.index, 1);
  assert.equal(lo.up, true);
  const addrs = await listAddresses(nl, { ifindex: lo.index, family: 4 });
  assert.ok(addrs.some((a) => a.address === '127.0.0.1' && a.prefixLength === 8 && a.label === 'lo'));
});

test('a real failing request surfaces the kernel extended-ACK text', async (t) => {
  const nl = NetlinkSocket.open(NETLINK_ROUTE);
  t.after(() => nl.close());
  try {
    await addAddress(nl, { address: '192.0.2.200', prefixLength: 24, ifindex: 0x7ffffff0 });
    assert.fail('adding to a missing interface must fail');
  } catch (e) {
    assert.ok(e instanceof NetlinkError);
    if (e.code === 'EPERM') return t.skip('needs CAP_NET_ADMIN');
    assert.equal(e.code, 'ENODEV');
    assert.match(e.extack ?? '', /Device not found/);
    assert.match(e.message, /^add address 192\.0\.2\.200\/24 failed: .*Device not found \(ENODEV\)$/);
  }
});

test('an idle NetlinkSocket does not keep the process alive', () => {
  const src = `
    import { NetlinkSocket } from ${JSON.stringify(new URL('../../src/netlink/socket.ts', import.meta.url).href)};
    import { resolveFamily } from ${JSON.stringify(new URL('../../src/netlink/genl.ts', import.meta.url).href)};
    const nl = NetlinkSocket.open(16);
    console.log((await resolveFamily(nl, 'nlctrl')).id);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', src], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.error, undefined, 'the child must exit on its own');
  assert.equal(r.stdout.trim(), '16', r.stderr);
});


test('a receive-queue overflow (ENOBUFS) rejects what was in flight with OVERRUN and the socket recovers', async (t) => {
  // A tiny queue and a window far beyond it make the kernel drop ACKs, as an oversized batch would.
  const nl = genl(t, { receiveQueueBytes: 4096, window: 2000 });
  const noop = { type: NLMSG_NOOP, payload: new Uint8Array(0) };
  const results = await Promise.allSettled(nl.batch(Array.from({ length: 2000 }, () => noop)));
  const reasons = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
  assert.ok(reasons.length > 0, 'some ACKs were lost');
  assert.ok(reasons.every((e) => e instanceof NetlinkError && e.code === 'OVERRUN'));
  assert.equal((await nl.request(noop)).length, 0, 'the next request works');
});
