// `ipvs-ts realserver up|down|status`: prepare this host as an LVS-DR or LVS-TUN real server, check it, or undo what
// `up` did. The work (netlink, /proc/sys, the record) is loaded only when a subcommand runs.
import { Command, Option } from 'commander';
import { DEFAULT_RECORD_FILE } from '../realserver/record.ts';
import type { RealServerOptions } from './realserver-run.ts';

const HELP = `
Description:
  A real server behind an LVS director in DR or TUN mode receives packets addressed to the VIP. It must
  hold the VIP as a host address (/32, /128) on a device that never answers ARP for it, and must neither
  answer ARP for it on its LAN interfaces nor announce it: otherwise the LAN sends the VIP's traffic
  straight to the real server and the director is bypassed.

  DR:  the VIPs on lo; net.ipv4.conf.{all,lo}.arp_ignore=1 and arp_announce=2; lo up.
  TUN: ipip loaded; the VIPs on tunl0, tunl0 up; net.ipv4.conf.{all,tunl0}.arp_ignore=1,
       arp_announce=2 and rp_filter 0 or 2 (strict mode 1 drops decapsulated packets; up sets 2).
  IPv6 VIPs (DR only) need no sysctl: neighbour discovery never answers for lo's addresses.

  up changes only what is missing, sysctls before VIPs, and records what it changed; run again, it
  changes nothing. A VIP already on another device, or with a wider prefix, is refused with the fix and
  nothing is changed. down removes the recorded VIPs and, once none is left, restores each recorded
  sysctl that still has the value up gave it; settings that were already right, or were changed since,
  are left alone. status names every wrong setting.

Files:
  ${DEFAULT_RECORD_FILE}   what up changed (removed when nothing is owned any more)

Exit status:
  0 done / prepared; 1 an error, a conflicting VIP, or (status) at least one wrong setting.

Examples:
  ipvs-ts realserver up --vip 192.168.1.100
  ipvs-ts realserver up --mode tun --vip 10.0.0.100,10.0.0.101
  ipvs-ts realserver status --vip 192.168.1.100
  ipvs-ts realserver down
`;

const mode = (): Option => new Option('--mode <mode>', 'forwarding method of the director (default dr)').choices(['dr', 'tun']);
const state = (): Option => new Option('--state <path>', 'record of what up changed').default(DEFAULT_RECORD_FILE);

export function realserverCommand(): Command {
  const rs = new Command('realserver')
    .description('prepare this host as an LVS-DR or LVS-TUN real server (VIPs on lo or tunl0, ARP and rp_filter sysctls), check it, or undo it')
    .addHelpText('after', HELP);
  const run = (action: 'up' | 'down' | 'status') => async (opts: RealServerOptions) => {
    const { runRealServer } = await import('./realserver-run.ts');
    process.exitCode = await runRealServer(action, opts);
  };
  rs.command('up')
    .description('add what is missing (idempotent) and record it')
    .requiredOption('--vip <address...>', 'virtual IP(s) the director forwards here')
    .addOption(mode())
    .addOption(state())
    .action(run('up'));
  rs.command('down')
    .description('undo what up recorded: the VIPs, then (once none is left) its links and sysctls')
    .option('--vip <address...>', 'only these VIPs (default: every recorded one)')
    .addOption(state())
    .action(run('down'));
  rs.command('status')
    .description('print every setting the real server needs; exit 1 when one is wrong')
    .option('--vip <address...>', 'VIPs to check (default: the recorded ones)')
    .addOption(mode())
    .addOption(state())
    .action(run('status'));
  return rs;
}
