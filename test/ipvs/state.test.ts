import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadState, saveState, saveStateAsync } from '../../src/ipvs/state.ts';
import type { IpvsTable } from '../../src/ipvs/types.ts';

const FLAGS = { persistent: false, onePacket: false, shFallback: false, shPort: false, schedFlag3: false };
const applied: IpvsTable = {
  services: [{ service: { id: { kind: 'fwmark', family: 4, mark: 1 }, scheduler: 'rr', flags: FLAGS, timeoutS: 0, netmask: '255.255.255.255' }, destinations: [] }],
};

test('state: missing file = nothing owned; save/load round trip, sync and async; the version-1 layout still loads', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'ipvs-state-')), 'sub', 'state.json');
  assert.equal(loadState(path).owned.size, 0);
  saveState(path, ['TCP 10.0.0.1:80', 'FWM 1 IPv4']);
  assert.deepEqual([...loadState(path).owned], ['FWM 1 IPv4', 'TCP 10.0.0.1:80']);
  await saveStateAsync(path, ['UDP 10.0.0.2:53']);
  assert.deepEqual([...loadState(path).owned], ['UDP 10.0.0.2:53']);
  // A file written before the keys-only layout still loads.
  writeFileSync(path, JSON.stringify({ version: 1, applied, owned: ['FWM 1 IPv4'] }));
  assert.deepEqual([...loadState(path).owned], ['FWM 1 IPv4']);
});

test('state: a damaged file is a clear IPVS_STATE error', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'ipvs-state-')), 'state.json');
  writeFileSync(path, '{"version":1,');
  assert.throws(() => loadState(path), { code: 'IPVS_STATE', message: /damaged .* remove it to start over/ });
});
