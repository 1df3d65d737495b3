// What `ipvs-ts ipvs list` runs (src/cli/ipvs.ts defines the command): the kernel's table, read and printed.
import { IpvsClient } from '../ipvs/client.ts';
import { formatListing, type ListMode, sortListing, sortTable, tableJson } from '../ipvs/format.ts';

export async function runIpvsList(opts: { json?: boolean; stats?: boolean; rate?: boolean }, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const client = await IpvsClient.open();
  try {
    if (opts.json) {
      const [info, kernel] = await Promise.all([client.info(), client.table()]);
      out.write(tableJson(info, sortTable(kernel)));
      return 0;
    }
    const mode: ListMode = opts.stats ? 'stats' : opts.rate ? 'rate' : 'plain';
    const [info, listing] = await Promise.all([client.info(), client.listing(mode !== 'plain')]);
    out.write(formatListing(info, sortListing(listing), mode));
    return 0;
  } finally {
    client.close();
  }
}
