// The nft driver's errors: a host without nft gets one clear, stable code; a refused script says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nft } from '../../src/vrrp/nft.ts';
import { haveCommand } from './lab.ts';

test('without the nft command: VRRP_NFT_MISSING, naming the package', async (t) => {
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent';
  t.after(() => (process.env.PATH = path));
  await assert.rejects(nft('list tables'), (e: Error & { code?: string }) => e.code === 'VRRP_NFT_MISSING' && /install nftables/.test(e.message));
});

test('a script nft refuses: VRRP_NFT with its first line (nothing is applied: a syntax error fails before netlink)', { skip: haveCommand('nft') ? undefined : 'needs nft' }, async () => {
  await assert.rejects(nft('this is not nft\n'), (e: Error & { code?: string }) => e.code === 'VRRP_NFT' && /exit 1.*Error/.test(e.message));
});
