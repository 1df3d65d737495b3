// A heartbeat v1 cluster (ha.cf, haresources, authkeys) as the VRRP instances of one node: what each directive means
// for VRRP, what it does not, and why. The files are read by heartbeat-files.ts; write-vrrp.ts prints the result.
import { createHash } from 'node:crypto';
import { ImportError } from './errors.ts';
import { type AuthKey, type Directive, heartbeatSeconds, type ResourceGroup, type ScriptResource, type VipResource } from './heartbeat-files.ts';
import type { Notes } from './notes.ts';

/** The preferred node's priority; each further node in ha.cf's order gets STEP less. */
const FIRST_PRIORITY = 100;
const STEP = 10;

export interface PingScript {
  readonly name: string;
  readonly target: string;
  readonly intervalS: number;
  readonly fall: number;
  /** Subtracted while the ping node is unreachable: more than the gap between two nodes, as ipfail's comparison. */
  readonly weight: number;
}

export interface InstancePlan {
  readonly name: string;
  readonly group: ResourceGroup;
  readonly vrid: number;
  readonly state: 'MASTER' | 'BACKUP';
  readonly priority: number;
  readonly nopreempt: boolean;
  readonly interface: string;
  readonly advertIntS: number;
  readonly unicastPeers: readonly string[];
  readonly authPass?: string;
  readonly vips: readonly VipResource[];
  readonly scripts: readonly ScriptResource[];
}

export interface VrrpPlan {
  readonly node: string;
  readonly nodes: readonly string[];
  readonly instances: readonly InstancePlan[];
  readonly pings: readonly PingScript[];
}

export interface HeartbeatFiles {
  readonly haCf: { readonly name: string; readonly directives: readonly Directive[] };
  readonly haresources: { readonly name: string; readonly groups: readonly ResourceGroup[] };
  readonly authkeys?: { readonly name: string; readonly key?: AuthKey; readonly error?: string };
}

const LOGGING = 'ipvs-ts logs to its standard error (the journal under systemd)';
const SERIAL = 'VRRP needs an IP path between the nodes; a serial link cannot carry it';
const FENCING = 'VRRP has no fencing: after a split both nodes hold the VIPs until they hear each other again';
const NO_EQUIVALENT: Record<string, string> = {
  warntime: 'VRRP has no late-heartbeat warning',
  initdead: 'no VRRP setting: a starting node is BACKUP and takes over only after about 3 x advert_int without adverts',
  udpport: 'VRRP is IP protocol 112 and has no port',
  serial: SERIAL,
  baud: SERIAL,
  stonith: FENCING,
  stonith_host: FENCING,
  watchdog: "use systemd's WatchdogSec= for the service instead",
  logfile: LOGGING,
  debugfile: LOGGING,
  logfacility: LOGGING,
  use_logd: LOGGING,
  debug: LOGGING,
  ping_group: 'only single ping nodes are imported (as tracked ping scripts)',
};

interface Link {
  readonly d: Directive;
  readonly kind: 'bcast' | 'mcast' | 'ucast';
  readonly iface: string;
  readonly peer?: string;
}

/** What ha.cf says that matters for VRRP. */
interface Directives {
  nodes: string[];
  keepalive?: Directive;
  deadtime?: { line: number; s: number };
  deadping?: number;
  links: Link[];
  autoFailback?: Directive;
  pings: { d: Directive; target: string }[];
  ipfail: boolean;
}

/** Reads the directives, with a note for each that does not map. */
function readDirectives(files: HeartbeatFiles, notes: Notes): Directives {
  const file = files.haCf.name;
  const warn = (d: Directive, why: string): void => notes.warn(file, d.line, `${[d.key, ...d.args].join(' ')}: ${why}; not imported`);
  const r: Directives = { nodes: [], links: [], pings: [], ipfail: false };
  const seconds = (d: Directive): number | undefined => {
    const v = heartbeatSeconds(d.args[0] ?? '');
    if (v === undefined) notes.error(file, d.line, `${d.key}: expected a time (seconds, or with ms), got '${d.args.join(' ')}'`);
    return v;
  };
  for (const d of files.haCf.directives) {
    switch (d.key) {
      case 'node':
        r.nodes.push(...d.args);
        break;
      case 'keepalive':
        r.keepalive = d;
        break;
      case 'deadtime': {
        const v = seconds(d);
        if (v !== undefined) r.deadtime = { line: d.line, s: v };
        break;
      }
      case 'deadping': {
        const v = seconds(d);
        if (v !== undefined) r.deadping = v;
        break;
      }
      case 'bcast':
        for (const iface of d.args) r.links.push({ d, kind: 'bcast', iface });
        break;
      case 'mcast':
        r.links.push({ d, kind: 'mcast', iface: d.args[0] ?? '' });
        notes.warn(file, d.line, `mcast ${d.args.join(' ')}: VRRP multicasts to 224.0.0.18 (IP protocol 112); heartbeat's group, port and TTL are not used`);
        break;
      case 'ucast':
        r.links.push({ d, kind: 'ucast', iface: d.args[0] ?? '', ...(d.args[1] ? { peer: d.args[1] } : {}) });
        break;
      case 'auto_failback':
        r.autoFailback = d;
        break;
      case 'ping':
        r.pings.push(...d.args.map((target) => ({ d, target })));
        break;
      case 'respawn':
        if (/(^|\/)ipfail$/.test(d.args[1] ?? '')) r.ipfail = true;
        else warn(d, 'keepalived starts no other programs; run it as its own systemd service');
        break;
      case 'crm':
        if (!['off', 'no', 'false'].includes((d.args[0] ?? '').toLowerCase())) {
          notes.warn(file, d.line, `crm ${d.args[0]}: heartbeat then takes its resources from the CIB (cib.xml), not haresources; only haresources is imported`);
        }
        break;
      default:
        warn(d, NO_EQUIVALENT[d.key] ?? 'no VRRP equivalent');
    }
  }
  return r;
}

