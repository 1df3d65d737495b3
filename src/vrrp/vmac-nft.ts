// The VMACs' multicast membership reports, as keepalived's vrrp_nftables.c handles them: a backup's VMAC must not
// send anything from the virtual router MAC (a switch would then send the master's traffic to the backup), yet
// joining the VRRP group on the VMAC makes the kernel send IGMP / MLD reports from it. So, in ipvs-ts's own
// `ip ipvs-ts-vmac` and `ip6 ipvs-ts-vmac` tables (dup needs a single-family table), each report leaving a VMAC is
// sent again from its base interface and dropped, and an IPv6 VMAC's router solicitations are dropped.
import { nft } from './nft.ts';

export const VMAC_NFT_TABLE = 'ipvs-ts-vmac';

export interface VmacLink {
  readonly name: string;
  readonly base: string;
}

/** The script that makes the tables hold exactly these VMACs' rules (a table of that name is replaced). */
export function vmacRules(links: readonly VmacLink[]): string {
  const q = (s: string) => JSON.stringify(s);
  const table = (family: 'ip' | 'ip6', rules: string[]) =>
    [`table ${family} ${VMAC_NFT_TABLE} {}`, `delete table ${family} ${VMAC_NFT_TABLE}`,
      ...(links.length === 0 ? [] : [`table ${family} ${VMAC_NFT_TABLE} {`, '  chain out {', '    type filter hook output priority -1; policy accept;', ...rules.map((r) => `    ${r}`), '  }', '}'])];
  return [
    ...table('ip', links.map((l) => `oifname ${q(l.name)} ip protocol igmp dup to ip daddr device ${q(l.base)} drop`)),
    ...table('ip6', links.flatMap((l) => [
      `oifname ${q(l.name)} icmpv6 type { mld-listener-report, mld2-listener-report } dup to ip6 daddr device ${q(l.base)} drop`,
      `oifname ${q(l.name)} icmpv6 type nd-router-solicit drop`,
    ])),
    '',
  ].join('\n');
}

/** Keeps the tables in step with the VMACs; without nft it says so once and VRRP runs on (reports then leak). */
export class VmacFirewall {
  readonly #log: (line: string) => void;
  #warned = false;

  constructor(log: (line: string) => void) {
    this.#log = log;
  }

  async sync(links: readonly VmacLink[]): Promise<void> {
    try {
      await nft(vmacRules(links));
    } catch (e) {
      if (links.length === 0 || this.#warned) return;
      this.#warned = true;
      this.#log(`cannot keep the VMACs' IGMP/MLD reports off the virtual MAC (${(e as Error).message}); a backup may draw the master's traffic for a moment each time it reports`);
    }
  }
}
