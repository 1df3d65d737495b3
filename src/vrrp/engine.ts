// Runs every vrrp_instance of a config: one state machine each, driven by timers and received adverts, with the
// side effects of its transitions (adverts, VIPs, gratuitous ARP/NA, notify scripts, sync-group followers). A
// reload is applied to the running instances (reload-plan.ts decides what each one gets), so an instance that a
// reload does not concern keeps its state, timers and VIPs. Everything here runs on one event loop that does
// nothing else (see worker.ts), so timers fire on time.
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { performance } from 'node:perf_hooks';
import { modelKey } from '../config/compare.ts';
import { NETLINK_ROUTE } from '../sys/constants.ts';
import { sys } from '../sys/native.ts';
import { decodeRtEvent, listLinks, RTNLGRP_LINK, type Link } from '../netlink/rtnetlink.ts';
import { NetlinkSocket } from '../netlink/socket.ts';
import type { Config, TrackFile, VirtualIp, VrrpInstance, VrrpScript, VrrpSyncGroup, VrrpTrackProcess } from '../config/model.ts';
import { Announcer, macBytes } from './announce.ts';
import { GarpPacer } from './garp-pacer.ts';
import { inetFamily } from '../sys/inet.ts';
import { VrrpChannel, type Received } from './channel.ts';
import { checkAdvert, decodeAdvert, DROP_REASONS, encodeAdvert, type DropReason, type Expectation } from './codec.ts';
import { VrrpError } from './errors.ts';
import { instanceSettings, isUnicast, multicastGroup, trackSources, vipsOf, type TrackSource } from './instance-settings.ts';
import { initialState, PRIO_OWNER, step, type MachineEvent, type MachineParams, type MachineState, type VrrpStateName } from './machine.ts';
import { planVrrpReload, type ScriptPlan, type VrrpReloadPlan } from './reload-plan.ts';
import { addVip, deleteVip } from './vips.ts';
import { clearLeftovers, describeEntry, KernelEntries, staticEntries, virtualEntries } from './routes.ts';
import { removeStaleVmacs, vmacAddress, Vmacs, type VmacSpec } from './vmac.ts';
import { VmacFirewall } from './vmac-nft.ts';
import { DropTable, removeStaleTable } from './nft.ts';
import { notifyCommands, syncForce } from './sync.ts';
import { splitCommandLine } from '../check/command-line.ts';
import { runScript } from '../check/script.ts';
import { assertScriptSecure } from '../check/script-security.ts';
import { resolveUser } from '../check/users.ts';
import { effectivePriority, initialScriptHealth, scriptResult, type ScriptHealth, type Tracked } from './track.ts';
import { TrackFiles } from './track-files.ts';
import { TrackProcesses } from './track-processes.ts';

/** keepalived lets notify scripts run unbounded; a stuck one is killed after this so none pile up. */
const NOTIFY_TIMEOUT_MS = 60_000;

export const COUNTERS = ['advert_rcvd', 'advert_sent', 'become_master', 'release_master', 'pri_zero_rcvd', 'pri_zero_sent', ...DROP_REASONS] as const;
export type Counter = (typeof COUNTERS)[number];
export type Stats = Record<Counter, number>;

export interface TransitionEvent {
  readonly instance: string;
  readonly from: VrrpStateName;
  readonly to: VrrpStateName;
  readonly priority: number;
}

/** A master heard an advert it wins against (lower priority, or equal and a lower address): it stays master. */
export interface LowerPriorityAdvert {
  readonly instance: string;
  readonly priority: number;
  readonly from: string;
  readonly theirs: number;
}

export interface EngineHooks {
  readonly log: (line: string) => void;
  readonly transition?: (ev: TransitionEvent) => void;
  /** keepalived's MASTER_RX_LOWER_PRI, which its notify FIFOs report. */
  readonly rxLowerPri?: (ev: LowerPriorityAdvert) => void;
  /** Called with the planned and actual time of every advert sent (the jitter benchmark). */
  readonly sent?: (instance: string, plannedMs: number, actualMs: number) => void;
}

export interface InstanceStatus {
  readonly name: string;
  readonly state: VrrpStateName;
  readonly priority: number;
  readonly master: string | undefined;
  /** The VMAC interface (use_vmac) the instance holds its VIPs on. */
  readonly vmac?: string | undefined;
  readonly stats: Stats;
  /** virtual_routes then virtual_rules, as `ip route` / `ip rule` print them, and whether they are in the kernel now. */
  readonly routes: readonly { readonly what: string; readonly installed: boolean }[];
}

/** One raw socket per interface and family, the instances it delivers to, and what none of them could claim. */
interface Channel {
  /** Replaced when its interface, a VMAC, is made again (#vmacLost). */
  chan: VrrpChannel;
  readonly byVrid: Map<number, Instance>;
  readonly stats: Stats;
}

