// Tracking as keepalived does it: vrrp_script results pass through rise/fall counters; tracked scripts and
// interfaces add their weight to the base priority, or with weight 0 put the instance in FAULT.

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

export interface Tracked {
  readonly up: boolean;
  /** Resolved weight: the track block's override, else the script's own (interfaces default to 0). */
  readonly weight: number;
  /** `weight N reverse`: a success counts as a failure and the other way round. */
  readonly reverse?: boolean;
}

/**
 * The effective priority and fault flag for a base priority and its tracked objects. Positive weights add while
 * up, negative ones add while down; the result stays in 1..254 unless the instance owns the address (255).
 */
export function effectivePriority(base: number, tracked: readonly Tracked[]): { priority: number; fault: boolean } {
  let delta = 0;
  let fault = false;
  for (const t of tracked) {
    const up = t.reverse === true ? !t.up : t.up;
    if (t.weight === 0) fault ||= !up;
    else if (t.weight > 0 && up) delta += t.weight;
    else if (t.weight < 0 && !up) delta += t.weight;
  }
  if (base === 255) return { priority: 255, fault };
  return { priority: Math.min(254, Math.max(1, base + delta)), fault };
}