export function planHeartbeat(files: HeartbeatFiles, opts: { node: string; vrid: number }, notes: Notes): VrrpPlan {
  const cf = files.haCf.name;
  const hr = files.haresources.name;
  const d = readDirectives(files, notes);
  if (d.nodes.length === 0) notes.error(cf, undefined, 'no `node` line: the cluster has no nodes');
  else if (!d.nodes.includes(opts.node)) throw new ImportError('IMPORT_NODE', `${opts.node} is not a node of this cluster (ha.cf: ${d.nodes.join(', ')}); pass --node NAME`);

  let advertIntS = 1;
  if (d.keepalive) {
    const s = heartbeatSeconds(d.keepalive.args[0] ?? '');
    if (s === undefined) notes.error(cf, d.keepalive.line, `keepalive: expected a time, got '${d.keepalive.args.join(' ')}'`);
    else {
      advertIntS = Math.min(255, Math.max(1, Math.ceil(s)));
      if (advertIntS !== s) notes.warn(cf, d.keepalive.line, `keepalive ${d.keepalive.args[0]}: VRRPv2 adverts come in whole seconds (1-255); advert_int ${advertIntS}`);
    }
  }
  if (d.deadtime) {
    const skew = (256 - (FIRST_PRIORITY - STEP)) / 256;
    notes.warn(cf, d.deadtime.line, `deadtime ${d.deadtime.s}: VRRP has no such setting; a backup takes over when it has heard no advert for 3 x advert_int + skew (${(3 * advertIntS + skew).toFixed(1)} s at priority ${FIRST_PRIORITY - STEP}), not after ${d.deadtime.s} s`);
  }

  let preempt = true;
  const af = d.autoFailback;
  const afValue = af?.args[0]?.toLowerCase();
  if (afValue === 'off') preempt = false;
  else if (afValue !== 'on') {
    notes.warn(cf, af?.line, `${af ? `auto_failback ${af.args.join(' ')}` : 'no auto_failback'}: taken as on (heartbeat's legacy default fails back as on does when every node has it)`);
  }

  const ucast = d.links.filter((l) => l.kind === 'ucast');
  const chosen = ucast[0] ?? d.links[0];
  for (const l of d.links) {
    if (l !== chosen && l.iface !== chosen?.iface) notes.warn(cf, l.d.line, `${l.kind} ${l.iface}: a VRRP instance adverts on one interface (${chosen?.iface}); this redundant heartbeat path is not imported`);
  }
  const peers = [...new Set(ucast.filter((l) => l.iface === chosen?.iface).flatMap((l) => (l.peer ? [l.peer] : [])))];
  if (peers.length > 1) notes.warn(cf, ucast[0]?.d.line, `ucast: every ucast address is a unicast_peer; remove this node's own address (${peers.join(', ')}) if it is one of them`);
  if (ucast.length && d.links.some((l) => l.kind !== 'ucast')) notes.warn(cf, ucast[0]?.d.line, 'ucast and bcast/mcast together: VRRP uses unicast to the ucast peers only');

  const pings: PingScript[] = [];
  if (d.pings.length && d.ipfail) {
    const fall = Math.max(1, Math.ceil((d.deadping ?? d.deadtime?.s ?? 3 * advertIntS) / advertIntS));
    for (const p of d.pings) pings.push({ name: `chk_ping_${p.target.replace(/\W/g, '_')}`, target: p.target, intervalS: advertIntS, fall, weight: 2 * STEP });
  } else if (d.pings.length) {
    notes.warn(cf, d.pings[0]?.d.line, 'ping nodes without `respawn … ipfail` only report to heartbeat and move nothing; not imported');
  } else if (d.ipfail) {
    notes.warn(cf, undefined, 'ipfail without ping nodes has nothing to compare; not imported');
  }

  const auth = authPass(files.authkeys, notes);
  const instances: InstancePlan[] = [];
  files.haresources.groups.forEach((g, i) => {
    const vrid = opts.vrid + i;
    if (vrid > 255) return notes.error(hr, g.line, `virtual_router_id ${vrid} is past 255: start lower with --vrid`);
    if (!d.nodes.includes(g.node)) return notes.error(hr, g.line, `node ${g.node} is not listed in ha.cf (${d.nodes.join(', ')})`);
    const vips = g.resources.filter((r): r is VipResource => r.kind === 'vip');
    const scripts = g.resources.filter((r): r is ScriptResource => r.kind === 'script' && r.name !== 'SendArp');
    for (const r of g.resources) if (r.kind === 'script' && r.name === 'SendArp') notes.warn(hr, g.line, `${r.text}: keepalived sends gratuitous ARPs for its VIPs itself; not imported`);
    const firstScript = g.resources.findIndex((r) => r.kind === 'script');
    if (firstScript >= 0 && g.resources.slice(firstScript).some((r) => r.kind === 'vip')) {
      notes.warn(hr, g.line, `${g.resources[firstScript]?.text} came before a VIP: keepalived adds every VIP first, then runs notify_master`);
    }
    const iface = chosen?.iface ?? vips.find((v) => v.dev)?.dev;
    for (const v of vips.filter((v) => v.prefix === undefined || !v.dev)) {
      const what = [v.prefix === undefined && 'no netmask', !v.dev && 'no interface'].filter(Boolean).join(' and ');
      notes.warn(hr, g.line, `${v.text}: ${what} (heartbeat took them from the route to the address); written as ${v.address}/${v.prefix ?? (v.family === 4 ? 32 : 128)} on ${v.dev ?? iface ?? '?'}: give ADDR/PREFIX/IF if that is not where it belongs`);
    }
    if (!iface) return notes.error(hr, g.line, 'no interface: ha.cf has no bcast/mcast/ucast line and no VIP of this group names one (IPaddr::ADDR/PREFIX/IF)');
    for (const dev of new Set(vips.flatMap((v) => (chosen && v.dev && v.dev !== iface ? [v.dev] : [])))) {
      notes.warn(hr, g.line, `VRRP adverts go over ${iface} (heartbeat's link) and VIPs are on ${dev}: add \`track_interface { ${dev} }\` to fail over when ${dev} fails (heartbeat did not either)`);
    }
    const rank = [g.node, ...d.nodes.filter((n) => n !== g.node)].indexOf(opts.node);
    instances.push({
      name: `VI_${i + 1}`, group: g, vrid, state: preempt && rank === 0 ? 'MASTER' : 'BACKUP', priority: Math.max(1, FIRST_PRIORITY - STEP * rank),
      nopreempt: !preempt, interface: iface, advertIntS, unicastPeers: peers, ...(auth !== undefined ? { authPass: auth } : {}), vips, scripts,
    });
  });
  if (files.haresources.groups.length === 0) notes.error(hr, undefined, 'no resource group: nothing to import');
  return { node: opts.node, nodes: d.nodes, instances, pings };
}

