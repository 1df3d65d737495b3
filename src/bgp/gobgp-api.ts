// GoBGP's gRPC API (v3, the .proto files vendored under vendor/gobgp/api): the requests the GoBGP backend sends,
// built as plain objects (attributes and prefixes are google.protobuf.Any, written `{ '@type': …, …fields }`,
// which protobufjs packs), and a small client that makes the calls with a deadline each.
import type { Client, MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { RouteAttrs, SessionStateName } from './announcer.ts';
import { BgpError } from './errors.ts';

const PROTO_DIR = fileURLToPath(new URL('../../vendor/gobgp/api/', import.meta.url));

// grpc-js (65 modules) and the .proto parse (0.4 s on the host, many times that under TCG) only when GoBGP is used:
// every daemon imports this module, few run gobgpd.
const require = createRequire(import.meta.url);
const grpc = (): typeof import('@grpc/grpc-js') => require('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
let service: ServiceDefinition | undefined;

function gobgpService(): ServiceDefinition {
  const { loadSync } = require('@grpc/proto-loader') as typeof import('@grpc/proto-loader');
  // attribute.proto is imported by nothing in gobgp.proto but holds every Any payload: all three must be loaded.
  const definition = loadSync(['gobgp.proto', 'attribute.proto', 'capability.proto'], {
    includeDirs: [PROTO_DIR], keepCase: true, enums: String, longs: Number, defaults: false, json: true,
  });
  return definition['apipb.GobgpApi'] as ServiceDefinition;
}

export interface GobgpNeighbor {
  readonly address: string;
  readonly family: 4 | 6;
  readonly remoteAs: number;
  readonly holdS: number;
  readonly port: number;
  readonly source?: string;
  readonly multihop?: number;
  readonly passive: boolean;
}

export interface GobgpSettings {
  readonly routerId: string;
  readonly localAs: number;
  readonly neighbors: readonly GobgpNeighbor[];
}

const TYPE = 'type.googleapis.com/apipb.';
/** A restarted gobgpd or a rebooted router is retried every 5 s (GoBGP's floor), not after GoBGP's 120 s and 30 s. */
const CONNECT_RETRY_S = 5;
const IDLE_HOLD_AFTER_RESET_S = 5;

const familyOf = (v: 4 | 6) => ({ afi: v === 4 ? 'AFI_IP' : 'AFI_IP6', safi: 'SAFI_UNICAST' });

export function startBgpRequest(s: GobgpSettings): object {
  // listen_port 179: neighbors marked passive on the router side, and routers that connect first, reach us.
  return { global: { asn: s.localAs, router_id: s.routerId, listen_port: 179 } };
}

const LOCAL_ONLY = 'ipvs-ts-local-only';

/**
 * Nothing learned from the routers enters GoBGP's table, so only the VIPs are ever sent (BIRD's `import none`).
 * GoBGP runs the global import policy on the paths added over the API too: those (route type local) are accepted
 * by a statement, everything else meets the default, reject. Two calls: the policy, then its assignment.
 */
export function importLocalOnlyRequests(): { readonly policy: object; readonly assignment: object } {
  return {
    policy: { policy: { name: LOCAL_ONLY, statements: [{ name: `${LOCAL_ONLY}-accept`, conditions: { route_type: 'ROUTE_TYPE_LOCAL' }, actions: { route_action: 'ACCEPT' } }] } },
    assignment: { assignment: { name: 'global', direction: 'IMPORT', policies: [{ name: LOCAL_ONLY }], default_action: 'REJECT' } },
  };
}

/** One session, one address family (IPv4 VIPs to IPv4 neighbors, IPv6 to IPv6), as the BIRD backend does. */
export function addPeerRequest(n: GobgpNeighbor, localAs: number): object {
  return {
    peer: {
      conf: { neighbor_address: n.address, peer_asn: n.remoteAs, local_asn: localAs },
      timers: { config: { hold_time: n.holdS, keepalive_interval: Math.floor(n.holdS / 3), connect_retry: CONNECT_RETRY_S, idle_hold_time_after_reset: IDLE_HOLD_AFTER_RESET_S } },
      transport: { remote_port: n.port, passive_mode: n.passive, ...(n.source !== undefined ? { local_address: n.source } : {}) },
      ...(n.multihop !== undefined ? { ebgp_multihop: { enabled: true, multihop_ttl: n.multihop } } : {}),
      afi_safis: [{ config: { family: familyOf(n.family), enabled: true } }],
    },
  };
}

/**
 * The VIP as a GoBGP path: origin IGP, an unspecified next hop (GoBGP sends its session address, "next hop
 * self"), the MED when set. IPv6 carries its next hop in MP_REACH_NLRI.
 */
export function vipPath(prefix: string, attrs: RouteAttrs = {}): { readonly family: object; readonly path: object } {
  const [address = '', len = ''] = prefix.split('/');
  const v6 = address.includes(':');
  const family = familyOf(v6 ? 6 : 4);
  const nlri = { '@type': `${TYPE}IPAddressPrefix`, prefix: address, prefix_len: Number(len) };
  const nextHop = v6
    ? { '@type': `${TYPE}MpReachNLRIAttribute`, family, next_hops: ['::'], nlris: [nlri] }
    : { '@type': `${TYPE}NextHopAttribute`, next_hop: '0.0.0.0' };
  const pattrs = [{ '@type': `${TYPE}OriginAttribute`, origin: 0 }, nextHop, ...(attrs.med !== undefined ? [{ '@type': `${TYPE}MultiExitDiscAttribute`, med: attrs.med }] : [])];
  return { family, path: { family, nlri, pattrs } };
}

export function addPathRequest(prefix: string, attrs?: RouteAttrs): object {
  return { table_type: 'GLOBAL', path: vipPath(prefix, attrs).path };
}

/** Always names the path: a DeletePath with neither path nor uuid deletes every path ipvs-ts added. */
export function deletePathRequest(prefix: string): object {
  const { family, path } = vipPath(prefix);
  return { table_type: 'GLOBAL', family, path };
}

const STATES: Readonly<Record<string, SessionStateName>> = {
  UNKNOWN: 'Idle', IDLE: 'Idle', CONNECT: 'Connect', ACTIVE: 'Active', OPENSENT: 'OpenSent', OPENCONFIRM: 'OpenConfirm', ESTABLISHED: 'Established',
};

export interface PeerReply {
  readonly peer?: { readonly conf?: { readonly neighbor_address?: string }; readonly state?: { readonly neighbor_address?: string; readonly session_state?: string; readonly admin_state?: string } };
}

/** ListPeer's replies as the announcer's session states; an absent state is proto3's default, UNKNOWN. */
export function peerStates(replies: readonly PeerReply[]): Map<string, { state: SessionStateName; info?: string }> {
  const out = new Map<string, { state: SessionStateName; info?: string }>();
  for (const r of replies) {
    const address = r.peer?.state?.neighbor_address ?? r.peer?.conf?.neighbor_address;
    if (!address) continue;
    const admin = r.peer?.state?.admin_state;
    out.set(address, { state: STATES[r.peer?.state?.session_state ?? 'UNKNOWN'] ?? 'Idle', ...(admin && admin !== 'UP' ? { info: `admin state ${admin}` } : {}) });
  }
  return out;
}

/** Serialises a request as the client would (tests: what gobgpd receives, decoded again). */
export function roundTrip(method: string, request: object): unknown {
  const m = methodOf(method);
  return m.requestDeserialize(m.requestSerialize(request));
}

function methodOf(method: string): MethodDefinition<object, unknown> {
  const m = (service ??= gobgpService())[method] as MethodDefinition<object, unknown> | undefined;
  if (!m) throw new Error(`GoBGP API has no method ${method}`);
  return m;
}

/** `unix:///…` or `ipv4:127.0.0.1:PORT`. */
export class GobgpClient {
  readonly #client: Client;
  readonly #timeoutMs: number;

  constructor(target: string, timeoutMs = 5000) {
    const { Client, credentials } = grpc();
    this.#client = new Client(target, credentials.createInsecure());
    this.#timeoutMs = timeoutMs;
  }

  /** Resolves once the channel is connected (gobgpd listens), rejects at the deadline. */
  ready(deadline: number): Promise<void> {
    return new Promise((resolve, reject) => this.#client.waitForReady(deadline, (err) => (err ? reject(err) : resolve())));
  }

  call(method: string, request: object): Promise<unknown> {
    const m = methodOf(method);
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, request, { deadline: Date.now() + this.#timeoutMs }, (err, reply) => {
        if (err) reject(new BgpError('BGP_COMMAND', `GoBGP ${method}: ${err.details || err.message}`));
        else resolve(reply);
      });
    });
  }

  /** A server-streaming call, its replies collected. */
  list(method: string, request: object): Promise<unknown[]> {
    const m = methodOf(method);
    return new Promise((resolve, reject) => {
      const out: unknown[] = [];
      const stream = this.#client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, request, { deadline: Date.now() + this.#timeoutMs });
      stream.on('data', (reply: unknown) => out.push(reply));
      stream.on('error', (err: Error & { details?: string }) => reject(new BgpError('BGP_COMMAND', `GoBGP ${method}: ${err.details || err.message}`)));
      stream.on('end', () => resolve(out));
    });
  }

  close(): void {
    this.#client.close();
  }
}