/**
 * Where an instance runs: the interface its adverts use, its primary address, the interface and MAC its
 * announcements use, its configured (base) interface and, with use_vmac, its VMAC.
 */
interface Placement {
  readonly ifname: string;
  readonly src: string;
  readonly announceOn: string;
  readonly mac: Buffer;
  readonly base: string;
  readonly vmac: VmacSpec | undefined;
}

/** The settings a reload may change are mutable; what it cannot change without a restart (the channel) is not. */
interface Instance {
  cfg: VrrpInstance;
  params: MachineParams;
  m: MachineState;
  timer: NodeJS.Timeout | undefined;
  readonly channel: Channel;
  src: string;
  /** The configured interface (the VMAC's base with use_vmac). */
  base: string;
  dsts: readonly string[];
  expect: Expectation;
  readonly stats: Stats;
  tracked: readonly TrackSource[];
  readonly announcer: Announcer;
  readonly vmac: string | undefined;
  group: Group | undefined;
  /** Becoming MASTER queued its VIPs and a full announcement; until that runs, what a sync adds is announced by it. */
  takesQueued: number;
  garpTimers: NodeJS.Timeout[];
  garpRefresh: NodeJS.Timeout | undefined;
}

interface Group {
  readonly cfg: VrrpSyncGroup;
  readonly members: Instance[];
  state: VrrpStateName;
}

interface Script {
  cfg: VrrpScript;
  health: ScriptHealth;
  timer: NodeJS.Timeout | undefined;
  running: boolean;
}

export class VrrpEngine {
  #config: Config;
  readonly #hooks: EngineHooks;
  readonly #now: () => number;
  readonly #instances: Instance[] = [];
  readonly #byName = new Map<string, Instance>();
  readonly #channels = new Map<string, Channel>();
  #groups = new Map<string, Group>();
  readonly #scripts = new Map<string, Script>();
  readonly #ifaceUp = new Map<string, boolean>();
  /** The VIPs this engine added and has not removed, by their configuration. */
  readonly #held = new Map<string, VirtualIp>();
  /** VIP changes run one after the other, each from the instances' states when it runs (see #syncVips). */
  #vipChain: Promise<void> = Promise.resolve();
  /** The nftables drop set of the VIPs of instances without accept mode (nft.ts). */
  readonly #drops = new DropTable();
  #nl: NetlinkSocket | undefined;
  #vmacs: Vmacs | undefined;
  /** The virtual_routes / virtual_rules of the MASTER instances, and static_*, as held in the kernel (routes.ts). */
  #virtual: KernelEntries | undefined;
  #statics: KernelEntries | undefined;
  #stopping = false;
  readonly #files: TrackFiles;
  readonly #processes: TrackProcesses;
  /** vrrp_startup_delay's end, fixed at start: a reload neither restarts nor cancels it (keepalived). */
  #delayedStartAt: number | undefined;
  /** garp_group / vrrp_garp_interval / vrrp_gna_interval: the pace of announcements per interface. */
  readonly #pacer: GarpPacer;

  constructor(config: Config, hooks: EngineHooks, now: () => number = () => performance.now()) {
    this.#config = config;
    this.#hooks = hooks;
    this.#now = now;
    this.#files = new TrackFiles(hooks.log, () => this.#retrack());
    this.#processes = new TrackProcesses(hooks.log, () => this.#retrack(), now);
    this.#pacer = new GarpPacer({ now, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) });
    this.#pacer.configure(config.garpGroups, config.globalDefs.vrrp);
  }

