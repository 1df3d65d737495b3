// Pure decisions: compare what the real server needs (needs.ts) with what the host has, and say what `up` changes,
// what `status` reports and what `down` undoes. The host is read and written elsewhere (host.ts).
import type { AddressNeed, Needs, RealServerMode } from './needs.ts';
import type { Owned, OwnedAddress } from './record.ts';

export interface HostAddress {
  readonly address: string;
  readonly prefix: number;
  readonly device: string;
}

export interface HostState {
  /** Link name → administratively up. */
  readonly links: ReadonlyMap<string, boolean>;
  readonly addresses: readonly HostAddress[];
  /** Sysctl key → value; undefined when the sysctl does not exist (its device is missing). */
  readonly sysctls: ReadonlyMap<string, string | undefined>;
}

export type Step =
  | { readonly kind: 'sysctl'; readonly key: string; readonly from: string; readonly to: string }
  | { readonly kind: 'link'; readonly device: string; readonly up: boolean }
  | { readonly kind: 'add-address' | 'del-address'; readonly address: OwnedAddress };

export interface Finding {
  readonly ok: boolean;
  readonly text: string;
}

const DEVICE_DOWN_WHY: Record<string, string> = {
  lo: 'addresses on a down lo are not local, so the VIP\'s packets are dropped',
  tunl0: 'a down tunl0 does not decapsulate, so the director\'s IPIP packets are dropped',
};

export function describeStep(s: Step): string {
  switch (s.kind) {
    case 'sysctl':
      return `~ ${s.key} ${s.from} -> ${s.to}`;
    case 'link':
      return `~ ${s.device} ${s.up ? 'up' : 'down'}`;
    case 'add-address':
      return `+ ${s.address.address}/${s.address.prefix} on ${s.address.device}`;
    case 'del-address':
      return `- ${s.address.address}/${s.address.prefix} from ${s.address.device}`;
  }
}

/**
 * Where a VIP is on this host in a way that `up` must not paper over: on another device (which answers ARP for
 * it) or with a wider prefix (which makes the whole network local). Each is one line naming the fix.
 */
export function conflicts(needs: Needs, host: HostState): string[] {
  const out: string[] = [];
  for (const want of needs.addresses) {
    for (const a of host.addresses.filter((h) => h.address === want.address)) {
      if (a.device !== want.device) {
        out.push(`${want.address} is on ${a.device}; ${needs.mode.toUpperCase()} wants it only on ${want.device} (remove it: ip addr del ${a.address}/${a.prefix} dev ${a.device})`);
      } else if (a.prefix !== want.prefix) {
        out.push(`${want.address}/${a.prefix} on ${a.device} makes its whole network local; a VIP needs /${want.prefix} (remove it: ip addr del ${a.address}/${a.prefix} dev ${a.device})`);
      }
    }
  }
  return out;
}

/** The changes `up` makes, in a safe order: the ARP sysctls before the VIPs, so no moment exists in which the host holds a VIP it answers ARP for. */
export function planUp(needs: Needs, host: HostState): Step[] {
  const steps: Step[] = [];
  for (const s of needs.sysctls) {
    const v = host.sysctls.get(s.key);
    if (v !== undefined && !s.good.includes(v)) steps.push({ kind: 'sysctl', key: s.key, from: v, to: s.set });
  }
  if (host.links.get(needs.device) === false) steps.push({ kind: 'link', device: needs.device, up: true });
  for (const want of needs.addresses) {
    if (!has(host, want)) steps.push({ kind: 'add-address', address: owned(want, needs.mode) });
  }
  return steps;
}

/** What `status` prints: one finding per VIP, device and sysctl. */
export function inspect(needs: Needs, host: HostState): Finding[] {
  const out: Finding[] = [];
  const up = host.links.get(needs.device);
  if (up === undefined) out.push({ ok: false, text: `${needs.device} does not exist${needs.module ? ` (load ${needs.module}: modprobe ${needs.module})` : ''}` });
  else out.push(up ? { ok: true, text: `${needs.device} is up` } : { ok: false, text: `${needs.device} is down: ${DEVICE_DOWN_WHY[needs.device] ?? 'its addresses are unusable'}` });
  for (const want of needs.addresses) {
    out.push(has(host, want) ? { ok: true, text: `${want.address}/${want.prefix} on ${want.device}` } : { ok: false, text: `${want.address}/${want.prefix} is not on ${want.device}: packets for the VIP are dropped` });
  }
  for (const c of conflicts(needs, host)) out.push({ ok: false, text: c });
  for (const s of needs.sysctls) {
    const v = host.sysctls.get(s.key);
    if (v === undefined) continue; // its device is missing, reported above
    out.push(s.good.includes(v) ? { ok: true, text: `${s.key} = ${v}` } : { ok: false, text: `${s.key} is ${v}, want ${s.good.join(' or ')}: ${s.why}` });
  }
  return out;
}

/**
 * What `down` undoes: the recorded VIPs (all, or those named) that are still there, then — once no recorded VIP
 * is left — the links it brought up and the sysctls it changed, each only if it still has the value `up` gave it
 * (an admin who changed it since owns it now). `notes` says what was left alone and why.
 */
export function planDown(owned: Owned, host: HostState, only?: readonly string[]): { steps: Step[]; notes: string[]; remaining: Owned } {
  const steps: Step[] = [];
  const notes: string[] = [];
  const leaving = owned.addresses.filter((a) => !only || only.includes(a.address));
  for (const name of only ?? []) {
    if (!owned.addresses.some((a) => a.address === name)) notes.push(`${name}: not added by \`ipvs-ts realserver up\`; left alone`);
  }
  for (const a of leaving) {
    if (host.addresses.some((h) => h.address === a.address && h.device === a.device && h.prefix === a.prefix)) steps.push({ kind: 'del-address', address: a });
    else notes.push(`${a.address}/${a.prefix} was already gone from ${a.device}`);
  }
  const addresses = owned.addresses.filter((a) => !leaving.includes(a));
  if (addresses.length > 0) return { steps, notes, remaining: { ...owned, addresses } };
  for (const device of owned.links) {
    const stillUsed = host.addresses.some((h) => h.device === device && !leaving.some((a) => a.address === h.address && a.device === device));
    if (stillUsed) notes.push(`${device} left up: it holds addresses ipvs-ts did not add`);
    else if (host.links.get(device) === true) steps.push({ kind: 'link', device, up: false });
  }
  for (const s of owned.sysctls) {
    const v = host.sysctls.get(s.key);
    if (v === s.set) steps.push({ kind: 'sysctl', key: s.key, from: v, to: s.before });
    else if (v !== undefined) notes.push(`${s.key} left at ${v}: changed since \`up\` set it to ${s.set}`);
  }
  return { steps, notes, remaining: { addresses: [], links: [], sysctls: [] } };
}

function has(host: HostState, want: AddressNeed): boolean {
  return host.addresses.some((h) => h.address === want.address && h.device === want.device && h.prefix === want.prefix);
}

function owned(want: AddressNeed, mode: RealServerMode): OwnedAddress {
  return { address: want.address, family: want.family, prefix: want.prefix, device: want.device, mode };
}
