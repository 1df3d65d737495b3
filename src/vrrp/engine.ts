// Runs every vrrp_instance of a config: one state machine each, driven by timers and received adverts, with the
// side effects of its transitions (adverts, VIPs, gratuitous ARP/NA, notify scripts, sync-group followers).
// Everything here runs on one event loop that does nothing else (see worker.ts), so timers fire on time.
import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';
import { NETLINK_ROUTE } from '../sys/constants.ts';
import { decodeRtEvent, listLinks, RTNLGRP_LINK, type Link } from '../netlink/rtnetlink.ts';
import { NetlinkSocket } from '../netlink/socket.ts';
import type { Config, TrackRef, VirtualIp, VrrpInstance, VrrpScript, VrrpSyncGroup } from '../config/model.ts';
import { Announcer, macBytes } from './announce.ts';
import { VrrpChannel, type Received } from './channel.ts';
import {
  AUTH_NONE, AUTH_PASS, checkAdvert, decodeAdvert, DROP_REASONS, encodeAdvert, passAuthData, type DropReason, type Expectation,
} from './codec.ts';
import { initialState, step, type MachineEvent, type MachineParams, type MachineState, type VrrpStateName } from './machine.ts';
import { addVip, deleteVip } from './vips.ts';
import { notifyCommands, syncForce } from './sync.ts';
import { splitCommandLine } from '../check/command-line.ts';
import { runScript } from '../check/script.ts';
import { assertScriptSecure } from '../check/script-security.ts';
import { resolveUser } from '../check/users.ts';
import { effectivePriority, initialScriptHealth, scriptResult, type ScriptHealth, type Tracked } from './track.ts';

/** keepalived lets notify scripts run unbounded; a stuck one is killed after this so none pile up. */
const NOTIFY_TIMEOUT_MS = 60_000;

export class VrrpError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export const COUNTERS = ['advert_rcvd', 'advert_sent', 'become_master', 'release_master', 'pri_zero_rcvd', 'pri_zero_sent', ...DROP_REASONS] as const;
export type Counter = (typeof COUNTERS)[number];
export type Stats = Record<Counter, number>;

export interface TransitionEvent {
  readonly instance: string;
  readonly from: VrrpStateName;
  readonly to: VrrpStateName;
  readonly priority: number;
}

export interface EngineHooks {
  readonly log: (line: string) => void;
  readonly transition?: (ev: TransitionEvent) => void;
  /** Called with the planned and actual time of every advert sent (the jitter benchmark). */
  readonly sent?: (instance: string, plannedMs: number, actualMs: number) => void;
}

export interface InstanceStatus {
  readonly name: string;
  readonly state: VrrpStateName;
  readonly priority: number;
  readonly master: string | undefined;
  readonly stats: Stats;
}

interface Instance {
  readonly cfg: VrrpInstance;
  readonly params: MachineParams;
  m: MachineState;
  timer: NodeJS.Timeout | undefined;
  readonly chan: VrrpChannel;
  readonly src: string;
  readonly dsts: readonly string[];
  readonly expect: Expectation;
  readonly stats: Stats;
  readonly tracked: readonly TrackSource[];
  readonly announcer: Announcer;
  group: Group | undefined;
  vipChain: Promise<void>;
  vipsAdded: boolean;
  garpTimers: NodeJS.Timeout[];
}

interface Group {
  readonly cfg: VrrpSyncGroup;
  readonly members: Instance[];
  state: VrrpStateName;
}

type TrackSource = { readonly kind: 'script' | 'iface'; readonly name: string; readonly weight: number; readonly reverse: boolean };

export class VrrpEngine {
  readonly #config: Config;
  readonly #hooks: EngineHooks;
  readonly #now: () => number;
  readonly #instances: Instance[] = [];
  readonly #byName = new Map<string, Instance>();
  readonly #channels = new Map<string, { chan: VrrpChannel; byVrid: Map<number, Instance>; stats: Stats }>();
  readonly #scripts = new Map<string, { cfg: VrrpScript; health: ScriptHealth; timer?: NodeJS.Timeout; running: boolean }>();
  readonly #ifaceUp = new Map<string, boolean>();
  #nl: NetlinkSocket | undefined;
  #stopping = false;

  constructor(config: Config, hooks: EngineHooks, now: () => number = () => performance.now()) {
    this.#config = config;
    this.#hooks = hooks;
    this.#now = now;
  }

