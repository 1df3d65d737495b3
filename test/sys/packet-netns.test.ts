// AF_PACKET for real (gratuitous ARP, as VRRP sends it): in a namespace this test creates and always removes,
// a child Node process sends an ARP frame on one end of a veth pair and receives it at the other.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'node:test';

const ns = `ipvsts-pkt-${process.pid}`;

test('AF_PACKET: a gratuitous ARP crosses a veth pair with sockaddr_ll decoded (ethertype, ifindex, broadcast, MAC)', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root for ip netns');
  const made = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  if (made.error || made.status !== 0) return t.skip(`ip netns unavailable: ${made.error?.message ?? made.stderr.trim()}`);
  try {
    const ip = (...args: string[]) => execFileSync('ip', ['-n', ns, ...args], { stdio: 'pipe' });
    ip('link', 'add', 'pkt0', 'address', '02:00:00:00:00:01', 'type', 'veth', 'peer', 'name', 'pkt1');
    ip('link', 'set', 'pkt0', 'up');
    ip('link', 'set', 'pkt1', 'up');
    const pkt1 = JSON.parse(execFileSync('ip', ['-n', ns, '-j', 'link', 'show', 'pkt1'], { encoding: 'utf8' }))[0] as { ifindex: number };
    const child = new URL('./packet-child.ts', import.meta.url).pathname;
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, child, 'pkt0', 'pkt1'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `child failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout);
    assert.equal(out.data, '0001080006040001020000000001' + '0a090909' + '000000000000' + '0a090909');
    assert.deepEqual(out.from, { family: 'packet', protocol: 0x0806, ifindex: pkt1.ifindex, hatype: 1, pkttype: 1, addr: '020000000001' });
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
});
