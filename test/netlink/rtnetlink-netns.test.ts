// rtnetlink writes and events for real, in a network namespace this test creates and always removes: a child
// Node process runs test/netlink/netns-child.ts under `ip netns exec` against a veth inside it.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'node:test';

const ns = `ipvsts-nl-${process.pid}`;

function canMakeNamespaces(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for ip netns';
  const r = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `ip netns unavailable: ${r.error?.message ?? r.stderr.trim()}`;
  return undefined;
}

test('in a namespace: add/list/delete IPv4+IPv6 addresses on a veth and receive the address and link events', (t) => {
  const why = canMakeNamespaces();
  if (why) return t.skip(why);
  try {
    const ip = (...args: string[]) => execFileSync('ip', ['-n', ns, ...args], { stdio: 'pipe' });
    ip('link', 'add', 'nlt0', 'type', 'veth', 'peer', 'name', 'nlt1');
    ip('link', 'set', 'nlt1', 'up');
    ip('link', 'set', 'nlt0', 'up');
    const child = new URL('./netns-child.ts', import.meta.url).pathname;
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, child, 'nlt0'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `child failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.link, { name: 'nlt0', up: true, operState: out.link.operState });
    assert.equal(out.add4, 'ok');
    assert.equal(out.add6, 'ok');
    assert.match(out.add4again, /^EEXIST:.*Address already assigned/, 'NLM_F_EXCL makes a duplicate add distinguishable, with extack text');
    assert.deepEqual(
      [...out.listed].sort((a: { family: number }, b: { family: number }) => a.family - b.family),
      [
        { family: 4, address: '10.99.0.1', prefixLength: 24, label: 'nlt0:vip', broadcast: '10.99.0.255' },
        { family: 6, address: 'fd00:99::1', prefixLength: 64 },
      ],
    );
    assert.equal(out.del4, 'ok');
    assert.equal(out.del6, 'ok');
    assert.match(out.del4again, /^EADDRNOTAVAIL/);
    assert.equal(out.after, 0);
    for (const e of ['newaddr 10.99.0.1/24', 'newaddr fd00:99::1/64', 'deladdr 10.99.0.1/24', 'deladdr fd00:99::1/64']) {
      assert.ok(out.events.includes(e), `event ${e} in ${out.events}`);
    }
    assert.equal(out.linkDown, true);
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
});
