// One line per event on stderr (journald adds the time and keeps it): human text by default, JSON with --log-json.
import { describeEvent, type DirectorEvent } from '../director/events.ts';

export function eventLogger(json: boolean, out: NodeJS.WritableStream = process.stderr): (e: DirectorEvent) => void {
  return (e) => {
    if (json) out.write(`${JSON.stringify({ time: new Date(e.at).toISOString(), ...e, message: describeEvent(e) })}\n`);
    else out.write(`${new Date(e.at).toISOString()} ${e.type === 'error' || e.type === 'vrrp-failed' || e.type === 'ipvs-failed' || (e.type === 'bgp' && e.error) ? 'ERROR ' : ''}${describeEvent(e)}\n`);
  };
}
