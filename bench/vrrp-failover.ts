// Failover time of ipvs-ts pairs against keepalived pairs in the namespace lab, measured the same way for both:
// the gap between the master's last advert and the backup's first, from a tcpdump capture on the LAN bridge.
// SIGKILL of the master (bound 3 × advert + skew) and graceful stop (priority-0 advert; bound skew time).
//
//   node bench/vrrp-failover.ts [runs-v2] [runs-v3]        (root; needs keepalived and tcpdump)
import { advertFields, instanceConf, Lab, readPcap, sleep, START_MS, waitFor, type Proc } from '../test/vrrp/lab.ts';
import { masterDownMs, skewMs } from '../src/vrrp/machine.ts';

type Impl = 'keepalived' | 'ipvs-ts';
const M = '10.82.0.1';
const B = '10.82.0.2';

async function once(lab: Lab, impl: Impl, version: 2 | 3, advert: number, graceful: boolean, run: number): Promise<number> {
  const conf = (priority: number) => instanceConf({ vrid: 60, priority, version, advert, vips: ['10.82.0.100/24'] });
  const start = (node: string, priority: number, name: string): Proc =>
    impl === 'keepalived' ? lab.keepalived(node, conf(priority), name) : lab.ipvsTs(node, conf(priority), name);
  const mName = `${impl}-m${run}${graceful ? 'g' : 'k'}v${version}`;
  const m = start('m', 150, mName);
  await waitFor('master', () => lab.entered(m, 'MASTER') > 0, START_MS);
  const b = start('b', 100, `${impl}-b${run}${graceful ? 'g' : 'k'}v${version}`);
  await waitFor('backup', () => lab.entered(b, 'BACKUP') > 0, START_MS);
  await sleep(3 * advert * 1000);
  const pcap = `${lab.dir}/${mName}.pcap`;
  const dump = lab.start('lan', ['tcpdump', '-i', 'br0', '-n', '-U', '--immediate-mode', '-w', pcap, 'ip proto 112'], `tcpdump-${mName}`);
  await waitFor('tcpdump', () => lab.readLog(dump).includes('listening on'), START_MS);
  // The capture must hold at least one advert of the master.
  await sleep(1.5 * advert * 1000);
  if (graceful) m.child.kill('SIGTERM');
  else if (impl === 'keepalived') lab.killKeepalived(m, mName);
  else m.child.kill('SIGKILL');
  await waitFor('takeover', () => lab.entered(b, 'MASTER') > 0, START_MS);
  await sleep(advert * 1000 + 200);
  await lab.stop(dump);
  await Promise.all([lab.stop(m, 'SIGKILL'), lab.stop(b, 'SIGKILL')]);
  const ads = readPcap(pcap).flatMap((p) => {
    const f = advertFields(p.frame);
    return f === undefined ? [] : [{ t: p.timeMs, src: f.src, prio: f.priority }];
  });
  const firstB = ads.find((a) => a.src === B);
  const lastM = ads.filter((a) => a.src === M && a.t < (firstB?.t ?? Infinity)).at(-1);
  if (firstB === undefined || lastM === undefined) throw new Error(`${mName}: no handover in the capture`);
  if (graceful && lastM.prio !== 0) throw new Error(`${mName}: the master's last advert was not priority 0`);
  return firstB.t - lastM.t;
}

function summary(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const med = s[Math.floor(s.length / 2)] ?? NaN;
  return `${(med / 1000).toFixed(3)} s (${((s[0] ?? NaN) / 1000).toFixed(3)}–${((s.at(-1) ?? NaN) / 1000).toFixed(3)})`;
}

const runsV2 = Number(process.argv[2] ?? 3);
const runsV3 = Number(process.argv[3] ?? 5);
const lab = new Lab('bfo');
try {
  lab.setup({ m: [`${M}/24`], b: [`${B}/24`] });
  console.log('| scenario | bound | keepalived 2.2.7 median (min–max) | ipvs-ts median (min–max) |');
  console.log('|---|---|---|---|');
  for (const [version, advert, runs] of [[2, 1, runsV2], [3, 0.1, runsV3]] as const) {
    for (const graceful of [false, true]) {
      const res: Record<Impl, number[]> = { keepalived: [], 'ipvs-ts': [] };
      for (let r = 0; r < runs; r++) for (const impl of ['keepalived', 'ipvs-ts'] as const) res[impl].push(await once(lab, impl, version, advert, graceful, r));
      const bound = graceful ? skewMs(100, advert * 1000) : masterDownMs(100, advert * 1000);
      console.log(`| v${version} advert ${advert} s, ${graceful ? 'graceful stop' : 'SIGKILL'} (${runs} runs) | ${(bound / 1000).toFixed(3)} s | ${summary(res.keepalived)} | ${summary(res['ipvs-ts'])} |`);
    }
  }
} finally {
  await lab.cleanup();
}
