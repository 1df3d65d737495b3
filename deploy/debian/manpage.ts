// ipvs-ts(8) from the CLI's own help: every command's and subcommand's help text (with its Description, Exit
// status and Examples sections) as the man page's COMMANDS section, so the page never drifts from the program.
import type { Command } from 'commander';

/** The help a command prints, at a fixed width. */
function help(cmd: Command): string {
  let text = '';
  cmd.configureOutput({ writeOut: (s) => (text += s), getOutHelpWidth: () => 78 });
  cmd.outputHelp();
  return text.trimEnd();
}

/** Roff-safe text for a no-fill block: backslashes doubled, lines starting with . or ' protected. */
function verbatim(text: string): string {
  return text.split('\n').map((l) => `\\&${l.replaceAll('\\', '\\e')}`).join('\n');
}

function commands(cmd: Command, path: string[]): { name: string; help: string }[] {
  return cmd.commands.flatMap((c) => {
    const p = [...path, c.name()];
    return [{ name: p.join(' '), help: help(c) }, ...commands(c, p)];
  });
}

export function manPage(program: Command, version: string, date: string): string {
  const lines = [
    `.TH IPVS-TS 8 "${date}" "ipvs-ts ${version}" "System Administration"`,
    '.SH NAME',
    'ipvs-ts \\- keepalived-class LVS/IPVS director: keepalived.conf, IPVS over netlink, health checks, VRRP',
    '.SH SYNOPSIS',
    '.B ipvs-ts',
    '[\\fICOMMAND\\fR] [\\fIOPTIONS\\fR]',
    '.SH DESCRIPTION',
    'ipvs-ts reads an existing keepalived.conf, programs the kernel\'s IPVS table over generic netlink, health-checks',
    'every real server and runs VRRP so exactly one director owns each virtual IP. Without a command it runs the',
    'director daemon on /etc/keepalived/keepalived.conf, as keepalived does. It also prepares LVS-DR/TUN real',
    'servers (\\fBrealserver\\fR) and imports ipvsadm scripts and heartbeat configurations (\\fBimport\\fR).',
    '.SH OVERVIEW',
    '.nf',
    verbatim(help(program)),
    '.fi',
    '.SH COMMANDS',
  ];
  for (const c of commands(program, ['ipvs-ts'])) lines.push(`.SS ${c.name}`, '.nf', verbatim(c.help), '.fi');
  lines.push(
    '.SH FILES',
    '.TP',
    '/etc/keepalived/keepalived.conf',
    'the configuration (shared with keepalived; the package never writes it)',
    '.TP',
    '/run/ipvs-ts/',
    'the IPVS ownership state, the control socket, the real-server record',
    '.TP',
    '/etc/default/ipvs-ts-realserver',
    'the VIPs and mode for ipvs-ts-realserver.service',
    '.TP',
    '/usr/share/doc/ipvs-ts/',
    'the documentation (docs/*.md) and example configurations',
    '.SH SEE ALSO',
    '.BR keepalived.conf (5),',
    '.BR ipvsadm (8),',
    '.BR systemctl (1)',
    '',
  );
  return lines.join('\n');
}
