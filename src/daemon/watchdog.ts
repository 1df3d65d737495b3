// A wedged main thread must not go unnoticed: systemd's watchdog kills and restarts a daemon whose pings stop (the
// restarted one adopts the IPVS table), and shorter stalls that recover are logged and counted instead.
import { sdNotify } from './sd-notify.ts';

/**
 * The ping interval for systemd's watchdog, half of WatchdogSec as sd_watchdog_enabled(3) advises; undefined when
 * the watchdog is off or $WATCHDOG_PID names another process (a script inheriting the environment must not ping).
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

/**
 * Pings from the main event loop, so a blocked loop stops the pings; unref'd, so it never keeps the process alive.
 * Returns the stop function (a no-op when the watchdog is off).
 */
export function startWatchdog(env: NodeJS.ProcessEnv = process.env, pid = process.pid): () => void {
  const ms = watchdogIntervalMs(env, pid);
  if (ms === undefined) return () => {};
  const socket = env.NOTIFY_SOCKET;
  sdNotify('WATCHDOG=1', socket);
  const timer = setInterval(() => sdNotify('WATCHDOG=1', socket), ms);
  timer.unref();
  return () => clearInterval(timer);
}

export interface StallOptions {
  /** How often the loop is sampled; a stall shorter than this plus the threshold may go unseen. */
  readonly sampleMs?: number;
  /** Delay beyond the expected tick that counts as a stall. */
  readonly thresholdMs?: number;
  /** Called once per stall, after the loop runs again, with how late the tick came. */
  readonly onStall: (delayMs: number) => void;
}

/**
 * Timer drift check: a tick that comes much later than scheduled means the loop was blocked that long. Cheaper and
 * more immediate than a histogram poll, and it reports each stall once, when it ends. Returns the stop function.
 */
export function watchStalls({ sampleMs = 250, thresholdMs = 1000, onStall }: StallOptions): () => void {
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - last - sampleMs;
    last = now;
    if (late > thresholdMs) onStall(late);
  }, sampleMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** The log line for a stall, in the form of the daemon's event lines (human or --log-json). */
export function stallLine(json: boolean, delayMs: number, at = Date.now()): string {
  const message = `WARNING event loop blocked for ${(delayMs / 1000).toFixed(1)} s (timers, checks, VRRP adverts on the main thread and the watchdog ping were late)`;
  if (json) return `${JSON.stringify({ time: new Date(at).toISOString(), type: 'event-loop-stall', delayMs: Math.round(delayMs), message })}\n`;
  return `${new Date(at).toISOString()} ${message}\n`;
}
