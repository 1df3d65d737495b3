// Namespace lab: garp_group. Three instances on one interface take over together; with a garp_group their
// gratuitous ARPs leave one per garp_interval (each address's repeats folded into one pending packet), where
// without one they leave as a burst. A keepalived 2.2.7 on the same LAN with the same configuration shows the
// same folding and pace. The same for unsolicited NAs and gna_interval.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToAddr } from '../../src/vrrp/addr.ts';
import { gratuitousArps, haveCommand, instanceConf, Lab, labUnavailable, readPcap, START_MS, sleep, waitFor } from './lab.ts';

const skip = labUnavailable() ?? (haveCommand('tcpdump') ? undefined : 'needs tcpdump');
const INTERVAL_MS = 200;
/** Capture timestamps are taken on the bridge, after the veth: two packets may come a little closer than they left. */
const CAPTURE_SLACK_MS = 5;

/** Three instances on eth0, VIPs 10.82.0.<base+1..3>; VRIDs from `base` so two directors on the LAN never meet. */
function conf(base: number, paced: boolean): string {
  const group = paced ? `garp_group {\n  garp_interval ${INTERVAL_MS / 1000}\n  interface eth0\n}\n` : '';
  return group + [1, 2, 3].map((i) => instanceConf({
    name: `VI_${i}`, vrid: base + i, priority: 150, advert: 0.1, vips: [`10.82.0.${base + i}/24`], extra: '  garp_master_delay 0',
  })).join('');
}

const vips = (base: number) => [1, 2, 3].map((i) => `10.82.0.${base + i}`);

function arpTimes(pcap: string, base: number): { address: string; t: number }[] {
  const frames = readPcap(pcap);
  return vips(base).flatMap((address) => gratuitousArps(frames, address).map((t) => ({ address, t }))).sort((a, b) => a.t - b.t);
}

const gaps = (ts: readonly { t: number }[]) => ts.slice(1).map((x, i) => x.t - ts[i]!.t);

