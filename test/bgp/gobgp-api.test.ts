// The GoBGP backend's requests, serialised with the vendored GoBGP v3.10 protos and decoded again: protobufjs drops
// fields it does not know without a word, so a misspelt field would vanish here, and an Any that did not pack
// would come back empty.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addPathRequest, addPeerRequest, deletePathRequest, importLocalOnlyRequests, peerStates, roundTrip, startBgpRequest,
} from '../../src/bgp/gobgp-api.ts';

const T = 'type.googleapis.com/apipb.';

test('AddPath: an IPv4 VIP with origin IGP, an unspecified next hop and the MED', () => {
  assert.deepEqual(roundTrip('AddPath', addPathRequest('192.0.2.10/32', { med: 20 })), {
    table_type: 'GLOBAL',
    path: {
      family: { afi: 'AFI_IP', safi: 'SAFI_UNICAST' },
      nlri: { '@type': `${T}IPAddressPrefix`, prefix: '192.0.2.10', prefix_len: 32 },
      pattrs: [
        { '@type': `${T}OriginAttribute`, origin: 0 },
        { '@type': `${T}NextHopAttribute`, next_hop: '0.0.0.0' },
        { '@type': `${T}MultiExitDiscAttribute`, med: 20 },
      ],
    },
  });
});

test('AddPath: an IPv6 VIP carries its next hop in MP_REACH_NLRI; no MED without one', () => {
  const nlri = { '@type': `${T}IPAddressPrefix`, prefix: '2001:db8::10', prefix_len: 128 };
  const family = { afi: 'AFI_IP6', safi: 'SAFI_UNICAST' };
  assert.deepEqual(roundTrip('AddPath', addPathRequest('2001:db8::10/128')), {
    table_type: 'GLOBAL',
    path: { family, nlri, pattrs: [{ '@type': `${T}OriginAttribute`, origin: 0 }, { '@type': `${T}MpReachNLRIAttribute`, family, next_hops: ['::'], nlris: [nlri] }] },
  });
});

test('DeletePath always names the path and its family (without them gobgpd deletes every path)', () => {
  const d = roundTrip('DeletePath', deletePathRequest('192.0.2.10/32')) as { family: unknown; path: { nlri: unknown } };
  assert.deepEqual(d.family, { afi: 'AFI_IP', safi: 'SAFI_UNICAST' });
  assert.deepEqual(d.path.nlri, { '@type': `${T}IPAddressPrefix`, prefix: '192.0.2.10', prefix_len: 32 });
});

test('AddPeer: AS numbers, timers, transport, multihop and one address family', () => {
  const pos = { file: 'k.conf', line: 1, col: 1 };
  const v4 = { address: '10.0.0.1', family: 4 as const, remoteAs: 65000, holdS: 9, port: 1179, passive: true, source: '10.0.0.2', multihop: 2, pos };
  assert.deepEqual(roundTrip('AddPeer', addPeerRequest(v4, 4200000001)), {
    peer: {
      conf: { neighbor_address: '10.0.0.1', peer_asn: 65000, local_asn: 4200000001 },
      timers: { config: { hold_time: 9, keepalive_interval: 3, connect_retry: 5, idle_hold_time_after_reset: 5 } },
      transport: { local_address: '10.0.0.2', remote_port: 1179, passive_mode: true },
      ebgp_multihop: { enabled: true, multihop_ttl: 2 },
      afi_safis: [{ config: { family: { afi: 'AFI_IP', safi: 'SAFI_UNICAST' }, enabled: true } }],
    },
  });
  const v6 = roundTrip('AddPeer', addPeerRequest({ address: 'fd00::1', family: 6, remoteAs: 65001, holdS: 90, port: 179, passive: false }, 65001)) as {
    peer: { transport: unknown; ebgp_multihop?: unknown; afi_safis: unknown };
  };
  assert.deepEqual(v6.peer.transport, { remote_port: 179, passive_mode: false });
  assert.equal(v6.peer.ebgp_multihop, undefined);
  assert.deepEqual(v6.peer.afi_safis, [{ config: { family: { afi: 'AFI_IP6', safi: 'SAFI_UNICAST' }, enabled: true } }]);
});

test('StartBgp and the import policy that keeps only the paths added over the API', () => {
  assert.deepEqual(roundTrip('StartBgp', startBgpRequest({ routerId: '10.0.0.2', localAs: 65001, neighbors: [] })), {
    global: { asn: 65001, router_id: '10.0.0.2', listen_port: 179 },
  });
  const { policy, assignment } = importLocalOnlyRequests();
  assert.deepEqual(roundTrip('AddPolicy', policy), {
    policy: { name: 'ipvs-ts-local-only', statements: [{ name: 'ipvs-ts-local-only-accept', conditions: { route_type: 'ROUTE_TYPE_LOCAL' }, actions: { route_action: 'ACCEPT' } }] },
  });
  assert.deepEqual(roundTrip('SetPolicyAssignment', assignment), {
    assignment: { name: 'global', direction: 'IMPORT', policies: [{ name: 'ipvs-ts-local-only' }], default_action: 'REJECT' },
  });
});

test('ListPeer replies: GoBGP state names to the announcer\'s, an absent state is Idle, admin down is said', () => {
  const s = peerStates([
    { peer: { conf: { neighbor_address: '10.0.0.1' }, state: { neighbor_address: '10.0.0.1', session_state: 'ESTABLISHED' } } },
    { peer: { conf: { neighbor_address: 'fd00::1' }, state: { session_state: 'OPENSENT' } } },
    { peer: { conf: { neighbor_address: '10.0.0.3' }, state: {} } },
    { peer: { conf: { neighbor_address: '10.0.0.4' }, state: { session_state: 'IDLE', admin_state: 'DOWN' } } },
    { peer: {} },
  ]);
  assert.deepEqual([...s], [
    ['10.0.0.1', { state: 'Established' }],
    ['fd00::1', { state: 'OpenSent' }],
    ['10.0.0.3', { state: 'Idle' }],
    ['10.0.0.4', { state: 'Idle', info: 'admin state DOWN' }],
  ]);
});
