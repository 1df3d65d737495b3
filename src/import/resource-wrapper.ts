// The notify script that stands in for heartbeat's resource handling of one group: `start` (notify_master) runs
// the group's resource agents left to right with `start` and stops at the first failure, as a heartbeat takeover
// did; `stop` (notify_backup, notify_fault, notify_stop) runs them right to left with `stop`, all of them, as a
// release did. Agents are looked up where heartbeat looked: /etc/ha.d/resource.d, then /etc/init.d.
import type { InstancePlan } from './heartbeat.ts';

export function wrapperPath(dir: string, instance: string): string {
  return `${dir.replace(/\/+$/, '')}/${instance}.sh`;
}

export function wrapperScript(inst: InstancePlan, source: string): string {
  const call = (name: string, args: readonly string[], op: string): string => ['run', ...[name, ...args, op].map(quote)].join(' ');
  const starts = inst.scripts.map((s) => `  ${call(s.name, s.args, 'start')} || exit 1`);
  const stops = [...inst.scripts].reverse().map((s) => `  ${call(s.name, s.args, 'stop')} || status=1`);
  return [
    '#!/bin/sh',
    `# keepalived notify script for vrrp_instance ${inst.name}, written by \`ipvs-ts import heartbeat\` from`,
    `# ${source}:${inst.group.line}: ${inst.group.text}`,
    '# start: the resources left to right, as heartbeat\'s takeover; stop: right to left, as its release. keepalived',
    '# also calls stop when it starts as BACKUP, so a stop must be harmless for a resource that is not running.',
    '# The VIPs are keepalived\'s own (virtual_ipaddress).',
    'run() {',
    '  name=$1; shift',
    '  for dir in /etc/ha.d/resource.d /etc/init.d; do',
    '    if [ -x "$dir/$name" ]; then "$dir/$name" "$@"; return; fi',
    '  done',
    '  echo "heartbeat resource $name: no agent in /etc/ha.d/resource.d or /etc/init.d" >&2',
    '  return 1',
    '}',
    'status=0',
    'case "$1" in',
    'start)',
    ...starts,
    '  ;;',
    'stop)',
    ...stops,
    '  ;;',
    '*)',
    '  echo "usage: $0 start|stop" >&2',
    '  exit 2',
    '  ;;',
    'esac',
    'exit $status',
    '',
  ].join('\n');
}

/** Single-quoted for sh unless plainly safe. */
function quote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}
