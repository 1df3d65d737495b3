// The VM benches compare two implementations programming the same large table one after the other. Between them
// the table must be empty in a way that costs the second nothing more than the first: `ipvsadm -C` moves every
// destination into the kernel's dest trash (net/netfilter/ipvs/ip_vs_ctl.c), where it stays 2–4 minutes, and every
// NEW_DEST scans that whole list (ip_vs_trash_get_dest), so whoever adds 100,000 destinations right after a flush
// of 100,000 pays ~10^10 comparisons the first did not. Unloading the IPVS modules frees the trash; schedulers load
// again on demand. The IPVS netlink family id can change, so netlink clients must be opened anew afterwards.
import { execFileSync } from 'node:child_process';

export function emptyIpvs(): void {
  execFileSync('/bin/sh', ['-c', `ipvsadm -C && rmmod $(lsmod | awk '/^ip_vs_/ {print $1}') ip_vs && modprobe ip_vs`]);
}