/**
 * authkeys' active key as a VRRP PASS password. crc has no secret; md5 and sha1 are HMACs VRRP does not have. PASS
 * sends 8 characters in clear text, so they are derived from the key (the first 8 hex digits of its SHA-256): every
 * node importing the same authkeys agrees, unrelated VRRP routers stay apart, and the key itself is not sent.
 */
function authPass(a: HeartbeatFiles['authkeys'], notes: Notes): string | undefined {
  if (!a) return undefined;
  if (!a.key) {
    notes.error(a.name, undefined, a.error ?? 'no key');
    return undefined;
  }
  const k = a.key;
  if (k.method === 'crc') {
    notes.warn(a.name, k.line, 'crc carries no secret: no authentication block');
    return undefined;
  }
  if (k.method !== 'md5' && k.method !== 'sha1') {
    notes.error(a.name, k.line, `unknown method ${k.method} (heartbeat knows crc, md5, sha1)`);
    return undefined;
  }
  notes.warn(a.name, k.line, `${k.method} is an HMAC, which VRRP does not have: keepalived's auth_type PASS sends at most 8 characters in clear text. auth_pass is derived from the key (the first 8 hex digits of its SHA-256), so nodes importing the same authkeys agree and the key is never sent; it keeps unrelated VRRP routers apart, it does not stop an attacker on the LAN`);
  return createHash('sha256').update(k.secret).digest('hex').slice(0, 8);
}
