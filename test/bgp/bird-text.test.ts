// BIRD's control-socket replies as BIRD 2.0.12 sent them, and the configuration ipvs-ts writes (which BIRD itself
// must parse: `bird -p`).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { birdConfig, neighborName, staticName } from '../../src/bgp/bird-config.ts';
import { parseSessions, ReplyReader } from '../../src/bgp/bird-reply.ts';
import type { BgpNeighbor } from '../../src/config/model.ts';

const pos = { file: 'k.conf', line: 1, col: 1 };

test('replies: split at their final line, whatever the chunks; continuation lines keep their code', () => {
  const r = new ReplyReader();
  const text = '0001 BIRD 2.0.12 ready.\n0009-vip4_192_0_2_10: disabled\n0000 \n9001 syntax error, unexpected CF_SYM_UNDEFINED\n';
  const out = [...text].flatMap((c) => r.push(c));
  assert.deepEqual(out.map((x) => x.code), [1, 0, 9001]);
  assert.deepEqual(out[1]?.lines, [{ code: 9, text: 'vip4_192_0_2_10: disabled' }, { code: 0, text: '' }]);
  assert.deepEqual(r.push('+0000 spontaneous\n0002-Reading configuration from /x\n0003 Reconfigured\n').map((x) => x.code), [3]);
});

test('show protocols all: BGP sessions by neighbor, with the state and the last error', () => {
  const reply = new ReplyReader().push([
    '2002-Name       Proto      Table      State  Since         Info',
    '1002-device1    Device     ---        up     03:33:26.023  ',
    ' ',
    '1002-vip4_192_0_2_10 Static master4 up     03:33:29.059  ',
    '1006-  Channel ipv4',
    '     State:          UP',
    ' ',
    '1002-peer4_10_99_0_1 BGP        ---        up     03:33:29.765  Established   ',
    '1006-  BGP state:          Established',
    '     Neighbor address: 10.99.0.1',
    '     Hold timer:       8.264/9',
    ' ',
    '1002-peer6_20010db8000000000000000000000001 BGP ---  start  03:35:00.000  Active        Socket: Connection refused',
    '1006-  BGP state:          Active',
    '     Neighbor address: 2001:db8::1',
    '     Last error:       Socket: Connection refused',
    ' ',
    '1002-peer4_10_99_0_3 BGP        ---        down   03:35:00.000  ',
    '1006-  BGP state:          Down',
    '0000 ',
    '',
  ].join('\n'))[0];
  assert.ok(reply);
  const names = new Map([[neighborName('10.99.0.1'), '10.99.0.1'], [neighborName('2001:db8::1'), '2001:db8::1'], [neighborName('10.99.0.3'), '10.99.0.3']]);
  assert.deepEqual(parseSessions(reply, names), [
    { neighbor: '10.99.0.1', state: 'Established' },
    { neighbor: '2001:db8::1', state: 'Active', info: 'Socket: Connection refused' },
    { neighbor: '10.99.0.3', state: 'Idle' },
  ]);
});

test('names: BIRD symbols, one per address', () => {
  assert.equal(staticName('192.0.2.10/32'), 'vip4_192_0_2_10');
  assert.equal(staticName('2001:db8::1/128'), 'vip6_20010db8000000000000000000000001');
  assert.equal(neighborName('10.0.0.1'), 'peer4_10_0_0_1');
});

test('the configuration: one static protocol per VIP carrying its wanted state, export limited to the VIPs, and BIRD parses it', (t) => {
  const neighbors: BgpNeighbor[] = [
    { address: '10.0.0.1', family: 4, remoteAs: 65000, holdS: 9, port: 179, passive: false, pos },
    { address: '10.0.9.1', family: 4, remoteAs: 65001, holdS: 0, port: 1179, source: '10.0.0.2', multihop: 2, passive: true, pos },
    { address: '2001:db8::1', family: 6, remoteAs: 65000, holdS: 30, port: 179, passive: false, pos },
  ];
  const text = birdConfig({ routerId: '10.0.0.2', localAs: 65001, neighbors }, [
    { prefix: '192.0.2.10/32', attrs: { med: 20 }, enabled: true },
    { prefix: '192.0.2.11/32', attrs: {}, enabled: false },
    { prefix: '2001:db8::10/128', attrs: {}, enabled: true },
  ]);
  assert.match(text, /protocol static vip4_192_0_2_10 \{\n {2}ipv4;\n {2}disabled no;\n {2}route 192\.0\.2\.10\/32 blackhole;\n\}/);
  assert.match(text, /protocol static vip4_192_0_2_11 \{\n {2}ipv4;\n {2}disabled yes;/);
  assert.match(text, /if net = 192\.0\.2\.10\/32 then bgp_med = 20;\n {2}if net ~ \[ 192\.0\.2\.10\/32, 192\.0\.2\.11\/32 \] then accept;\n {2}reject;/);
  assert.match(text, /if net ~ \[ 2001:db8::10\/128 \] then accept;/);
  assert.match(text, /local 10\.0\.0\.2 as 65001;\n {2}neighbor 10\.0\.9\.1 port 1179 as 65001;\n {2}hold time 0;/);
  assert.match(text, /multihop 2;\n {2}passive on;/);
  assert.match(text, /protocol bgp peer6_20010db8000000000000000000000001 \{[^}]*ipv6 \{\n {4}import none;\n {4}export filter ipvs_ts_vips6;/);
  if (spawnSync('bird', ['--version']).error) return t.skip('BIRD 2 is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'ipvsts-birdconf-'));
  try {
    for (const [name, conf] of [['full', text], ['empty', birdConfig({ localAs: 65001, neighbors: neighbors.slice(0, 1) }, [])]] as const) {
      writeFileSync(join(dir, `${name}.conf`), conf);
      const r = spawnSync('bird', ['-p', '-c', join(dir, `${name}.conf`)], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