  async start(): Promise<void> {
    const cfg = this.#config;
    if (cfg.vrrpInstances.length === 0) throw new VrrpError('VRRP_NO_INSTANCES', 'the configuration has no vrrp_instance');
    for (const s of cfg.vrrpScripts) this.#scripts.set(s.name, { cfg: s, health: initialScriptHealth(s.initFail), running: false });
    const nl = NetlinkSocket.open(NETLINK_ROUTE);
    this.#nl = nl;
    for (const ic of cfg.vrrpInstances) this.#addInstance(ic);
    for (const g of cfg.vrrpSyncGroups) {
      const members = g.members.map((n) => this.#byName.get(n)).filter((x): x is Instance => x !== undefined);
      const group: Group = { cfg: g, members, state: 'INIT' };
      for (const m of members) m.group = group;
    }
    // Addresses left behind by a previous run that was killed: we own them only while master (keepalived does this too).
    for (const inst of this.#instances) for (const v of vipsOf(inst.cfg)) await deleteVip(nl, v).catch(() => undefined);
    // Link state from rtnetlink: the initial list, then events (track_interface and each instance's own interface).
    nl.subscribe([RTNLGRP_LINK], (m) => {
      const ev = decodeRtEvent(m);
      if (ev?.kind === 'newlink') this.#linkState(ev.link.name, linkUp(ev.link));
      else if (ev?.kind === 'dellink') this.#linkState(ev.link.name, false);
    });
    for (const l of await listLinks(nl)) this.#ifaceUp.set(l.name, linkUp(l));
    for (const s of this.#scripts.values()) if (this.#instances.some((i) => i.tracked.some((t) => t.kind === 'script' && t.name === s.cfg.name))) this.#runScript(s);
    for (const inst of this.#instances) {
      const { priority, fault } = this.#effective(inst);
      inst.m = initialState(priority, inst.cfg.advertIntMs, fault);
      this.#apply(inst, { kind: 'start' });
    }
  }

  /** Leaves every instance (priority-0 advert from a master), removes every VIP we added, closes the sockets. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    for (const s of this.#scripts.values()) clearTimeout(s.timer);
    for (const inst of this.#instances) if (inst.m.state !== 'INIT') this.#apply(inst, { kind: 'stop' });
    await Promise.all(this.#instances.map((i) => i.vipChain));
    for (const { chan } of this.#channels.values()) chan.close();
    for (const inst of this.#instances) inst.announcer.close();
    this.#nl?.close();
  }

  status(): { instances: InstanceStatus[]; unmatched: Record<string, Stats> } {
    const unmatched: Record<string, Stats> = {};
    for (const [key, c] of this.#channels) unmatched[key] = { ...c.stats };
    return {
      instances: this.#instances.map((i) => ({ name: i.cfg.name, state: i.m.state, priority: i.m.priority, master: i.m.master?.address, stats: { ...i.stats } })),
      unmatched,
    };
  }

  #addInstance(ic: VrrpInstance): void {
    if (ic.auth?.type === 'AH') throw new VrrpError('VRRP_AH_UNSUPPORTED', `(${ic.name}) auth_type AH (IPSEC-AH) is not supported; use PASS or no authentication`);
    if (ic.useVmac !== undefined) throw new VrrpError('VRRP_VMAC_UNSUPPORTED', `(${ic.name}) use_vmac is not supported yet; remove it to run with the interface's own MAC`);
    if (ic.version === 2 && ic.family === 6) throw new VrrpError('VRRP_V2_IPV6', `(${ic.name}) VRRP version 2 does not support IPv6; use version 3`);
    const unicast = ic.unicastPeers.length > 0;
    const ifname = ic.interface || interfaceHolding(ic.unicastSrcIp ?? ic.mcastSrcIp);
    if (ifname === undefined) throw new VrrpError('VRRP_NO_INTERFACE', `(${ic.name}) no interface holds unicast_src_ip ${ic.unicastSrcIp ?? ic.mcastSrcIp ?? '(none)'}`);
    const nics = networkInterfaces()[ifname];
    if (nics === undefined) throw new VrrpError('VRRP_NO_INTERFACE', `(${ic.name}) interface ${ifname} does not exist`);
    const own = nics.find((n) => (ic.family === 4 ? n.family === 'IPv4' : n.family === 'IPv6' && n.address.startsWith('fe80')));
    const src = (unicast ? ic.unicastSrcIp : undefined) ?? ic.mcastSrcIp ?? own?.address;
    if (src === undefined) throw new VrrpError('VRRP_NO_SOURCE', `(${ic.name}) interface ${ifname} has no IPv${ic.family} address to send adverts from`);
    const g = this.#config.globalDefs.vrrp;
    const group = ic.family === 4 ? g.mcastGroup4 : g.mcastGroup6;
    const key = `${ifname}/${ic.family}`;
    let ch = this.#channels.get(key);
    if (ch === undefined) {
      const groups = this.#config.vrrpInstances.some((x) => x.interface === ifname && x.family === ic.family && x.unicastPeers.length === 0) ? [group] : [];
      ch = { chan: VrrpChannel.open(ifname, ic.family, groups), byVrid: new Map(), stats: zeroStats() };
      const c = ch;
      ch.chan.onPacket((r) => this.#receive(c, r));
      this.#channels.set(key, ch);
    }
    if (ch.byVrid.has(ic.vrid)) throw new VrrpError('VRRP_DUPLICATE_VRID', `(${ic.name}) VRID ${ic.vrid} is used twice on ${ifname}`);
    const authType = ic.auth?.type === 'PASS' ? AUTH_PASS : AUTH_NONE;
    const inst: Instance = {
      cfg: ic,
      params: {
        version: ic.version,
        advertIntMs: ic.advertIntMs,
        preempt: !(ic.nopreempt && ic.state === 'BACKUP'),
        preemptDelayMs: ic.preemptDelayMs,
        primaryAddress: src,
      },
      m: initialState(ic.priority, ic.advertIntMs),
      timer: undefined,
      chan: ch.chan,
      src,
      dsts: unicast ? ic.unicastPeers : [group],
      expect: {
        version: ic.version,
        vrid: ic.vrid,
        intervalMs: ic.advertIntMs,
        addresses: ic.virtualIps.map((v) => v.address),
        authType,
        authData: authType === AUTH_PASS ? passAuthData(ic.auth?.pass ?? '') : Buffer.alloc(0),
        unicast,
      },
      stats: zeroStats(),
      tracked: [
        // keepalived tracks the instance's own interface only when one is configured.
        ...(ic.interface ? [{ kind: 'iface' as const, name: ic.interface, weight: 0, reverse: false }] : []),
        ...ic.trackInterfaces.map(ifaceSource),
        ...ic.trackScripts.map((t) => this.#scriptSource(ic.name, t)),
        ...this.#config.vrrpSyncGroups.filter((sg) => sg.members.includes(ic.name)).flatMap((sg) => [
          ...sg.trackInterfaces.map(ifaceSource),
          ...sg.trackScripts.map((t) => this.#scriptSource(ic.name, t)),
        ]),
      ],
      announcer: new Announcer(ifname, macBytes(nics[0]?.mac ?? '00:00:00:00:00:00')),
      group: undefined,
      vipChain: Promise.resolve(),
      vipsAdded: false,
      garpTimers: [],
    };
    ch.byVrid.set(ic.vrid, inst);
    this.#instances.push(inst);
    this.#byName.set(ic.name, inst);
  }

  #scriptSource(instance: string, t: TrackRef): TrackSource {
    const s = this.#scripts.get(t.name);
    if (s === undefined) throw new VrrpError('VRRP_NO_SCRIPT', `(${instance}) track_script ${t.name} is not a defined vrrp_script`);
    return { kind: 'script', name: t.name, weight: t.weight ?? s.cfg.weight, reverse: t.reverse ?? s.cfg.weightReverse };
  }

  #effective(inst: Instance): { priority: number; fault: boolean } {
    const tracked: Tracked[] = inst.tracked.map((t) => ({
      up: (t.kind === 'iface' ? this.#ifaceUp.get(t.name) : this.#scripts.get(t.name)?.health.up) ?? false,
      weight: t.weight,
      reverse: t.reverse,
    }));
    return effectivePriority(inst.cfg.priority, tracked);
  }

  #retrack(): void {
    if (this.#stopping) return;
    for (const inst of this.#instances) {
      const e = this.#effective(inst);
      if (e.priority !== inst.m.priority || e.fault !== inst.m.fault) this.#apply(inst, { kind: 'track', ...e });
    }
  }

  #linkState(name: string, up: boolean): void {
    if (this.#ifaceUp.get(name) === up) return;
    this.#ifaceUp.set(name, up);
    this.#hooks.log(`Netlink reports ${name} ${up ? 'up' : 'down'}`);
    this.#retrack();
  }

  #runScript(s: { cfg: VrrpScript; health: ScriptHealth; timer?: NodeJS.Timeout; running: boolean }): void {
    if (this.#stopping) return;
    s.timer = setTimeout(() => this.#runScript(s), s.cfg.intervalMs);
    if (s.running) return;
    s.running = true;
    void this.#exec(s.cfg.script, s.cfg.timeoutMs ?? s.cfg.intervalMs, s.cfg.user).then((ok) => {
      s.running = false;
      const before = s.health.up;
      s.health = scriptResult(s.health, ok, s.cfg.rise, s.cfg.fall);
      if (s.health.up !== before) {
        this.#hooks.log(`Script \`${s.cfg.name}\` now returning ${s.health.up ? 0 : 1}`);
        this.#retrack();
      }
    });
  }

  /**
   * Runs a script through the checker's runner (no shell, own process group killed on timeout, script_user,
   * enable_script_security); true when it exits 0 in time. A script that cannot run counts as failing.
   */
  async #exec(command: string, timeoutMs: number, user: VrrpScript['user']): Promise<boolean> {
    const g = this.#config.globalDefs;
    const as = user ?? g.scriptUser;
    try {
      if (g.enableScriptSecurity) assertScriptSecure(splitCommandLine(command)[0] ?? '');
      const run = await runScript(command, { timeoutMs, ...(as !== undefined ? { credentials: resolveUser(as) } : {}) });
      return run.exitCode === 0 && !run.timedOut;
    } catch (err) {
      this.#hooks.log(`cannot run ${command}: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
  }

  #apply(inst: Instance, ev: MachineEvent): void {
    const now = this.#now();
    const planned = inst.m.timer;
    const r = step(inst.params, inst.m, ev, now);
    inst.m = r.state;
    for (const a of r.actions) {
      if (a.kind === 'send') {
        this.#send(inst, a.priority);
        if (ev.kind === 'timer' && planned !== undefined) this.#hooks.sent?.(inst.cfg.name, planned, now);
      } else this.#transition(inst, a.from, a.to);
    }
    this.#arm(inst);
  }

  #arm(inst: Instance): void {
    clearTimeout(inst.timer);
    inst.timer = undefined;
    const at = inst.m.timer;
    if (at === undefined || this.#stopping) return;
    inst.timer = setTimeout(() => {
      inst.timer = undefined;
      // setTimeout may fire a fraction of a millisecond early by the monotonic clock; wait out the remainder.
      if (inst.m.timer !== undefined && this.#now() < inst.m.timer) return this.#arm(inst);
      this.#apply(inst, { kind: 'timer' });
    }, Math.max(0, at - this.#now()));
  }

  #send(inst: Instance, priority: number): void {
    for (const dst of inst.dsts) {
      const payload = encodeAdvert(
        {
          version: inst.cfg.version,
          vrid: inst.cfg.vrid,
          priority,
          intervalMs: inst.cfg.advertIntMs,
          family: inst.cfg.family,
          addresses: inst.expect.addresses,
          authType: inst.expect.authType,
          authData: inst.expect.authData,
        },
        { src: inst.src, dst },
      );
      try {
        inst.chan.send(payload, inst.src, dst);
        inst.stats.advert_sent++;
        if (priority === 0) inst.stats.pri_zero_sent++;
      } catch (err) {
        this.#hooks.log(`(${inst.cfg.name}) cannot send advert to ${dst}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  #receive(ch: { byVrid: Map<number, Instance>; stats: Stats; chan: VrrpChannel }, r: Received): void {
    const vridGuess = r.payload.length >= 2 ? r.payload[1]! : -1;
    const target = ch.byVrid.get(vridGuess);
    const count = (reason: DropReason) => {
      (target ?? { stats: ch.stats }).stats[reason]++;
    };
    if (r.malformed) return count('packet_len_err');
    const d = decodeAdvert(r.payload, ch.chan.family, { src: r.src, dst: r.dst });
    if (!d.ok) return count(d.reason);
    const inst = ch.byVrid.get(d.advert.vrid);
    if (inst === undefined) return void ch.stats.vrid_err++;
    const c = checkAdvert(d.advert, r.ttl, inst.expect);
    if (!c.ok) return void inst.stats[c.reason]++;
    inst.stats.advert_rcvd++;
    for (const n of c.notes) inst.stats[n]++;
    if (this.#stopping) return;
    this.#apply(inst, { kind: 'advert', priority: d.advert.priority, intervalMs: d.advert.intervalMs, src: r.src });
  }

  #transition(inst: Instance, from: VrrpStateName, to: VrrpStateName): void {
    const name = inst.cfg.name;
    this.#hooks.log(`(${name}) Entering ${to} STATE`);
    if (to === 'MASTER') {
      inst.stats.become_master++;
      this.#takeVips(inst);
    } else if (from === 'MASTER') {
      inst.stats.release_master++;
      this.#releaseVips(inst);
    }
    this.#hooks.transition?.({ instance: name, from, to, priority: inst.m.priority });
    this.#notify(inst.cfg.notify, 'INSTANCE', name, to, inst.m.priority);
    const g = inst.group;
    if (g === undefined) return;
    const force = syncForce(to);
    if (force !== undefined && !this.#stopping) for (const other of g.members) if (other !== inst && other.m.state !== to) this.#apply(other, force);
    if (g.members.every((m) => m.m.state === to) && g.state !== to) {
      g.state = to;
      this.#hooks.log(`VRRP_Group(${g.cfg.name}) Syncing instances to ${to} state`);
      this.#notify(g.cfg.notify, 'GROUP', g.cfg.name, to, 0);
    }
  }

  #takeVips(inst: Instance): void {
    const nl = this.#nl;
    if (nl === undefined) return;
    inst.vipChain = inst.vipChain.then(async () => {
      for (const v of vipsOf(inst.cfg)) await addVip(nl, v).catch((e: Error) => this.#hooks.log(`(${inst.cfg.name}) ${e.message}`));
      inst.vipsAdded = true;
      if (inst.m.state !== 'MASTER') return;
      this.#announceBurst(inst);
      if (inst.cfg.garpMasterDelayMs > 0) inst.garpTimers.push(setTimeout(() => this.#announceBurst(inst), inst.cfg.garpMasterDelayMs));
      if (inst.cfg.garpMasterRefreshMs > 0) inst.garpTimers.push(setInterval(() => this.#announceBurst(inst, inst.cfg.garpMasterRefreshRepeat), inst.cfg.garpMasterRefreshMs));
    });
  }

  #announceBurst(inst: Instance, repeat = inst.cfg.garpMasterRepeat): void {
    if (inst.m.state !== 'MASTER') return;
    const vrrpGlobals = this.#config.globalDefs.vrrp;
    for (let i = 0; i < Math.max(1, repeat); i++) {
      const send = () => {
        if (inst.m.state !== 'MASTER') return;
        for (const v of vipsOf(inst.cfg)) {
          try {
            inst.announcer.announce(v.address);
          } catch (err) {
            this.#hooks.log(`(${inst.cfg.name}) cannot announce ${v.address}: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
      };
      const gap = inst.cfg.family === 4 ? vrrpGlobals.garpIntervalMs : vrrpGlobals.gnaIntervalMs;
      if (i === 0 || gap <= 0) send();
      else inst.garpTimers.push(setTimeout(send, i * gap));
    }
  }

  #releaseVips(inst: Instance): void {
    for (const t of inst.garpTimers) clearTimeout(t);
    inst.garpTimers = [];
    const nl = this.#nl;
    if (nl === undefined) return;
    inst.vipChain = inst.vipChain.then(async () => {
      if (!inst.vipsAdded) return;
      for (const v of vipsOf(inst.cfg)) await deleteVip(nl, v).catch((e: Error) => this.#hooks.log(`(${inst.cfg.name}) ${e.message}`));
      inst.vipsAdded = false;
    });
  }

  #notify(n: VrrpInstance['notify'], kind: 'INSTANCE' | 'GROUP', name: string, state: VrrpStateName, priority: number): void {
    for (const { command, user } of notifyCommands(n, kind, name, state, priority)) void this.#exec(command, NOTIFY_TIMEOUT_MS, user);
  }
}

function ifaceSource(t: TrackRef): TrackSource {
  return { kind: 'iface', name: t.name, weight: t.weight ?? 0, reverse: t.reverse ?? false };
}

/** The interface an instance without one sends on: the one holding its source address. */
function interfaceHolding(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  for (const [name, addrs] of Object.entries(networkInterfaces())) if (addrs?.some((a) => a.address === address)) return name;
  return undefined;
}

function linkUp(l: Link): boolean {
  return l.up && (l.lowerUp || l.operState === 'unknown');
}

function vipsOf(ic: VrrpInstance): VirtualIp[] {
  return [...ic.virtualIps, ...ic.virtualIpsExcluded];
}

function zeroStats(): Stats {
  return Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Stats;
}
