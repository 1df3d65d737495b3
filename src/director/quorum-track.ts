// Lets a virtual server's quorum lower a VRRP instance's priority, so a director whose pool is dead hands the VIP
// to one whose pool is alive. keepalived users script this with a vrrp_script and a flag file; we do the same for
// them, explicitly: for each `--quorum-track "VS=INSTANCE:WEIGHT"` the VRRP engine gets a generated vrrp_script
// that fails while the director has written the virtual server's "quorum down" flag file, tracked by the instance
// with that (negative) weight. The engine stays untouched and the effect is visible in its priority.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Config, VrrpScript } from '../config/model.ts';
import { DirectorError } from './errors.ts';

export interface QuorumTrack {
  /** The virtual server as `ipvs-ts status` names it: `TCP 10.0.0.1:80`, `fwmark 1`, `group NAME`. */
  readonly virtualServer: string;
  readonly instance: string;
  /** Added to the priority while quorum is lost; negative. */
  readonly weight: number;
}

/** How often the engine looks at the flag file: the bound on how late the priority follows the quorum. */
export const QUORUM_TRACK_INTERVAL_MS = 500;

/** `TCP 10.0.0.1:80=VI_1:-50` → a QuorumTrack. */
export function parseQuorumTrack(text: string): QuorumTrack {
  const m = /^(.+)=([^=:]+):(-\d+)$/.exec(text.trim());
  if (!m) throw new DirectorError('DIRECTOR_OPTION', `--quorum-track "${text}": expected "VIRTUAL_SERVER=INSTANCE:-WEIGHT", e.g. "TCP 10.0.0.1:80=VI_1:-50"`);
  const weight = Number(m[3]);
  if (weight < -253) throw new DirectorError('DIRECTOR_OPTION', `--quorum-track "${text}": the weight must be between -253 and -1`);
  return { virtualServer: m[1]!.trim(), instance: m[2]!, weight };
}

export function flagFile(dir: string, virtualServer: string): string {
  return join(dir, `quorum-down-${createHash('sha1').update(virtualServer).digest('hex').slice(0, 12)}`);
}

/** The config the VRRP engine runs: the user's plus one generated script per track. */
export function withQuorumTracks(config: Config, tracks: readonly QuorumTrack[], dir: string): Config {
  if (tracks.length === 0) return config;
  const pos = { file: '<--quorum-track>', line: 0, col: 0 };
  const scripts: VrrpScript[] = tracks.map((t, i) => ({
    name: `__ipvs_ts_quorum_${i}`,
    script: `/usr/bin/test ! -e ${flagFile(dir, t.virtualServer)}`,
    intervalMs: QUORUM_TRACK_INTERVAL_MS,
    weight: t.weight,
    weightReverse: false,
    rise: 1,
    fall: 1,
    initFail: false,
    pos,
  }));
  const instances = config.vrrpInstances.map((inst) => {
    const extra = tracks.flatMap((t, i) => (t.instance === inst.name ? [{ name: `__ipvs_ts_quorum_${i}`, pos }] : []));
    return extra.length ? { ...inst, trackScripts: [...inst.trackScripts, ...extra] } : inst;
  });
  return { ...config, vrrpScripts: [...config.vrrpScripts, ...scripts], vrrpInstances: instances };
}

/** Problems with the tracks against a config: unknown virtual server or instance. */
export function checkQuorumTracks(config: Config, tracks: readonly QuorumTrack[], label: (vs: Config['virtualServers'][number]) => string): string[] {
  const vss = new Set(config.virtualServers.map(label));
  const insts = new Set(config.vrrpInstances.map((i) => i.name));
  return tracks.flatMap((t) => [
    ...(vss.has(t.virtualServer) ? [] : [`--quorum-track: no virtual server "${t.virtualServer}" (known: ${[...vss].join(', ') || 'none'})`]),
    ...(insts.has(t.instance) ? [] : [`--quorum-track: no vrrp_instance "${t.instance}"`]),
  ]);
}
