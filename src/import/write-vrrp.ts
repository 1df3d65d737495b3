// The heartbeat plan (heartbeat.ts) as keepalived.conf for one node: global_defs, the ping scripts ipfail stood
// for, one vrrp_instance per resource group with its VIPs and notify wrapper, and — when the wrappers are not
// written to disk — their text as comments to copy.
import type { VipResource } from './heartbeat-files.ts';
import type { InstancePlan, VrrpPlan } from './heartbeat.ts';
import { wrapperPath, wrapperScript } from './resource-wrapper.ts';

export interface VrrpWriteOptions {
  /** The heartbeat directory, and its haresources file, named in comments. */
  readonly source: string;
  readonly haresources: string;
  readonly scriptsDir: string;
  readonly scriptsWritten: boolean;
}

export function writeVrrpConfig(plan: VrrpPlan, opts: VrrpWriteOptions): string {
  const others = plan.nodes.filter((n) => n !== plan.node);
  const out = [
    `# keepalived.conf for node ${plan.node}, written by \`ipvs-ts import heartbeat\` from ${opts.source}.`,
    `# Every node needs its own file: import again with --node ${others.length ? others.join(', --node ') : 'NAME'} (the same instances,`,
    '# VRIDs and password; each node its own state and priority).',
    '',
    'global_defs {',
    `    router_id ${plan.node}`,
  ];
  if (plan.pings.length || plan.instances.some((i) => i.scripts.length)) {
    out.push('    # Resource agents and ping checks run as root, as under heartbeat; keepalived wants that said.', '    script_user root', '    enable_script_security');
  }
  out.push('}', '');
  for (const p of plan.pings) {
    out.push(
      `# ha.cf: ping ${p.target} with ipfail: a node that cannot reach it drops below the others`,
      `vrrp_script ${p.name} {`,
      `    script "/bin/ping -c 1 -W 1 ${p.target}"`,
      `    interval ${p.intervalS}`,
      `    fall ${p.fall}`,
      '    rise 1',
      `    weight -${p.weight}`,
      '}',
      '',
    );
  }
  for (const inst of plan.instances) out.push(...instance(inst, plan, opts), '');
  if (!opts.scriptsWritten) {
    for (const inst of plan.instances.filter((i) => i.scripts.length)) {
      out.push(`# ${wrapperPath(opts.scriptsDir, inst.name)} (not written; --scripts-dir writes it), mode 0755:`, ...wrapperScript(inst, opts.haresources).trimEnd().split('\n').map((l) => `#   ${l}`), '');
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

function instance(inst: InstancePlan, plan: VrrpPlan, opts: VrrpWriteOptions): string[] {
  const lines = [
    `# haresources:${inst.group.line}: ${inst.group.text}`,
    `vrrp_instance ${inst.name} {`,
    `    state ${inst.state}`,
    `    interface ${inst.interface}`,
    `    virtual_router_id ${inst.vrid}`,
    `    priority ${inst.priority}`,
    `    advert_int ${inst.advertIntS}`,
  ];
  if (inst.nopreempt) lines.push('    nopreempt');
  if (inst.unicastPeers.length) lines.push('    unicast_peer {', ...inst.unicastPeers.map((p) => `        ${p}`), '    }');
  if (inst.authPass !== undefined) lines.push('    authentication {', '        auth_type PASS', `        auth_pass ${inst.authPass}`, '    }');
  // The adverts go over heartbeat's IPv4 link as VRRPv2 (the only version with authentication); IPv6 VIPs cannot be
  // in an IPv4 advert, so keepalived adds them with the instance without announcing them.
  const v4 = inst.vips.filter((v) => v.family === 4);
  const v6 = inst.vips.filter((v) => v.family === 6);
  if (v4.length) lines.push('    virtual_ipaddress {', ...v4.map((v) => `        ${vip(v, inst.interface)}`), '    }');
  if (v6.length) lines.push('    virtual_ipaddress_excluded {', ...v6.map((v) => `        ${vip(v, inst.interface)}`), '    }');
  if (plan.pings.length) lines.push('    track_script {', ...plan.pings.map((p) => `        ${p.name}`), '    }');
  if (inst.scripts.length) {
    const path = wrapperPath(opts.scriptsDir, inst.name);
    lines.push(
      `    # ${inst.scripts.map((s) => s.text).join(', ')}: started on becoming MASTER, stopped otherwise`,
      `    notify_master "${path} start"`,
      `    notify_backup "${path} stop"`,
      `    notify_fault "${path} stop"`,
      `    notify_stop "${path} stop"`,
    );
  }
  lines.push('}');
  return lines;
}

function vip(v: VipResource, iface: string): string {
  const prefix = v.prefix ?? (v.family === 4 ? 32 : 128);
  return [`${v.address}/${prefix}`, ...(v.dev && v.dev !== iface ? ['dev', v.dev] : []), ...(v.broadcast ? ['brd', v.broadcast] : []), ...(v.label ? ['label', v.label] : [])].join(' ');
}
