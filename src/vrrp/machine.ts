// The RFC 5798 state machine of one VRRP instance as a pure function of (parameters, state, event, now). The I/O
// layer owns the clock and sockets; it applies the returned actions (send an advert, enter a state) and calls
// step() again with 'timer' when `timer` is reached. Where RFC 5798 and keepalived differ, keepalived wins, so
// mixed pairs elect the same master.
import { compareAddr } from './addr.ts';

export type VrrpStateName = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';

export const PRIO_OWNER = 255;

export interface MachineParams {
  readonly version: 2 | 3;
  readonly advertIntMs: number;
  /** keepalived honours nopreempt only when the configured state is BACKUP; the caller folds that in. */
  readonly preempt: boolean;
  readonly preemptDelayMs: number;
  /** Our primary address: the advert source the peers compare on equal priority. */
  readonly primaryAddress: string;
  /** Strict mode: a master ignores a lower-priority advert rather than answering it (keepalived's lower_prio_no_advert). */
  readonly lowerPrioNoAdvert?: boolean;
  /**
   * vrrp_startup_delay: until this time a backup's Master_Down_Timer runs from it rather than from now, as
   * keepalived's vrrp_init_instance_sands does (a master, an address owner included, is not held back).
   */
  readonly delayedStartAt?: number;
}

export interface MachineState {
  readonly state: VrrpStateName;
  /** Effective priority: base priority adjusted by tracking. */
  readonly priority: number;
  /** Tracking says FAULT (a weight-0 script failed or a tracked interface is down). */
  readonly fault: boolean;
  /** RFC 5798 Master_Adver_Interval: ours until a v3 master tells us its own. */
  readonly masterAdvertIntMs: number;
  /** Absolute time of the running timer: Adver_Timer as master, Master_Down_Timer as backup. */
  readonly timer: number | undefined;
  /** preempt_delay: when a lower-priority master may be preempted (keepalived's preempt_time). */
  readonly preemptAt: number | undefined;
  readonly master: { readonly address: string; readonly priority: number } | undefined;
}

export type MachineEvent =
  | { readonly kind: 'start' }
  | { readonly kind: 'timer' }
  | { readonly kind: 'advert'; readonly priority: number; readonly intervalMs: number; readonly src: string }
  | { readonly kind: 'track'; readonly priority: number; readonly fault: boolean }
  /**
   * A reload changed the instance in place: `params` passed with it are the new ones, priority and fault are the
   * effective ones under the new configuration.
   */
  | { readonly kind: 'reconfigure'; readonly priority: number; readonly fault: boolean }
  /** A sync group moves this member with the others. */
  | { readonly kind: 'force'; readonly state: 'MASTER' | 'BACKUP' | 'FAULT' }
  | { readonly kind: 'stop' };

export type MachineAction =
  | { readonly kind: 'send'; readonly priority: number }
  | { readonly kind: 'transition'; readonly from: VrrpStateName; readonly to: VrrpStateName };

export interface StepResult {
  readonly state: MachineState;
  readonly actions: readonly MachineAction[];
}

export function initialState(priority: number, advertIntMs: number, fault = false): MachineState {
  return { state: 'INIT', priority, fault, masterAdvertIntMs: advertIntMs, timer: undefined, preemptAt: undefined, master: undefined };
}

/** RFC 5798 Skew_Time, from the master's interval (v2: the interval is ours, the same by configuration). */
export function skewMs(priority: number, masterAdvertIntMs: number): number {
  return ((256 - priority) * masterAdvertIntMs) / 256;
}

/** RFC 5798 Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time. */
export function masterDownMs(priority: number, masterAdvertIntMs: number): number {
  return 3 * masterAdvertIntMs + skewMs(priority, masterAdvertIntMs);
}

export function step(p: MachineParams, s: MachineState, ev: MachineEvent, now: number): StepResult {
  switch (ev.kind) {
    case 'start':
      if (s.state !== 'INIT') return same(s);
      if (s.fault) return to(s, 'FAULT', { timer: undefined });
      if (s.priority === PRIO_OWNER) return becomeMaster(p, s, now);
      return toBackup(p, s, now, s.masterAdvertIntMs);
    case 'timer':
      if (s.timer === undefined || now < s.timer) return same(s);
      if (s.state === 'MASTER') return { state: { ...s, timer: now + p.advertIntMs }, actions: [{ kind: 'send', priority: s.priority }] };
      if (s.state === 'BACKUP') return becomeMaster(p, s, now);
      return same(s);
    case 'advert':
      if (s.state === 'BACKUP') return backupAdvert(p, s, ev, now);
      if (s.state === 'MASTER') return masterAdvert(p, s, ev, now);
      return same(s);
    case 'track':
      return track(p, { ...s, priority: ev.priority, fault: ev.fault }, now);
    case 'reconfigure':
      return reconfigure(p, s, ev, now);
    case 'force':
      if (ev.state === 'FAULT') return s.state === 'FAULT' || s.state === 'STOP' || s.state === 'INIT' ? same(s) : enterFault(s);
      if (ev.state === 'MASTER') return s.state === 'BACKUP' ? becomeMaster(p, s, now) : same(s);
      if (s.state === 'MASTER') return toBackup(p, s, now, s.masterAdvertIntMs);
      if (s.state === 'FAULT' && !s.fault) return toBackup(p, s, now, p.advertIntMs);
      return same(s);
    case 'stop':
      if (s.state === 'STOP') return same(s);
      return to(s, 'STOP', { timer: undefined }, s.state === 'MASTER' ? [{ kind: 'send', priority: 0 }] : []);
  }
}

