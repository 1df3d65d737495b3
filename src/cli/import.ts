// `ipvs-ts import ipvsadm|heartbeat`: turn an ipvsadm table (a save or a script) or a heartbeat configuration into
// keepalived.conf on stdout, with what has no equivalent on stderr. The importers load only when one runs.
import { Command } from 'commander';
import { ImportError } from '../import/errors.ts';

const IPVSADM_HELP = `
Description:
  Reads \`ipvsadm -S\` or \`ipvsadm -Sn\` output (ipvsadm-restore's format) or a shell script that calls
  ipvsadm, replays its commands with ipvsadm's own defaults (scheduler wlc, weight 1, DR, -E/-e replace
  every setting, DR and TUN real servers take the service's port) and prints the keepalived.conf that
  programs the same IPVS table: virtual_server per service (address or fwmark), lb_algo, lb_kind and
  lvs_method, weights, persistence_timeout and persistence_granularity, ops, scheduler flags,
  uthreshold/lthreshold, lvs_timeouts for --set.

  Scripts: comments, \\ continuations, quotes, ; && || separators and $VAR / \${VAR} from the script's own
  assignments (VAR=..., export VAR=...) are understood; a variable the script does not set is an error
  for the line that uses it. Other commands (ifconfig, route, iptables, echo > /proc/sys/...) are not
  imported, each with a warning saying where that setting belongs now. Host names are resolved at import
  time (IPv4, as ipvsadm does), port names from /etc/services.

  No health checker is invented: the output says so in a comment.

Exit status:
  0 the config is on stdout; 1 the input has errors (all listed, nothing printed).

Examples:
  ipvsadm -Sn | ipvs-ts import ipvsadm - > /etc/keepalived/keepalived.conf
  ipvs-ts import ipvsadm /usr/local/sbin/lvs_dr.sh
`;

const HEARTBEAT_HELP = `
Description:
  Reads ha.cf, haresources and (if present) authkeys from DIR (usually /etc/ha.d) and prints the
  keepalived.conf for one node: one vrrp_instance per haresources line, its VIPs from the IPaddr,
  IPaddr2 and bare address resources, and a notify_master/notify_backup/notify_fault/notify_stop
  wrapper that starts the group's other resources left to right and stops them right to left, as
  heartbeat did (written with --scripts-dir, else shown as comments).

  The node named first on a haresources line is the preferred master: priority 100 there, 90, 80, ...
  on the other nodes in ha.cf's node order. auto_failback on = preempt (the preferred node starts as
  MASTER); off = nopreempt (every node starts as BACKUP). bcast and mcast become VRRP multicast on
  their interface, ucast lines unicast_peer. keepalive becomes advert_int; deadtime has no VRRP
  setting (a backup takes over after about 3 x advert_int). ping nodes with ipfail become a tracked
  ping script. authkeys: crc has no secret (no authentication); md5 and sha1 are HMACs that VRRP does
  not have, so auth_type PASS gets an 8-character password derived from the key. Everything without
  a VRRP equivalent is listed on stderr.

Exit status:
  0 the config is on stdout; 1 the input has errors (all listed, nothing printed).

Examples:
  ipvs-ts import heartbeat /etc/ha.d > /etc/keepalived/keepalived.conf
  ipvs-ts import heartbeat /etc/ha.d --node slave --scripts-dir /etc/keepalived/heartbeat
`;

export function importCommand(): Command {
  const imp = new Command('import').description('turn an ipvsadm table or script, or a heartbeat configuration, into keepalived.conf (stdout)');
  imp
    .command('ipvsadm')
    .description('ipvsadm -S/-Sn output or an ipvsadm shell script → keepalived.conf virtual servers')
    .argument('[file]', 'the input; - or nothing for standard input', '-')
    .addHelpText('after', IPVSADM_HELP)
    .action(async (file: string) => {
      const { runImportIpvsadm } = await import('./import-run.ts');
      process.exitCode = await runImportIpvsadm(file);
    });
  imp
    .command('heartbeat')
    .description('heartbeat ha.cf + haresources (+ authkeys) → keepalived.conf VRRP instances for one node')
    .argument('<dir>', 'the directory with ha.cf, haresources and authkeys (usually /etc/ha.d)')
    .option('--node <name>', "the node to write the config for (default: this host's name, as heartbeat uses uname -n)")
    .option('--vrid <n>', 'virtual_router_id of the first instance; the next ones count up', vrid, 51)
    .option('--scripts-dir <dir>', 'write the resource wrappers there (mode 0755) instead of showing them as comments')
    .addHelpText('after', HEARTBEAT_HELP)
    .action(async (dir: string, opts: { node?: string; vrid: number; scriptsDir?: string }) => {
      const { runImportHeartbeat } = await import('./import-heartbeat-run.ts');
      process.exitCode = await runImportHeartbeat(dir, opts);
    });
  return imp;
}

function vrid(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 255) throw new ImportError('IMPORT_OPTION', `--vrid must be 1-255, got "${v}"`);
  return n;
}