  async start(): Promise<void> {
    const cfg = this.#config;
    if (cfg.vrrpInstances.length === 0) throw new VrrpError('VRRP_NO_INSTANCES', 'the configuration has no vrrp_instance');
    const placed = this.#prepare(cfg, cfg.vrrpInstances, []);
    const nl = NetlinkSocket.open(NETLINK_ROUTE);
    this.#nl = nl;
    try {
      // First the VMACs a killed run made that this configuration no longer names (ours by their alias: vmac.ts):
      // a renamed one keeps its MAC, and the kernel refuses to bring up a second macvlan with it (EADDRINUSE).
      await removeStaleVmacs(nl, new Set([...placed.values()].flatMap((p) => (p.vmac ? [p.vmac.name] : []))), this.#hooks.log);
      await this.#readyVmacs(placed);
      this.#openChannels(cfg, placed);
    } catch (err) {
      await this.#vmacs?.removeAll();
      nl.close();
      throw err;
    }
    const delay = cfg.globalDefs.vrrp.startupDelayMs;
    if (delay !== undefined) {
      this.#delayedStartAt = this.#now() + delay;
      this.#hooks.log(`Delaying startup for ${delay / 1000} seconds`);
    }
    for (const s of cfg.vrrpScripts) this.#scripts.set(s.name, newScript(s));
    const fresh = cfg.vrrpInstances.map((ic) => this.#addInstance(ic, placed.get(ic)!));
    this.#regroup();
    // Routes, rules and addresses left behind by a previous run that was killed: we own them only while master
    // (keepalived does this too). static_* are adopted instead (#syncVips), so a restart does not interrupt them.
    await clearLeftovers(nl, fresh.flatMap((inst) => virtualEntries(inst.cfg)));
    for (const inst of fresh) for (const v of vipsOf(inst.cfg)) await deleteVip(nl, v).catch(() => undefined);
    this.#virtual = new KernelEntries(nl, this.#hooks.log);
    this.#statics = new KernelEntries(nl, this.#hooks.log);
    // The drop table is made afresh (a killed run's replaced), so a missing nft fails the start, not a takeover.
    if (cfg.vrrpInstances.some(dropsTraffic)) await this.#drops.create();
    else await removeStaleTable();
    if (!cfg.vrrpInstances.some((i) => i.useVmac !== undefined)) await new VmacFirewall(this.#hooks.log).sync([]);
    // static_* are in before any instance enters the election (no instance is MASTER yet: nothing else moves).
    await this.#syncVips();
    // Link state from rtnetlink: the initial list, then events (track_interface and each instance's own interface).
    nl.subscribe([RTNLGRP_LINK], (m) => {
      const ev = decodeRtEvent(m);
      if (ev?.kind === 'newlink') this.#linkState(ev.link.name, linkUp(ev.link));
      else if (ev?.kind === 'dellink') {
        if (this.#vmacs?.ifindex(ev.link.name) === ev.link.index) this.#vmacLost(ev.link.name, ev.link.index);
        this.#linkState(ev.link.name, false);
      }
    });
    for (const l of await listLinks(nl)) this.#ifaceUp.set(l.name, linkUp(l));
    await this.#files.follow(trackedFiles(cfg));
    await this.#processes.follow(trackedProcesses(cfg));
    this.#runTrackedScripts();
    for (const inst of fresh) this.#enter(inst);
  }

  /**
   * Applies a new configuration to the running instances (see reload-plan.ts) and resolves once the VIP changes it
   * made are in the kernel. Everything that can be refused (an interface or address missing, a VRID used twice, an
   * unknown script) is checked before anything changes: a refused reload rejects and leaves VRRP as it was.
   */
  async reconfigure(next: Config): Promise<VrrpReloadPlan> {
    if (this.#stopping) throw new VrrpError('VRRP_STOPPED', 'VRRP is stopping');
    if (next.vrrpInstances.length === 0) throw new VrrpError('VRRP_NO_INSTANCES', 'the configuration has no vrrp_instance');
    const plan = planVrrpReload(this.#config, next);
    const cfgOf = new Map(next.vrrpInstances.map((ic) => [ic.name, ic]));
    const running = (name: string) => this.#byName.get(name)!;
    const entering: VrrpInstance[] = [];
    const updating: { inst: Instance; ic: VrrpInstance }[] = [];
    const keeping: { inst: Instance; ic: VrrpInstance }[] = [];
    const leaving: Instance[] = [];
    for (const p of plan.instances) {
      if (p.action === 'stop') leaving.push(running(p.name));
      else if (p.action === 'restart') {
        leaving.push(running(p.name));
        entering.push(cfgOf.get(p.name)!);
      } else if (p.action === 'start') entering.push(cfgOf.get(p.name)!);
      else if (p.action === 'update') updating.push({ inst: running(p.was), ic: cfgOf.get(p.name)! });
      else keeping.push({ inst: running(p.name), ic: cfgOf.get(p.name)! });
    }
    const placed = this.#prepare(next, [...updating.map((u) => u.ic), ...entering], keeping.map((k) => k.inst));
    try {
      await this.#readyVmacs(placed);
      this.#openChannels(next, placed);
    } catch (err) {
      await this.#pruneVmacs();
      throw err;
    }
    // The new configuration's files and processes are read before any instance changes, so each enters its new shape with them.
    await this.#files.follow(trackedFiles(next));
    await this.#processes.follow(trackedProcesses(next));
    if (this.#stopping) throw new VrrpError('VRRP_STOPPED', 'VRRP is stopping');
    for (const p of plan.instances) {
      if (p.action === 'update') this.#hooks.log(`(${p.name}) reconfiguring in place: ${p.changes.join(', ')}`);
      else if (p.action === 'restart') this.#hooks.log(`(${p.name}) restarting: ${p.why.join(', ')}`);
      else if (p.action === 'start') this.#hooks.log(`(${p.name}) adding`);
      else if (p.action === 'stop') this.#hooks.log(`(${p.name}) removing`);
    }

    // From here on nothing is refused, and nothing waits until every instance is in its new shape.
    this.#config = next;
    this.#pacer.configure(next.garpGroups, next.globalDefs.vrrp);
    for (const inst of leaving) this.#retire(inst);
    this.#reloadScripts(next, plan.scripts);
    for (const { inst, ic } of keeping) inst.cfg = ic;
    const updated = updating.map(({ inst, ic }) => ({ inst, before: this.#rebind(inst, ic, placed.get(ic)!) }));
    const fresh = entering.map((ic) => this.#addInstance(ic, placed.get(ic)!));
    this.#regroup();
    for (const { inst, before } of updated) this.#reconfigured(inst, before);
    this.#runTrackedScripts();
    this.#closeIdleChannels();
    for (const inst of fresh) this.#enter(inst);
    await this.#syncVips();
    await this.#pruneVmacs();
    return plan;
  }

  /** Leaves every instance (priority-0 advert from a master), removes every VIP we added, closes the sockets. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    for (const s of this.#scripts.values()) clearTimeout(s.timer);
    this.#files.close();
    this.#processes.close();
    for (const inst of this.#instances) if (inst.m.state !== 'INIT') this.#apply(inst, { kind: 'stop' });
    // The last change sees #stopping: it removes static_* too (keepalived removes them at shutdown).
    await this.#syncVips().catch((e: Error) => this.#hooks.log(`cannot clear addresses and routes: ${e.message}`));
    await this.#drops.remove().catch((e: Error) => this.#hooks.log(`cannot remove the nftables table: ${e.message}`));
    for (const { chan } of this.#channels.values()) chan.close();
    this.#pacer.close();
    for (const inst of this.#instances) inst.announcer.close();
    await this.#vmacs?.removeAll();
    this.#nl?.close();
  }

  status(): { instances: InstanceStatus[]; unmatched: Record<string, Stats> } {
    const unmatched: Record<string, Stats> = {};
    for (const [key, c] of this.#channels) unmatched[key] = { ...c.stats };
    return {
      instances: this.#instances.map((i) => ({
        name: i.cfg.name, state: i.m.state, priority: i.m.priority, master: i.m.master?.address, vmac: i.vmac, stats: { ...i.stats },
        routes: virtualEntries(i.cfg).map((e) => ({ what: describeEntry(e), installed: this.#virtual?.has(e) ?? false })),
      })),
      unmatched,
    };
  }

  /**
   * Checks the instances about to start or change and finds where they run; `staying` are the running ones that
   * stay as they are. Throws a VrrpError for the first instance that cannot run.
   */
  #prepare(config: Config, instances: readonly VrrpInstance[], staying: readonly Instance[]): Map<VrrpInstance, Placement> {
    const nics = networkInterfaces();
    const vrids = new Set(staying.map((i) => `${i.base}/${i.cfg.family}/${i.cfg.vrid}`));
    const placed = new Map<VrrpInstance, Placement>();
    for (const ic of instances) {
      const p = place(ic, nics);
      const key = `${p.base}/${ic.family}/${ic.vrid}`;
      if (vrids.has(key)) throw new VrrpError('VRRP_DUPLICATE_VRID', `(${ic.name}) VRID ${ic.vrid} is used twice on ${p.base}`);
      vrids.add(key);
      instanceSettings(config, ic, p.src);
      placed.set(ic, p);
    }
    return placed;
  }

  /** Opens the sockets the placed instances need and joins their groups; on a failure, closes what it opened. */
  #openChannels(config: Config, placed: ReadonlyMap<VrrpInstance, Placement>): void {
    const opened: string[] = [];
    try {
      for (const [ic, p] of placed) {
        const key = `${p.ifname}/${ic.family}`;
        let ch = this.#channels.get(key);
        if (ch === undefined) {
          const c: Channel = { chan: VrrpChannel.open(p.ifname, ic.family), byVrid: new Map(), stats: zeroStats() };
          c.chan.onPacket((r) => this.#receive(c, r));
          this.#channels.set(key, (ch = c));
          opened.push(key);
        }
        if (!isUnicast(ic)) ch.chan.join(multicastGroup(config, ic.family));
      }
    } catch (err) {
      for (const key of opened) {
        this.#channels.get(key)?.chan.close();
        this.#channels.delete(key);
      }
      throw err;
    }
  }

  /** Makes the placed instances' VMACs ready: refuses a conflicting interface before creating any. */
  async #readyVmacs(placed: ReadonlyMap<VrrpInstance, Placement>): Promise<void> {
    const specs = [...placed.values()].flatMap((p) => (p.vmac ? [p.vmac] : []));
    if (specs.length === 0) return;
    this.#vmacs ??= new Vmacs(this.#nl!, this.#hooks.log);
    await this.#vmacs.check(specs.filter((s) => !this.#vmacs!.has(s.name)));
    for (const s of specs) {
      if (!(await this.#vmacs.ensure(s))) continue;
      // Made afresh: the addresses on the old link went with it, so they are added again.
      for (const [key, vip] of this.#held) if (vip.dev === s.name) this.#held.delete(key);
    }
  }

  /** Removes the VMACs no running instance uses, after the VIP changes queued before (a VIP leaves before its link). */
  #pruneVmacs(): Promise<void> {
    const vmacs = this.#vmacs;
    if (vmacs === undefined) return Promise.resolve();
    const run = this.#vipChain.then(async () => {
      const used = new Set(this.#instances.map((i) => i.vmac));
      for (const name of vmacs.names()) if (!used.has(name)) await vmacs.remove(name).catch((e: Error) => this.#hooks.log(`cannot remove VMAC ${name}: ${e.message}`));
    });
    this.#vipChain = run;
    return run;
  }

  /**
   * A VMAC of ours was deleted under the running instances (`ip link del`): made again at once, as keepalived
   * 2.2.7's recreate_vmac_thread does, after the VIP changes queued before. The sockets and announcers on it are
   * opened on the new link, and the sync that follows adds a master's VIPs back and announces them (gratuitous
   * ARP / NA from the virtual MAC), so a neighbour's entry for a VIP stays valid.
   */
  #vmacLost(name: string, ifindex: number): void {
    const vmacs = this.#vmacs;
    if (vmacs === undefined || this.#stopping) return;
    this.#hooks.log(`VMAC ${name} was deleted; making it again`);
    this.#vipChain = this.#vipChain.then(async () => {
      if (this.#stopping) return;
      try {
        if (!(await vmacs.recreate(name, ifindex))) return;
        for (const [key, vip] of this.#held) if (vip.dev === name) this.#held.delete(key);
        this.#virtual?.forgetDev(name);
        this.#statics?.forgetDev(name);
        for (const ch of this.#channels.values()) if (ch.chan.ifname === name) this.#reopenChannel(ch);
        for (const inst of this.#instances) if (inst.vmac === name) inst.announcer.reopen();
      } catch (e) {
        this.#hooks.log(`cannot make VMAC ${name} again: ${(e as Error).message}`);
      }
    });
    void this.#syncVips();
  }

  /** A channel's socket on its interface made again: the same instances, the same groups joined. */
  #reopenChannel(ch: Channel): void {
    const fresh = VrrpChannel.open(ch.chan.ifname, ch.chan.family);
    ch.chan.close();
    ch.chan = fresh;
    fresh.onPacket((r) => this.#receive(ch, r));
    for (const inst of ch.byVrid.values()) if (!isUnicast(inst.cfg)) fresh.join(multicastGroup(this.#config, inst.cfg.family));
  }

  #closeIdleChannels(): void {
    for (const [key, ch] of this.#channels) {
      if (ch.byVrid.size > 0) continue;
      ch.chan.close();
      this.#channels.delete(key);
    }
  }

  #addInstance(ic: VrrpInstance, p: Placement): Instance {
    const channel = this.#channels.get(`${p.ifname}/${ic.family}`)!;
    const s = instanceSettings(this.#config, ic, p.src);
    const inst: Instance = {
      cfg: ic,
      ...s,
      params: this.#withDelayedStart(s.params),
      m: initialState(ic.priority, ic.advertIntMs),
      timer: undefined,
      channel,
      src: p.src,
      base: p.base,
      stats: zeroStats(),
      announcer: new Announcer(p.announceOn, p.mac),
      vmac: p.vmac?.name,
      group: undefined,
      takesQueued: 0,
      garpTimers: [],
      garpRefresh: undefined,
    };
    channel.byVrid.set(ic.vrid, inst);
    this.#instances.push(inst);
    this.#byName.set(ic.name, inst);
    return inst;
  }

  #withDelayedStart(params: MachineParams): MachineParams {
    return this.#delayedStartAt === undefined ? params : { ...params, delayedStartAt: this.#delayedStartAt };
  }

  /** Enters the election: BACKUP (MASTER at once for an address owner, FAULT when tracking says so). */
  #enter(inst: Instance): void {
    const { priority, fault } = this.#effective(inst);
    inst.m = initialState(priority, inst.cfg.advertIntMs, fault);
    this.#apply(inst, { kind: 'start' });
  }

  /** Leaves the election as on a stop (priority 0 from a master, VIPs released, notify) and forgets the instance. */
  #retire(inst: Instance): void {
    if (inst.m.state !== 'INIT') this.#apply(inst, { kind: 'stop' });
    inst.channel.byVrid.delete(inst.cfg.vrid);
    this.#instances.splice(this.#instances.indexOf(inst), 1);
    this.#byName.delete(inst.cfg.name);
    this.#vipChain = this.#vipChain.then(() => inst.announcer.close());
  }

  /** Gives a running instance its new settings; returns its previous configuration. */
  #rebind(inst: Instance, ic: VrrpInstance, p: Placement): VrrpInstance {
    const before = inst.cfg;
    const s = instanceSettings(this.#config, ic, p.src);
    inst.cfg = ic;
    inst.src = p.src;
    inst.base = p.base;
    inst.params = this.#withDelayedStart(s.params);
    inst.dsts = s.dsts;
    inst.expect = s.expect;
    inst.tracked = s.tracked;
    if (before.name !== ic.name) {
      this.#byName.delete(before.name);
      this.#byName.set(ic.name, inst);
    }
    return before;
  }

  /** The machine takes the new priority and timers without an election (a master's VIPs follow in #syncVips). */
  #reconfigured(inst: Instance, before: VrrpInstance): void {
    this.#apply(inst, { kind: 'reconfigure', ...this.#effective(inst) });
    if (inst.m.state === 'MASTER' && before.garpMasterRefreshMs !== inst.cfg.garpMasterRefreshMs) this.#armGarpRefresh(inst);
  }

  /** Sync groups from the configuration; a group that remains keeps its state, so its notify does not run again. */
  #regroup(): void {
    const before = this.#groups;
    this.#groups = new Map();
    for (const inst of this.#instances) inst.group = undefined;
    for (const g of this.#config.vrrpSyncGroups) {
      const members = g.members.map((n) => this.#byName.get(n)).filter((x): x is Instance => x !== undefined);
      const group: Group = { cfg: g, members, state: before.get(g.name)?.state ?? 'INIT' };
      for (const m of members) m.group = group;
      this.#groups.set(g.name, group);
    }
  }

  #reloadScripts(next: Config, plan: ScriptPlan): void {
    for (const name of plan.removed) {
      clearTimeout(this.#scripts.get(name)?.timer);
      this.#scripts.delete(name);
    }
    const carried = new Set(plan.carried);
    for (const cfg of next.vrrpScripts) {
      const s = this.#scripts.get(cfg.name);
      if (s === undefined || !carried.has(cfg.name)) {
        clearTimeout(s?.timer);
        this.#scripts.set(cfg.name, newScript(cfg));
        continue;
      }
      const retime = s.cfg.intervalMs !== cfg.intervalMs && s.timer !== undefined;
      s.cfg = cfg;
      if (retime) {
        clearTimeout(s.timer);
        s.timer = setTimeout(() => this.#runScript(s), cfg.intervalMs);
      }
    }
  }

  /** Runs the scripts some instance tracks and stops the others. */
  #runTrackedScripts(): void {
    const tracked = new Set(this.#instances.flatMap((i) => i.tracked.filter((t) => t.kind === 'script').map((t) => t.name)));
    for (const s of this.#scripts.values()) {
      if (tracked.has(s.cfg.name) && s.timer === undefined) this.#runScript(s);
      else if (!tracked.has(s.cfg.name) && s.timer !== undefined) {
        clearTimeout(s.timer);
        s.timer = undefined;
      }
    }
  }

  #effective(inst: Instance): { priority: number; fault: boolean } {
    const tracked: Tracked[] = inst.tracked.map((t) => {
      if (t.kind === 'file') return { value: this.#files.value(t.name), weight: t.weight, reverse: t.reverse };
      if (t.kind === 'process') return { quorum: this.#processes.up(t.name), weight: t.weight, reverse: t.reverse };
      return { up: (t.kind === 'iface' ? this.#ifaceUp.get(t.name) : this.#scripts.get(t.name)?.health.up) ?? false, weight: t.weight, reverse: t.reverse };
    });
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

  #runScript(s: Script): void {
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
        inst.channel.chan.send(payload, inst.src, dst);
        inst.stats.advert_sent++;
        if (priority === 0) inst.stats.pri_zero_sent++;
      } catch (err) {
        this.#hooks.log(`(${inst.cfg.name}) cannot send advert to ${dst}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  #receive(ch: Channel, r: Received): void {
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
    const master = inst.m.state === 'MASTER';
    this.#apply(inst, { kind: 'advert', priority: d.advert.priority, intervalMs: d.advert.intervalMs, src: r.src });
    if (master && inst.m.state === 'MASTER' && d.advert.priority > 0) this.#hooks.rxLowerPri?.({ instance: inst.cfg.name, priority: inst.m.priority, from: r.src, theirs: d.advert.priority });
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
    // Entering the election says nothing about the group: a member that a reload adds must not pull the running
    // members out of MASTER (at start-up every member is entering anyway).
    const force = from === 'INIT' && to === 'BACKUP' ? undefined : syncForce(to);
    if (force !== undefined && !this.#stopping) for (const other of g.members) if (other !== inst && other.m.state !== to) this.#apply(other, force);
    if (g.members.every((m) => m.m.state === to) && g.state !== to) {
      g.state = to;
      this.#hooks.log(`VRRP_Group(${g.cfg.name}) Syncing instances to ${to} state`);
      this.#notify(g.cfg.notify, 'GROUP', g.cfg.name, to, 0);
    }
  }

  #takeVips(inst: Instance): void {
    inst.takesQueued++;
    void this.#syncVips().then(() => {
      inst.takesQueued--;
      if (inst.m.state !== 'MASTER') return;
      this.#announceBurst(inst);
      if (inst.cfg.garpMasterDelayMs > 0) inst.garpTimers.push(setTimeout(() => this.#announceBurst(inst), inst.cfg.garpMasterDelayMs));
      this.#armGarpRefresh(inst);
    });
  }

  #releaseVips(inst: Instance): void {
    for (const t of inst.garpTimers) clearTimeout(t);
    inst.garpTimers = [];
    clearInterval(inst.garpRefresh);
    inst.garpRefresh = undefined;
    void this.#syncVips();
  }

  /**
   * Makes the kernel hold exactly the VIPs of the instances that are MASTER when this change runs, after every
   * change queued before it. So quick flaps, reloads and stops all converge, a master's VIP list follows a reload,
   * and a VIP that a reload moves from one master instance to another is never removed. An address a master gains
   * without becoming MASTER (a reload added it) is announced here. The masters' virtual routes and rules follow
   * the same way (removed before the VIPs, added after them, as keepalived orders them), and static_* are held
   * until stop.
   */
  #syncVips(): Promise<void> {
    const nl = this.#nl;
    const run = this.#vipChain.then(async () => {
      if (nl === undefined) return;
      const gained = new Map<Instance, string[]>();
      const want = new Map<string, { vip: VirtualIp; inst: Instance }>();
      for (const inst of this.#instances) if (inst.m.state === 'MASTER') for (const vip of vipsOf(inst.cfg)) want.set(modelKey(vip), { vip, inst });
      const masters = this.#instances.filter((inst) => inst.m.state === 'MASTER');
      const routes = masters.flatMap((inst) => virtualEntries(inst.cfg));
      const statics = this.#stopping ? [] : staticEntries(this.#config);
      await this.#virtual?.removeUnwanted(routes);
      await this.#statics?.removeUnwanted(statics);
      // As keepalived: an address is in the drop set before it is added, and leaves it after it is removed.
      const drop = new Set([...want.values()].filter(({ inst }) => dropsTraffic(inst.cfg)).map(({ vip }) => vip.address));
      await this.#drops.add(drop).catch((e: Error) => this.#hooks.log(`cannot set the nftables drop rules: ${e.message}`));
      for (const [key, vip] of this.#held) {
        if (want.has(key)) continue;
        this.#held.delete(key);
        await deleteVip(nl, vip).catch((e: Error) => this.#hooks.log(`cannot remove ${vip.address}: ${e.message}`));
      }
      for (const [key, { vip, inst }] of want) {
        if (this.#held.has(key)) continue;
        try {
          await addVip(nl, vip);
          this.#held.set(key, vip);
          gained.set(inst, [...(gained.get(inst) ?? []), vip.address]);
        } catch (e) {
          this.#hooks.log(`(${inst.cfg.name}) ${(e as Error).message}`);
        }
      }
      await this.#statics?.addMissing(statics, 'static: ');
      await this.#virtual?.addMissing(routes);
      await this.#drops.keepOnly(drop).catch((e: Error) => this.#hooks.log(`cannot clear the nftables drop rules: ${e.message}`));
      for (const [inst, addresses] of gained) if (inst.takesQueued === 0) this.#announceBurst(inst, inst.cfg.garpMasterRepeat, addresses);
    });
    this.#vipChain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  #armGarpRefresh(inst: Instance): void {
    clearInterval(inst.garpRefresh);
    inst.garpRefresh = undefined;
    const every = inst.cfg.garpMasterRefreshMs;
    if (every > 0) inst.garpRefresh = setInterval(() => this.#announceBurst(inst, inst.cfg.garpMasterRefreshRepeat), every);
  }

  /**
   * A burst of gratuitous ARPs / NAs for the instance's VIPs (or only `addresses`) while it is MASTER, back to back
   * unless the interface is paced (garp-pacer.ts).
   */
  #announceBurst(inst: Instance, repeat = inst.cfg.garpMasterRepeat, addresses?: readonly string[]): void {
    if (inst.m.state !== 'MASTER') return;
    // Paced by the configured interface: garp_group names base interfaces, as keepalived applies a base's to its VMACs.
    const ifname = inst.base;
    const live = () => inst.m.state === 'MASTER' && !this.#stopping;
    const list = addresses ?? vipsOf(inst.cfg).map((v) => v.address);
    for (let i = 0; i < Math.max(1, repeat); i++) {
      for (const address of list) {
        const send = () => {
          try {
            inst.announcer.announce(address);
          } catch (err) {
            this.#hooks.log(`(${inst.cfg.name}) cannot announce ${address}: ${err instanceof Error ? err.message : String(err)}`);
          }
        };
        this.#pacer.announce({ ifname, family: inetFamily(address) === 4 ? 4 : 6, owner: inst, address, live, send });
      }
    }
  }

  #notify(n: VrrpInstance['notify'], kind: 'INSTANCE' | 'GROUP', name: string, state: VrrpStateName, priority: number): void {
    for (const { command, user } of notifyCommands(n, kind, name, state, priority)) void this.#exec(command, NOTIFY_TIMEOUT_MS, user);
  }
}

/** Checks what the engine cannot run and finds the interface and primary address; throws a VrrpError. */
function place(ic: VrrpInstance, nics: NodeJS.Dict<NetworkInterfaceInfo[]>): Placement {
  if (ic.auth?.type === 'AH') throw new VrrpError('VRRP_AH_UNSUPPORTED', `(${ic.name}) auth_type AH (IPSEC-AH) is not supported; use PASS or no authentication`);
  if (ic.version === 2 && ic.family === 6) throw new VrrpError('VRRP_V2_IPV6', `(${ic.name}) VRRP version 2 does not support IPv6; use version 3`);
  const unicast = isUnicast(ic);
  const ifname = ic.interface || interfaceHolding(nics, ic.unicastSrcIp ?? ic.mcastSrcIp);
  if (ifname === undefined) throw new VrrpError('VRRP_NO_INTERFACE', `(${ic.name}) no interface holds unicast_src_ip ${ic.unicastSrcIp ?? ic.mcastSrcIp ?? '(none)'}`);
  const addrs = nics[ifname];
  if (addrs === undefined) throw new VrrpError('VRRP_NO_INTERFACE', `(${ic.name}) interface ${ifname} does not exist`);
  const own = addrs.find((n) => (ic.family === 4 ? n.family === 'IPv4' : n.family === 'IPv6' && n.address.startsWith('fe80')));
  const src = (unicast ? ic.unicastSrcIp : undefined) ?? ic.mcastSrcIp ?? own?.address;
  if (src === undefined) throw new VrrpError('VRRP_NO_SOURCE', `(${ic.name}) interface ${ifname} has no IPv${ic.family} address to send adverts from`);
  if (ic.useVmac === undefined) return { ifname, src, announceOn: ifname, mac: macBytes(addrs[0]?.mac ?? '00:00:00:00:00:00'), base: ifname, vmac: undefined };
  const mac = vmacAddress(ic);
  const vmac: VmacSpec = {
    instance: ic.name, name: ic.useVmac, base: ifname, baseIndex: sys().ifNameToIndex(ifname), mac, family: ic.family,
    // An IPv6 VMAC sends from the base's link-local address, which it carries itself (vrrp_vmac.c set_link_local_address).
    ...(ic.family === 6 && !ic.vmacXmitBase ? { linkLocal: src } : {}),
  };
  return { ifname: ic.vmacXmitBase ? ifname : ic.useVmac, src, announceOn: ic.useVmac, mac: macBytes(mac), base: ifname, vmac };
}

/** The interface an instance without one sends on: the one holding its source address. */
function interfaceHolding(nics: NodeJS.Dict<NetworkInterfaceInfo[]>, address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  for (const [name, addrs] of Object.entries(nics)) if (addrs?.some((a) => a.address === address)) return name;
  return undefined;
}

/** The track_file blocks the configuration's instances follow (after the sync-group and owner rules). */
function trackedFiles(c: Config): TrackFile[] {
  const names = trackedNames(c, 'file');
  return c.trackFiles.filter((f) => names.has(f.name));
}

function trackedProcesses(c: Config): VrrpTrackProcess[] {
  const names = trackedNames(c, 'process');
  return c.vrrpTrackProcesses.filter((p) => names.has(p.name));
}

function trackedNames(c: Config, kind: TrackSource['kind']): Set<string> {
  return new Set(c.vrrpInstances.flatMap((ic) => trackSources(c, ic).filter((t) => t.kind === kind).map((t) => t.name)));
}

function linkUp(l: Link): boolean {
  return l.up && (l.lowerUp || l.operState === 'unknown');
}

function newScript(cfg: VrrpScript): Script {
  return { cfg, health: initialScriptHealth(cfg.initFail), timer: undefined, running: false };
}

function zeroStats(): Stats {
  return Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Stats;
}

/** Accept mode off: the VIPs answer nothing while held (keepalived never drops for the address owner). */
function dropsTraffic(ic: VrrpInstance): boolean {
  return !ic.accept && ic.priority !== PRIO_OWNER;
}
