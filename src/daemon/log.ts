// One line per event on stderr (journald adds the time and keeps it): human text by default, JSON with --log-json.
// The lines of one turn of the event loop go out in one write: a burst (a reload, a pool of real servers failing
// together) is one syscall instead of one per line, and stderr writes are synchronous.
import { describeEvent, type DirectorEvent } from '../director/events.ts';

/** Loggers with lines not yet written; written at exit too, should the process end within the turn. */
const unwritten = new Set<() => void>();
let exitHook = false;

export function eventLogger(json: boolean, out: NodeJS.WritableStream = process.stderr): (e: DirectorEvent) => void {
  let pending: string[] = [];
  const flush = (): void => {
    unwritten.delete(flush);
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    out.write(text);
  };
  return (e) => {
    // A pool whose first decision is up is as keepalived presumes it; the director's 'quorum-up' counts them.
    if (e.type === 'quorum' && e.first && e.up) return;
    if (json) pending.push(`${JSON.stringify({ time: new Date(e.at).toISOString(), ...e, message: describeEvent(e) })}\n`);
    else pending.push(`${new Date(e.at).toISOString()} ${e.type === 'error' || e.type === 'vrrp-failed' || e.type === 'ipvs-failed' || (e.type === 'bgp' && e.error) ? 'ERROR ' : ''}${describeEvent(e)}\n`);
    if (unwritten.has(flush)) return;
    unwritten.add(flush);
    process.nextTick(flush);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const f of [...unwritten]) f();
      });
    }
  };
}