test('garp_group: three instances on one interface announce one ARP per garp_interval, as keepalived; without it, a burst', { skip, timeout: 90_000 }, async (t) => {
  const lab = new Lab('garp');
  t.after(() => lab.cleanup());
  const withKeepalived = haveCommand('keepalived');
  lab.setup({ paced: ['10.82.0.1/24'], burst: ['10.82.0.2/24'], ...(withKeepalived ? { ka: ['10.82.0.3/24'] } : {}) });
  const cap = await lab.capture('lan', 'arp');
  const paced = lab.ipvsTs('paced', conf(10, true));
  const burst = lab.ipvsTs('burst', conf(20, false));
  const ka = withKeepalived ? lab.keepalived('ka', conf(30, true)) : undefined;
  const mastered = (p: typeof paced) => ['VI_1', 'VI_2', 'VI_3'].every((n) => lab.states(p, n).includes('MASTER'));
  await waitFor('every instance master', () => mastered(paced) && mastered(burst) && (ka === undefined || mastered(ka)), 2 * START_MS).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails()}`);
  });
  // Each paced director sends 1 + 3 ARPs (see below) over 3 intervals; wait for them to be on the wire.
  await waitFor('the paced ARPs', () => arpTimes(cap.pcap, 10).length >= 4 && (ka === undefined || arpTimes(cap.pcap, 30).length >= 4), START_MS);
  await sleep(3 * INTERVAL_MS);
  await cap.stop();

  const mine = arpTimes(cap.pcap, 10);
  t.diagnostic(`ipvs-ts paced: ${mine.map((x) => x.address).join(' ')}; gaps ${gaps(mine).map((g) => g.toFixed(1)).join(', ')} ms`);
  // An address that finds the interface free leaves at once and its four repeats fold into one pending packet; one
  // that finds it busy waits, its five repeats folded into one. So 2, 1, 1 when the three take over together (the
  // usual case), up to 2 each when a loaded host spreads the takeovers over more than an interval.
  const count = vips(10).map((a) => mine.filter((x) => x.address === a).length);
  assert.ok(count.every((n) => n >= 1 && n <= 2) && count.includes(2), `ipvs-ts: ${count.join(', ')} ARPs per address`);
  assert.ok(gaps(mine).every((g) => g >= INTERVAL_MS - CAPTURE_SLACK_MS), `gaps ≥ ${INTERVAL_MS} ms`);
  assert.ok(gaps(mine).every((g) => g < INTERVAL_MS + 1000), 'and not held back much longer (a generous bound: the host is shared)');

  const all = arpTimes(cap.pcap, 20);
  t.diagnostic(`ipvs-ts unpaced: ${all.length} ARPs over ${(all.at(-1)!.t - all[0]!.t).toFixed(1)} ms`);
  assert.deepEqual(vips(20).map((a) => all.filter((x) => x.address === a).length), [5, 5, 5], 'garp_master_repeat 5 for each VIP');

  if (ka !== undefined) {
    const theirs = arpTimes(cap.pcap, 30);
    t.diagnostic(`keepalived paced: ${theirs.map((x) => x.address).join(' ')}; gaps ${gaps(theirs).map((g) => g.toFixed(1)).join(', ')} ms`);
    // keepalived also sends an address at once whenever the interface is free, even past queued ones, and measures
    // the pace from a cached clock, so its gaps may come in a little short. What holds for both: one or two ARPs
    // per address instead of five, a pace instead of a burst.
    const theirCount = vips(30).map((a) => theirs.filter((x) => x.address === a).length);
    assert.ok(theirCount.every((n) => n >= 1 && n <= 2), `keepalived: ${theirCount.join(', ')} ARPs per address`);
    assert.ok(gaps(theirs).every((g) => g >= INTERVAL_MS / 2), 'keepalived paces them too');
  }
});

/** Capture times of unsolicited neighbour advertisements (ICMPv6 type 136) by target address. */
function naTimes(pcap: string, targets: readonly string[]): { address: string; t: number }[] {
  return readPcap(pcap).flatMap(({ timeMs, frame }) => {
    if (frame.length < 14 + 40 + 24 || frame.readUInt16BE(12) !== 0x86dd || frame[14 + 6] !== 58 || frame[14 + 40] !== 136) return [];
    const address = bytesToAddr(frame.subarray(14 + 48, 14 + 64));
    return targets.includes(address) ? [{ address, t: timeMs }] : [];
  }).sort((a, b) => a.t - b.t);
}

test('garp_group gna_interval: three IPv6 instances on one interface announce one NA per interval', { skip, timeout: 90_000 }, async (t) => {
  const lab = new Lab('gna');
  t.after(() => lab.cleanup());
  lab.setup({ paced: ['fd82::1/64'] });
  const targets = [1, 2, 3].map((i) => `fd82::1${i}`);
  const conf = `garp_group {\n  gna_interval ${INTERVAL_MS / 1000}\n  interface eth0\n}\n` + [1, 2, 3].map((i) => instanceConf({
    name: `VI_${i}`, vrid: i, priority: 150, advert: 0.1, vips: [`fd82::1${i}/64`], extra: '  garp_master_delay 0',
  })).join('');
  const cap = await lab.capture('lan', 'icmp6');
  const paced = lab.ipvsTs('paced', conf);
  await waitFor('every instance master', () => ['VI_1', 'VI_2', 'VI_3'].every((n) => lab.states(paced, n).includes('MASTER')), 2 * START_MS).catch((e: Error) => {
    throw new Error(`${e.message}\n${lab.logTails()}`);
  });
  await waitFor('the paced NAs', () => naTimes(cap.pcap, targets).length >= 4, START_MS);
  await sleep(3 * INTERVAL_MS);
  await cap.stop();
  const nas = naTimes(cap.pcap, targets);
  t.diagnostic(`ipvs-ts paced NAs: ${nas.map((x) => x.address).join(' ')}; gaps ${gaps(nas).map((g) => g.toFixed(1)).join(', ')} ms`);
  const count = targets.map((a) => nas.filter((x) => x.address === a).length);
  assert.ok(count.every((n) => n >= 1 && n <= 2) && count.includes(2), `${count.join(', ')} NAs per address`);
  assert.ok(gaps(nas).every((g) => g >= INTERVAL_MS - CAPTURE_SLACK_MS), `gaps ≥ ${INTERVAL_MS} ms`);
});
