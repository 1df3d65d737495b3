// The seed heartbeat cluster, imported for both nodes, runs: in the VRRP namespace lab (test/vrrp/lab.ts) two
// `ipvs-ts vrrp` processes with the imported configs elect the preferred node, which holds the VIP with its
// heartbeat label; when it stops the other takes the VIP over, and when it returns it takes the VIP back
// (auto_failback on). The notify wrapper runs on each transition.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runImportHeartbeat } from '../../src/cli/import-heartbeat-run.ts';
import { Lab, labUnavailable, START_MS, waitFor } from '../vrrp/lab.ts';

const SEED = fileURLToPath(new URL('../fixtures/seeds/heartbeat', import.meta.url));
const VIP = '192.168.1.109';
const skip = labUnavailable();
const lab = skip ? undefined : new Lab('hbimp');
// The wrappers run under enable_script_security, which refuses scripts below a world-writable directory (/tmp).
const scripts = skip ? '' : mkdtempSync('/run/ipvsts-hb-');
after(async () => {
  await lab?.cleanup();
  if (scripts) rmSync(scripts, { recursive: true, force: true });
});

async function imported(node: string, scriptsDir: string): Promise<string> {
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) => new Writable({ write: (c, _e, cb) => { f(String(c)); cb(); } });
  assert.equal(await runImportHeartbeat(SEED, { node, vrid: 51, scriptsDir }, sink((s) => (out += s)), sink((s) => (err += s))), 0, err);
  return out;
}

test('the imported seed cluster elects master, fails over to slave and back, with the VIP labelled eth0:1', { skip }, async (t) => {
  const l = lab as Lab;
  l.setup({ master: ['192.168.1.10/24'], slave: ['192.168.1.11/24'] });
  // Each node's wrapper finds a stand-in nginx agent that records the operation, where heartbeat kept its agents.
  const procs: Record<string, ReturnType<Lab['ipvsTs']>> = {};
  const events = (node: string): string[] => (existsSync(join(l.dir, `${node}.events`)) ? readFileSync(join(l.dir, `${node}.events`), 'utf8').trim().split('\n') : []);
  const start = async (node: string) => {
    const dir = join(scripts, node);
    mkdirSync(join(dir, 'resource.d'), { recursive: true });
    const conf = (await imported(node, dir)).replaceAll('/etc/ha.d/resource.d', join(dir, 'resource.d'));
    writeFileSync(join(dir, 'resource.d', 'nginx'), `#!/bin/sh\necho "nginx $1" >> ${join(l.dir, `${node}.events`)}\n`);
    chmodSync(join(dir, 'resource.d', 'nginx'), 0o755);
    const wrapper = join(dir, 'VI_1.sh');
    writeFileSync(wrapper, readFileSync(wrapper, 'utf8').replaceAll('/etc/ha.d/resource.d', join(dir, 'resource.d')));
    procs[node] = l.ipvsTs(node, conf, node);
  };
  const holds = (node: string): boolean => new RegExp(`inet ${VIP.replaceAll('.', '\\.')}/24 .*eth0:1`).test(l.sh(l.ns(node), 'ip -o -4 addr show dev eth0'));
  try {
    await start('master');
    await start('slave');
    await waitFor('master holds the VIP', () => holds('master'), START_MS + 10_000, 100);
    assert.equal(holds('slave'), false);
    await waitFor('master started nginx', () => events('master').includes('nginx start'), 10_000, 100);

    await l.stop(procs.master as ReturnType<Lab['ipvsTs']>);
    const takeover = await waitFor('slave takes the VIP', () => holds('slave'), 15_000, 50);
    await waitFor('slave started nginx', () => events('slave').includes('nginx start'), 10_000, 100);
    assert.ok(events('master').includes('nginx stop'), 'the stopping master stopped nginx (notify_stop)');

    await start('master');
    const failback = await waitFor('master takes the VIP back', () => holds('master') && !holds('slave'), START_MS + 10_000, 50);
    await waitFor('slave stopped nginx', () => events('slave').at(-1) === 'nginx stop', 10_000, 100);
    t.diagnostic(`takeover after master stopped: ${(takeover / 1000).toFixed(2)} s; failback after master restarted: ${(failback / 1000).toFixed(2)} s`);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${l.logTails()}`);
  }
});