function backupAdvert(p: MachineParams, s: MachineState, ev: { priority: number; intervalMs: number; src: string }, now: number): StepResult {
  const master = { address: ev.src, priority: ev.priority };
  // The master is leaving: take over after Skew_Time only, so the highest-priority backup wins the race.
  if (ev.priority === 0) return same({ ...s, master, timer: backupTimer(p, now, skewMs(s.priority, s.masterAdvertIntMs)) });
  const delaying = p.preemptDelayMs > 0 && (s.preemptAt === undefined || s.preemptAt > now);
  if (!p.preempt || ev.priority >= s.priority || delaying) {
    const masterInt = p.version === 3 ? ev.intervalMs : s.masterAdvertIntMs;
    let preemptAt = s.preemptAt;
    if (p.preemptDelayMs > 0) {
      if (ev.priority >= s.priority) preemptAt = undefined;
      else if (preemptAt === undefined) preemptAt = now + p.preemptDelayMs;
    }
    const timer = backupTimer(p, now, masterDownMs(s.priority, masterInt));
    return same({ ...s, master, masterAdvertIntMs: masterInt, preemptAt, timer });
  }
  // A lower-priority master we may preempt: ignore its adverts and let Master_Down_Timer run out (keepalived).
  return same({ ...s, master });
}

function masterAdvert(p: MachineParams, s: MachineState, ev: { priority: number; intervalMs: number; src: string }, now: number): StepResult {
  if (ev.priority === 0) return { state: s, actions: [{ kind: 'send', priority: s.priority }] };
  const theirsWins = ev.priority > s.priority || (ev.priority === s.priority && compareAddr(ev.src, p.primaryAddress) > 0);
  if (theirsWins) {
    const masterInt = p.version === 3 ? ev.intervalMs : s.masterAdvertIntMs;
    return toBackup(p, { ...s, master: { address: ev.src, priority: ev.priority } }, now, masterInt);
  }
  // A lower-priority master: assert ourselves at once so it steps down (keepalived's "forcing new election"),
  // except in strict mode, where RFC 5798 says to discard it.
  if (p.lowerPrioNoAdvert) return same(s);
  return { state: s, actions: [{ kind: 'send', priority: s.priority }] };
}

function track(p: MachineParams, s: MachineState, now: number): StepResult {
  if (s.state === 'INIT' || s.state === 'STOP') return same(s);
  if (s.fault) return s.state === 'FAULT' ? same(s) : enterFault(s);
  if (s.state === 'FAULT') return toBackup(p, s, now, p.advertIntMs);
  return same(s);
}

/**
 * No election: a master announces a new priority or interval at once (and counts its next advert from now), so the
 * backups see it without waiting; a backup whose new priority beats the master's then preempts by the usual rules
 * (the master's adverts stop restarting its timer). A v2 backup also times the master with the new interval, which
 * the whole group shares by configuration; a v3 backup keeps the one the master sends.
 */
function reconfigure(p: MachineParams, before: MachineState, ev: { priority: number; fault: boolean }, now: number): StepResult {
  const s = { ...before, priority: ev.priority, fault: ev.fault };
  if (s.state === 'INIT' || s.state === 'STOP' || s.fault || s.state === 'FAULT') return track(p, s, now);
  if (s.state === 'MASTER') {
    if (s.priority === before.priority && s.masterAdvertIntMs === p.advertIntMs) return same(s);
    return { state: { ...s, masterAdvertIntMs: p.advertIntMs, timer: now + p.advertIntMs }, actions: [{ kind: 'send', priority: s.priority }] };
  }
  return same(p.version === 2 ? { ...s, masterAdvertIntMs: p.advertIntMs } : s);
}

function enterFault(s: MachineState): StepResult {
  return to(s, 'FAULT', { timer: undefined, preemptAt: undefined }, s.state === 'MASTER' ? [{ kind: 'send', priority: 0 }] : []);
}

function becomeMaster(p: MachineParams, s: MachineState, now: number): StepResult {
  return to(s, 'MASTER', { timer: now + p.advertIntMs, preemptAt: undefined, masterAdvertIntMs: p.advertIntMs, master: undefined }, [
    { kind: 'send', priority: s.priority },
  ]);
}

function toBackup(p: MachineParams, s: MachineState, now: number, masterAdvertIntMs: number): StepResult {
  return to(s, 'BACKUP', { masterAdvertIntMs, timer: backupTimer(p, now, masterDownMs(s.priority, masterAdvertIntMs)), preemptAt: undefined });
}

/** When a backup's timer of `ms` runs out: counted from the end of vrrp_startup_delay while that lasts. */
function backupTimer(p: MachineParams, now: number, ms: number): number {
  return (p.delayedStartAt !== undefined && now < p.delayedStartAt ? p.delayedStartAt : now) + ms;
}

function to(s: MachineState, state: VrrpStateName, patch: Partial<MachineState>, before: MachineAction[] = []): StepResult {
  return { state: { ...s, ...patch, state }, actions: [...before, { kind: 'transition', from: s.state, to: state }] };
}

function same(s: MachineState): StepResult {
  return { state: s, actions: [] };
}
