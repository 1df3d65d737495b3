// Tracking as keepalived does it: vrrp_script results pass through rise/fall counters; tracked scripts and
// interfaces add their weight to the base priority, or with weight 0 put the instance in FAULT; a tracked file adds
// its value times its weight (track_file.c), a tracked process its weight by its quorum (vrrp_track.c).

/** One script's debounced health: `up` flips after `rise` successes or `fall` failures in a row. */
export interface ScriptHealth {
  readonly up: boolean;
  readonly streak: number;
}

export function initialScriptHealth(initFail: boolean): ScriptHealth {
  return { up: !initFail, streak: 0 };
}

export function scriptResult(h: ScriptHealth, success: boolean, rise: number, fall: number): ScriptHealth {
  if (success === h.up) return { up: h.up, streak: 0 };
  const streak = h.streak + 1;
  return streak >= (success ? rise : fall) ? { up: success, streak: 0 } : { up: h.up, streak };
}

export type Tracked = TrackedUpDown | TrackedFile | TrackedProcess;

export interface TrackedUpDown {
  readonly up: boolean;
  /** Resolved weight: the track block's override, else the script's own (interfaces default to 0). */
  readonly weight: number;
  /**
   * `weight N reverse`: the weight counts negated, when it would count without reverse (a positive one while up, a
   * negative one while down); with weight 0, up is FAULT instead of down.
   */
  readonly reverse?: boolean;
}

export interface TrackedFile {
  /** The number the file holds (0 when it is missing or holds none). */
  readonly value: number;
  readonly weight: number;
  readonly reverse?: boolean;
}

export interface TrackedProcess {
  /** quorum ≤ matching processes ≤ quorum_max. */
  readonly quorum: boolean;
  readonly weight: number;
  readonly reverse?: boolean;
}

/**
 * What one tracked process does (vrrp_track.c, 2.2.x): `reverse` negates the weight rather than the verdict, so a
 * positive weight is added (negated) while the quorum holds and a negative one while it does not; weight 0 makes a
 * lost quorum FAULT (a held one with `reverse`).
 */
export function processEffect(quorum: boolean, weight: number, reverse: boolean): { delta: number; fault: boolean } {
  if (weight === 0) return { delta: 0, fault: quorum === reverse };
  const signed = reverse ? -weight : weight;
  return { delta: (weight > 0) === quorum ? signed : 0, fault: false };
}

/** keepalived's bounds on what one track file does to a VRRP priority: −254 or below is FAULT, at most +253. */
const FILE_FAULT = -254;
const FILE_MAX = 253;

/**
 * What one tracked file does (track_file.c, 2.2.x): with weight 0 its value is a status (non-zero = FAULT, zero
 * with `reverse`); otherwise value × weight (negated with `reverse`) is added, and a sum of −254 or less is FAULT.
 */
export function fileEffect(value: number, weight: number, reverse: boolean): { delta: number; fault: boolean } {
  if (weight === 0) return { delta: 0, fault: (value !== 0) !== reverse };
  const product = value * weight * (reverse ? -1 : 1);
  return product <= FILE_FAULT ? { delta: 0, fault: true } : { delta: Math.min(FILE_MAX, product), fault: false };
}

/**
 * The effective priority and fault flag for a base priority and its tracked objects. Positive weights add while
 * up, negative ones add while down (negated with `reverse`); the result stays in 1..254 unless the instance owns
 * the address (255).
 */
export function effectivePriority(base: number, tracked: readonly Tracked[]): { priority: number; fault: boolean } {
  let delta = 0;
  let fault = false;
  for (const t of tracked) {
    if ('value' in t || 'quorum' in t) {
      const f = 'value' in t ? fileEffect(t.value, t.weight, t.reverse === true) : processEffect(t.quorum, t.weight, t.reverse === true);
      fault ||= f.fault;
      delta += f.delta;
      continue;
    }
    // As for processes (vrrp_track.c, keepalived_netlink.c): `reverse` negates the weight, not the verdict.
    const sign = t.reverse === true ? -1 : 1;
    if (t.weight === 0) fault ||= t.up === (t.reverse === true);
    else if (t.weight > 0 && t.up) delta += t.weight * sign;
    else if (t.weight < 0 && !t.up) delta += t.weight * sign;
  }
  if (base === 255) return { priority: 255, fault };
  return { priority: Math.min(254, Math.max(1, base + delta)), fault };
}
