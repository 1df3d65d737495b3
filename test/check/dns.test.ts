// DNS_CHECK against a real DNS server process (Debian's dnsmasq, started here on a loopback port), against closed
// and silent ports, and against a scripted server for what keepalived's check_dns.c skips or refuses.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import dnsPacket from 'dns-packet';
import { checkDns } from '../../src/check/dns.ts';
import { dnsCheck } from './model.ts';
import { freePort, startProcess } from './processes.ts';

const never = new AbortController().signal;
const DNSMASQ = '/usr/sbin/dnsmasq';

/** dnsmasq on 127.0.0.1 and ::1 with a few local records and no upstream; resolves to its port. */
async function dnsmasq(t: TestContext): Promise<number> {
  assert.ok(existsSync(DNSMASQ), `${DNSMASQ} is missing: install Debian's dnsmasq-base (.ci/run does)`);
  // dnsmasq binds the port over UDP and TCP, on both addresses; freePort vouches for one of the four, and the
  // tests running beside this one hold ports of their own: another port when one of the others is taken.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort('udp');
    try {
      await startProcess(t, DNSMASQ, [
        '--no-daemon', '--conf-file=/dev/null', `--port=${port}`, '--listen-address=127.0.0.1', '--listen-address=::1', '--bind-interfaces',
        '--no-resolv', '--no-hosts', '--user=root', '--pid-file=', '--log-facility=-',
        '--address=/example.test/10.1.2.3', '--address=/nx.test/', '--txt-record=example.test,hello', '--mx-host=example.test,mail.example.test',
        '--local=/local.test/', '--host-record=h.local.test,10.1.2.4',
      ], (out) => out.includes('started')); // printed once its sockets are bound: queries queue there until it reads them
      return port;
    } catch (err) {
      if (attempt === 5 || !String(err).includes('Address already in use')) throw err;
    }
  }
}

test('DNS_CHECK passes on a NOERROR answer from dnsmasq, over IPv4 and IPv6, for A, TXT and MX', async (t) => {
  const port = await dnsmasq(t);
  for (const [connectIp, queryType] of [['127.0.0.1', 'A'], ['::1', 'A'], ['127.0.0.1', 'TXT'], ['::1', 'MX']] as const) {
    const r = await checkDns(dnsCheck({ connectIp, connectPort: port, queryType, name: 'example.test' }), never);
    assert.equal(r.ok, true, `${connectIp} ${queryType}: ${r.reason}`);
    assert.equal(r.reason, `${queryType} example.test: NOERROR, 1 answer`);
  }
});

test('DNS_CHECK: NXDOMAIN and REFUSED fail with DNS_RCODE; an empty NOERROR passes, as in keepalived', async (t) => {
  const port = await dnsmasq(t);
  const nx = await checkDns(dnsCheck({ connectPort: port, queryType: 'A', name: 'nx.test' }), never);
  assert.deepEqual([nx.code, nx.reason], ['DNS_RCODE', 'A nx.test: response code NXDOMAIN']);
  // The default query (SOA for the root) is refused by a server with no upstream and no root zone.
  const refused = await checkDns(dnsCheck({ connectPort: port }), never);
  assert.deepEqual([refused.code, refused.reason], ['DNS_RCODE', 'SOA .: response code REFUSED']);
  const nodata = await checkDns(dnsCheck({ connectPort: port, queryType: 'AAAA', name: 'h.local.test' }), never);
  assert.equal(nodata.ok, true, nodata.reason);
  assert.equal(nodata.reason, 'AAAA h.local.test: NOERROR, 0 answers');
});

test('DNS_CHECK fails with CONNECT_REFUSED on a closed port and DNS_TIMEOUT on a silent one', async (t) => {
  const closed = await checkDns(dnsCheck({ connectPort: await freePort('udp'), connectTimeoutMs: 3000 }), never);
  assert.equal(closed.code, 'CONNECT_REFUSED', closed.reason);
  const silent = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  t.after(() => silent.close());
  const r = await checkDns(dnsCheck({ connectPort: silent.address().port, connectTimeoutMs: 300 }), never);
  assert.deepEqual([r.code, r.reason], ['DNS_TIMEOUT', 'no response to SOA . within 300 ms']);
});

/** A server that answers each query with the datagrams `answers(query)` builds, in order. */
async function scripted(t: TestContext, answers: (query: dnsPacket.Packet & { id: number }) => Buffer[]): Promise<number> {
  const server = dgram.createSocket('udp4');
  server.on('message', (data, from) => {
    const query = dnsPacket.decode(data) as dnsPacket.Packet & { id: number };
    for (const out of answers(query)) server.send(out, from.port, from.address);
  });
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  return server.address().port;
}

test('DNS_CHECK sends one recursive IN query and skips replies with another id or without QR, as keepalived', async (t) => {
  let seen: dnsPacket.Packet | undefined;
  const port = await scripted(t, (q) => {
    seen = q;
    const response = (id: number, flags: number) => dnsPacket.encode({ type: 'response', id, flags, questions: q.questions ?? [] });
    return [response((q.id + 1) & 0xffff, dnsPacket.RECURSION_DESIRED), dnsPacket.encode({ ...q, type: 'query' }), response(q.id, dnsPacket.RECURSION_DESIRED)];
  });
  const r = await checkDns(dnsCheck({ connectPort: port, queryType: 'MX', name: 'example.test' }), never);
  assert.equal(r.ok, true, r.reason);
  assert.equal(r.reason, 'MX example.test: NOERROR, 0 answers');
  assert.deepEqual(seen?.questions, [{ name: 'example.test', type: 'MX', class: 'IN' }]);
  assert.equal((seen?.flags ?? 0) & dnsPacket.RECURSION_DESIRED, dnsPacket.RECURSION_DESIRED);
});

test('DNS_CHECK fails with DNS_BAD_REPLY on a response that does not decode', async (t) => {
  const port = await scripted(t, (q) => {
    const header = Buffer.alloc(12);
    header.writeUInt16BE(q.id, 0);
    header.writeUInt16BE(0x8180, 2);
    header.writeUInt16BE(1, 4); // one question that is not there
    return [header];
  });
  const r = await checkDns(dnsCheck({ connectPort: port }), never);
  assert.equal(r.code, 'DNS_BAD_REPLY', r.reason);
});
