// The accept-mode firewall: ipvs-ts's own nftables table, driven with Debian's `nft`. keepalived's equivalent is a
// `keepalived` table per family (vrrp_nftables.c): input/output chains at priority -1 that drop what is addressed to
// or sent from a set of VIPs. Here one `inet` table holds both families. Only this table is ever touched: it is
// created (a stale one from a killed daemon replaced in the same transaction), its sets' elements follow the VIPs
// of instances without accept mode, and it is deleted on stop.
import { spawn } from 'node:child_process';
import { VrrpError } from './errors.ts';

export const NFT_TABLE = 'ipvs-ts';

// Neighbour discovery must pass, or a backup could not resolve the master's VIP and the VIP could not defend itself
// (keepalived's `neighbor-discovery` set lets the same types through before its drop rules).
const ND = 'nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect';

/** Creates the table afresh: a table of that name left by an earlier run is deleted in the same transaction. */
const CREATE = `table inet ${NFT_TABLE} {}
delete table inet ${NFT_TABLE}
table inet ${NFT_TABLE} {
  set vips4 { type ipv4_addr; }
  set vips6 { type ipv6_addr; }
  chain in {
    type filter hook input priority -1; policy accept;
    icmpv6 type { ${ND} } accept
    ip daddr @vips4 counter drop
    ip6 daddr @vips6 counter drop
  }
  chain out {
    type filter hook output priority -1; policy accept;
    icmpv6 type { ${ND} } accept
    ip saddr @vips4 counter drop
    ip6 saddr @vips6 counter drop
  }
}
`;

/** Runs an nft script as one transaction; `nft` reads it from stdin. */
export function nft(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('nft', ['-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT'
        ? new VrrpError('VRRP_NFT_MISSING', 'accept mode off (no_accept, or vrrp_strict) needs the nft command: install nftables')
        : new VrrpError('VRRP_NFT', `nft: ${e.message}`));
    });
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new VrrpError('VRRP_NFT', `nft failed (exit ${code}): ${err.trim().split('\n')[0] ?? ''}`));
    });
    child.stdin.end(script);
  });
}

/** The VIPs whose traffic is dropped, as elements of the table's sets. One instance per engine. */
export class DropTable {
  #created = false;
  readonly #dropped = new Set<string>();

  get created(): boolean {
    return this.#created;
  }

  async create(): Promise<void> {
    await nft(CREATE);
    this.#created = true;
    this.#dropped.clear();
  }

  /** Drops the traffic of these addresses too (creating the table on first use). */
  async add(addresses: Iterable<string>): Promise<void> {
    const fresh = [...addresses].filter((a) => !this.#dropped.has(a));
    if (fresh.length === 0) return;
    if (!this.#created) await this.create();
    await nft(fresh.map((a) => `add element inet ${NFT_TABLE} ${setOf(a)} { ${a} }`).join('\n'));
    for (const a of fresh) this.#dropped.add(a);
  }

  /** Stops dropping the traffic of every address not in `keep`. */
  async keepOnly(keep: ReadonlySet<string>): Promise<void> {
    const gone = [...this.#dropped].filter((a) => !keep.has(a));
    if (gone.length === 0) return;
    await nft(gone.map((a) => `delete element inet ${NFT_TABLE} ${setOf(a)} { ${a} }`).join('\n'));
    for (const a of gone) this.#dropped.delete(a);
  }

  /** Deletes the table if this run created it. */
  async remove(): Promise<void> {
    if (!this.#created) return;
    this.#created = false;
    this.#dropped.clear();
    await nft(`delete table inet ${NFT_TABLE}`);
  }
}

function setOf(address: string): string {
  return address.includes(':') ? 'vips6' : 'vips4';
}

/** Deletes a table left by a run that was killed, if nft is there and the table is; never fails. */
export async function removeStaleTable(): Promise<void> {
  await nft(`table inet ${NFT_TABLE} {}\ndelete table inet ${NFT_TABLE}`).catch(() => undefined);
}
