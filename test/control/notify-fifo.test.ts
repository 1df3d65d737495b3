// keepalived's notify FIFOs: the lines (pure), then real FIFOs in a temp directory with a reader process and the
// configured notify_fifo_script, and a FIFO nobody reads.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { test, type TestContext } from 'node:test';
import { fifoSinks, lineKind, noticeLine } from '../../src/control/fifo-lines.ts';
import { KeepalivedNotices } from '../../src/control/keepalived-notices.ts';
import { NotifyFifos } from '../../src/control/notify-fifo.ts';
import type { Config } from '../../src/config/model.ts';
import type { DirectorEvent, DirectorEventBody } from '../../src/director/events.ts';
import { config, harness } from '../director/fakes.ts';

const instance = (name: string, vrid: number) => `vrrp_instance ${name} {\n interface eth0\n virtual_router_id ${vrid}\n priority 100\n}\n`;
const vrrp = (instance: string, from: string, to: string, priority = 100): DirectorEventBody => ({ type: 'vrrp', instance, from, to, priority });
const verdict = (virtualServer: string, realServer: string, up: boolean): DirectorEventBody => ({
  type: 'verdict', virtualServer, realServer, up, present: up, weight: up ? 1 : 0, reason: '', latencyMs: 1,
});
const quorum = (virtualServer: string, up: boolean): DirectorEventBody => ({ type: 'quorum', virtualServer, up, liveWeight: up ? 2 : 0 });
const at = (e: DirectorEventBody) => ({ ...e, at: 0 }) as DirectorEvent;

const SERVERS = `virtual_server 10.0.0.1 80 {
  lb_algo rr
  lb_kind DR
  quorum 2
  omega
  real_server 10.1.0.1 80 {
    weight 2
    TCP_CHECK {
    }
  }
  real_server 10.1.0.2 80 {
    TCP_CHECK {
      alpha
    }
  }
}
virtual_server fwmark 7 {
  lb_algo rr
  lb_kind DR
  real_server 2001:db8::5 443 {
    MISC_CHECK {
      misc_path /bin/true
    }
  }
}
virtual_server_group WEB {
  10.0.0.2 80
}
virtual_server group WEB {
  lb_algo rr
  lb_kind DR
  protocol UDP
  real_server 10.1.0.3 53 {
  }
}
`;

function lines(c: Config, events: DirectorEventBody[]): string[] {
  const notices = new KeepalivedNotices();
  return events.flatMap((e) => notices.noticesFor(c, at(e))).map((n) => `${lineKind(n)}: ${noticeLine(c, n)}`);
}

// ------------------------------------------------------------------------------------------------- lines (pure)

test("VRRP lines: keepalived's order for a sync group (the group first at start, carried members silent), MASTER_RX_LOWER_PRI, STOP at the daemon's stop", () => {
  const c = config(`${instance('VI_1', 1)}${instance('VI_2', 2)}${instance('VI_3', 3)}vrrp_sync_group G1 {\n group {\n VI_1\n VI_2\n }\n}\n`);
  assert.deepEqual(lines(c, [
    vrrp('VI_1', 'INIT', 'BACKUP'),
    vrrp('VI_2', 'INIT', 'BACKUP'),
    vrrp('VI_3', 'INIT', 'BACKUP', 90),
    vrrp('VI_1', 'BACKUP', 'MASTER'),
    vrrp('VI_2', 'BACKUP', 'MASTER'),
    vrrp('VI_3', 'BACKUP', 'MASTER', 90),
    { type: 'vrrp-rx-lower-pri', instance: 'VI_3', priority: 90, from: '192.0.2.2', theirs: 80 },
    vrrp('VI_3', 'MASTER', 'FAULT', 90),
    { type: 'stopping' },
    vrrp('VI_1', 'MASTER', 'STOP', 100),
    vrrp('VI_2', 'MASTER', 'STOP', 100),
    vrrp('VI_3', 'FAULT', 'STOP', 90),
  ]), [
    'vrrp: GROUP "G1" BACKUP 0\n',
    'vrrp: INSTANCE "VI_1" BACKUP 100\n',
    'vrrp: INSTANCE "VI_2" BACKUP 100\n',
    'vrrp: INSTANCE "VI_3" BACKUP 90\n',
    'vrrp: INSTANCE "VI_1" MASTER 100\n',
    'vrrp: GROUP "G1" MASTER 0\n',
    'vrrp: INSTANCE "VI_3" MASTER 90\n',
    'vrrp: INSTANCE "VI_3" MASTER_RX_LOWER_PRI 90\n',
    'vrrp: INSTANCE "VI_3" FAULT 90\n',
    'vrrp: INSTANCE "VI_1" STOP 100\n',
    'vrrp: INSTANCE "VI_2" STOP 100\n',
    'vrrp: GROUP "G1" STOP 0\n',
    'vrrp: INSTANCE "VI_3" STOP 90\n',
  ]);
});

test('an instance a reload removes is reported as FAULT (keepalived without notify_deleted), and not at all from FAULT', () => {
  const c = config(`${instance('VI_1', 1)}${instance('VI_2', 2)}`);
  assert.deepEqual(lines(c, [
    vrrp('VI_1', 'INIT', 'BACKUP'),
    vrrp('VI_2', 'INIT', 'FAULT'),
    vrrp('VI_1', 'BACKUP', 'STOP'),
    vrrp('VI_2', 'FAULT', 'STOP'),
  ]), ['vrrp: INSTANCE "VI_1" BACKUP 100\n', 'vrrp: INSTANCE "VI_2" FAULT 100\n', 'vrrp: INSTANCE "VI_1" FAULT 100\n']);
});

test("checker lines: RS and VS with keepalived's names (FMT_RS, FMT_VS), changes from its start state only, omega's DOWNs at stop", () => {
  const c = config(SERVERS);
  const vs = 'TCP 10.0.0.1:80';
  assert.deepEqual(lines(c, [
    verdict(vs, '10.1.0.1:80', true), // up at start already: nothing
    verdict(vs, '10.1.0.2:80', true), // alpha: starts down
    verdict(vs, '10.1.0.1:80', false),
    quorum(vs, false),
    verdict(vs, '10.1.0.1:80', true),
    quorum(vs, true),
    verdict('fwmark 7', '[2001:db8::5]:443', false),
    verdict('group WEB', '10.1.0.3:53', false),
    { type: 'stopping' },
  ]), [
    'lvs: RS [10.1.0.2]:tcp:80 [10.0.0.1]:tcp:80 UP\n',
    'lvs: RS [10.1.0.1]:tcp:80 [10.0.0.1]:tcp:80 DOWN\n',
    'lvs: VS [10.0.0.1]:tcp:80 DOWN\n',
    'lvs: RS [10.1.0.1]:tcp:80 [10.0.0.1]:tcp:80 UP\n',
    'lvs: VS [10.0.0.1]:tcp:80 UP\n',
    'lvs: RS [2001:db8::5]:none:443 FWM 7 DOWN\n',
    'lvs: RS [10.1.0.3]:udp:53 [WEB]:0 DOWN\n',
    // omega: the live real servers, then the virtual server
    'lvs: RS [10.1.0.1]:tcp:80 [10.0.0.1]:tcp:80 DOWN\n',
    'lvs: RS [10.1.0.2]:tcp:80 [10.0.0.1]:tcp:80 DOWN\n',
    'lvs: VS [10.0.0.1]:tcp:80 DOWN\n',
  ]);
  // lvs_flush_onstop: keepalived flushes instead of removing real servers one by one, so only the virtual server says DOWN.
  const flushing = config(`global_defs {\n  lvs_flush_onstop\n}\n${SERVERS}`);
  assert.deepEqual(lines(flushing, [{ type: 'stopping' }]), ['lvs: VS [10.0.0.1]:tcp:80 DOWN\n']);
});

test('which FIFO gets which lines: one sink per path, vrrp_ only with VRRP instances, lvs_ only with virtual servers, the owner from script_user', () => {
  const globals = (body: string) => `global_defs {\n script_user lb\n${body}}\n`;
  const both = config(`${globals(' notify_fifo /run/all\n vrrp_notify_fifo /run/v root\n lvs_notify_fifo /run/v\n lvs_notify_fifo_script /bin/r.sh\n')}${instance('VI_1', 1)}${SERVERS}`);
  assert.deepEqual(fifoSinks(both).map((s) => ({ ...s, kinds: [...s.kinds] })), [
    { path: '/run/all', kinds: ['vrrp', 'lvs'], owner: { user: 'lb' } },
    { path: '/run/v', kinds: ['vrrp', 'lvs'], owner: { user: 'root' }, script: { command: '/bin/r.sh' } },
  ]);
  const vrrpOnly = config(`${globals(' vrrp_notify_fifo /run/v\n lvs_notify_fifo /run/l\n')}${instance('VI_1', 1)}`);
  assert.deepEqual(fifoSinks(vrrpOnly).map((s) => s.path), ['/run/v']);
});

// ------------------------------------------------------------------------------------------------- real FIFOs

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ipvs-ts-fifo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * `cat FIFO` as a separate process, collecting what it reads until the FIFO's last writer closes it. `opened` resolves
 * once cat holds the FIFO: a cat that reaches open(2) after the daemon closed its end would wait for a writer forever.
 */
function reader(t: TestContext, path: string): { text: () => string; opened: () => Promise<void>; done: () => Promise<void> } {
  const child = spawn('cat', [path], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill());
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  let ended = false;
  child.once('close', () => (ended = true));
  const done = () => until('cat saw the FIFO closed', () => ended);
  const opened = () => until('cat opened the FIFO', () => holds(child.pid, path));
  return { text: () => text, opened, done };
}

function holds(pid: number | undefined, path: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`) === path);
  } catch {
    return false; // not started yet, or an fd closed while we looked
  }
}

async function until(what: string, ok: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!ok()) {
    if (performance.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('real FIFOs: created 0600 and removed at close (an existing one is kept), the script started with the path, each FIFO its own lines', async (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'script.out');
  const script = join(dir, 'reader.sh');
  writeFileSync(script, '#!/bin/sh\n# $1: where to append, $2: the FIFO (keepalived appends its path)\nwhile IFS= read -r line; do printf "%s\\n" "$line" >> "$1"; done < "$2"\n');
  chmodSync(script, 0o755);
  const existing = join(dir, 'lvs.fifo');
  execFileSync('mkfifo', ['-m', '640', existing]);
  const c = config(`global_defs {
  notify_fifo ${dir}/all.fifo
  notify_fifo_script "${script} ${out}"
  vrrp_notify_fifo ${dir}/vrrp.fifo
  lvs_notify_fifo ${existing}
}
${instance('VI_1', 1)}${SERVERS}`);
  const reports: DirectorEventBody[] = [];
  const fifos = new NotifyFifos({ config: () => c, report: (e) => reports.push(e) });
  t.after(() => fifos.close());
  assert.equal(statSync(join(dir, 'all.fifo')).mode & 0o777, 0o600);
  assert.ok(statSync(join(dir, 'vrrp.fifo')).isFIFO());
  const vrrpReader = reader(t, join(dir, 'vrrp.fifo'));
  const lvsReader = reader(t, existing);
  await Promise.all([vrrpReader.opened(), lvsReader.opened()]);
  for (const e of [vrrp('VI_1', 'INIT', 'BACKUP'), vrrp('VI_1', 'BACKUP', 'MASTER'), verdict('TCP 10.0.0.1:80', '10.1.0.1:80', false), quorum('TCP 10.0.0.1:80', false)]) fifos.onEvent(at(e));
  const all = [
    'INSTANCE "VI_1" BACKUP 100',
    'INSTANCE "VI_1" MASTER 100',
    'RS [10.1.0.1]:tcp:80 [10.0.0.1]:tcp:80 DOWN',
    'VS [10.0.0.1]:tcp:80 DOWN',
  ];
  await until('the script wrote every line', () => existsSync(out) && readFileSync(out, 'utf8') === `${all.join('\n')}\n`);
  fifos.close();
  await Promise.all([vrrpReader.done(), lvsReader.done()]);
  assert.equal(vrrpReader.text(), `${all.slice(0, 2).join('\n')}\n`);
  assert.equal(lvsReader.text(), `${all.slice(2).join('\n')}\n`);
  assert.deepEqual([existsSync(join(dir, 'all.fifo')), existsSync(join(dir, 'vrrp.fifo')), existsSync(existing)], [false, false, true]);
  assert.deepEqual(reports.filter((r) => r.type === 'error'), []);
});

test('stopping: the script gets SIGTERM first, then the stop lines are written for whoever still reads', async (t) => {
  const dir = tempDir(t);
  const pidFile = join(dir, 'pid');
  const script = join(dir, 'reader.sh');
  writeFileSync(script, `#!/bin/sh\necho $$ > ${pidFile}\nexec sleep 60\n`);
  chmodSync(script, 0o755);
  const c = config(`global_defs {\n  notify_fifo ${dir}/all.fifo\n  notify_fifo_script ${script}\n}\n${instance('VI_1', 1)}${SERVERS}`);
  const fifos = new NotifyFifos({ config: () => c, report: () => undefined });
  t.after(() => fifos.close());
  const r = reader(t, join(dir, 'all.fifo'));
  await r.opened();
  await until('the script runs', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '');
  const pid = Number(readFileSync(pidFile, 'utf8'));
  fifos.onEvent(at(vrrp('VI_1', 'INIT', 'MASTER')));
  fifos.onEvent(at({ type: 'stopping' }));
  await until('the script is gone', () => !alive(pid));
  fifos.onEvent(at(vrrp('VI_1', 'MASTER', 'STOP')));
  fifos.close();
  await r.done();
  assert.equal(r.text(), [
    'INSTANCE "VI_1" MASTER 100',
    // omega: 10.1.0.1 is up as at start; 10.1.0.2's checker is alpha and never succeeded
    'RS [10.1.0.1]:tcp:80 [10.0.0.1]:tcp:80 DOWN',
    'VS [10.0.0.1]:tcp:80 DOWN',
    'INSTANCE "VI_1" STOP 100',
    '',
  ].join('\n'));
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('nobody reading: writes never block; once the pipe is full lines are dropped whole and counted, and a reader gets whole lines', async (t) => {
  const dir = tempDir(t);
  const c = config(`global_defs {\n  lvs_notify_fifo ${dir}/lvs.fifo\n}\n${SERVERS}`);
  const reports: DirectorEventBody[] = [];
  const fifos = new NotifyFifos({ config: () => c, report: (e) => reports.push(e) });
  t.after(() => fifos.close());
  const started = performance.now();
  const events = 4000;
  for (let i = 0; i < events; i++) fifos.onEvent(at(verdict('TCP 10.0.0.1:80', '10.1.0.1:80', i % 2 === 1)));
  const tookMs = performance.now() - started;
  assert.ok(tookMs < 2_000, `${events} lines into an unread FIFO took ${tookMs} ms`);
  const full = reports.filter((r) => r.type === 'notify-fifo');
  assert.equal(full.length, 1, 'the first drop is said once');
  assert.match(full[0]?.type === 'notify-fifo' ? full[0].message : '', /full \(nobody reads it\)/);
  const r = reader(t, join(dir, 'lvs.fifo'));
  const count = () => r.text().split('\n').length - 1;
  let seen = -1;
  await until('the reader drained the pipe', () => {
    const settled = count() > 0 && count() === seen;
    seen = count();
    return settled;
  });
  const buffered = count();
  const last = verdict('TCP 10.0.0.1:80', '10.1.0.1:80', events % 2 === 1);
  fifos.onEvent(at(last));
  await until('the reader got the new line', () => count() === buffered + 1);
  const again = reports.filter((e) => e.type === 'notify-fifo').at(-1);
  const dropped = Number(/(\d+) line\(s\) were dropped/.exec(again?.type === 'notify-fifo' ? again.message : '')?.[1]);
  const got = r.text().split('\n').filter(Boolean);
  assert.ok(got.every((l) => /^RS \[10\.1\.0\.1\]:tcp:80 \[10\.0\.0\.1\]:tcp:80 (UP|DOWN)$/.test(l)), 'only whole lines');
  assert.equal(got.length + dropped, events + 1, 'every line was either read or counted as dropped');
  t.diagnostic(`${events} lines: ${buffered} fitted in the pipe, ${dropped} dropped, ${tookMs.toFixed(1)} ms`);
});

test("through the director, wired as the daemon wires it: its VRRP and checker events in its order, omega's lines when it stops", async (t) => {
  const dir = tempDir(t);
  const c = config(`global_defs {\n  notify_fifo ${dir}/all.fifo\n}\n${instance('VI_1', 1)}${SERVERS}`);
  const h = harness(c);
  const fifos = new NotifyFifos({ config: () => h.director.config, report: (e) => h.director.report(e) });
  h.director.onEvent(fifos.onEvent);
  t.after(() => fifos.close());
  const r = reader(t, join(dir, 'all.fifo'));
  await r.opened();
  await h.director.start();
  h.vrrps[0]!.transition('VI_1', 'INIT', 'BACKUP');
  h.vrrps[0]!.transition('VI_1', 'BACKUP', 'MASTER');
  h.checker('10.0.0.1').verdict('10.1.0.1', false);
  h.checker('10.0.0.1').emit({ kind: 'quorum', virtualServer: h.checker('10.0.0.1').vs, up: false, liveWeight: 0, at: 0 });
  h.checker('10.0.0.1').verdict('10.1.0.2', true);
  await h.director.stop();
  fifos.close();
  await r.done();
  assert.equal(r.text(), [
    'INSTANCE "VI_1" BACKUP 100',
    'INSTANCE "VI_1" MASTER 100',
    'RS [10.1.0.1]:tcp:80 [10.0.0.1]:tcp:80 DOWN',
    'VS [10.0.0.1]:tcp:80 DOWN',
    'RS [10.1.0.2]:tcp:80 [10.0.0.1]:tcp:80 UP',
    // omega at the stop: the real server still up, then the virtual server
    'RS [10.1.0.2]:tcp:80 [10.0.0.1]:tcp:80 DOWN',
    'VS [10.0.0.1]:tcp:80 DOWN',
    '',
  ].join('\n'));
});

test('a reload keeps a FIFO whose settings it leaves alone (same FIFO, same script), and moves one it changes', async (t) => {
  const dir = tempDir(t);
  const pids = join(dir, 'pids');
  const script = join(dir, 'reader.sh');
  writeFileSync(script, `#!/bin/sh\necho $$ >> ${pids}\nexec cat "$1" > /dev/null\n`);
  chmodSync(script, 0o755);
  const conf = (path: string, extra = '') => config(`global_defs {\n  notify_fifo ${join(dir, path)}\n  notify_fifo_script ${script}\n${extra}}\n${instance('VI_1', 1)}`);
  let c = conf('a.fifo');
  const fifos = new NotifyFifos({ config: () => c, report: () => undefined });
  t.after(() => fifos.close());
  await until('the script started', () => existsSync(pids));
  const inode = statSync(join(dir, 'a.fifo')).ino;
  c = conf('a.fifo', '  router_id other\n');
  fifos.onEvent(at(vrrp('VI_1', 'INIT', 'BACKUP')));
  assert.equal(statSync(join(dir, 'a.fifo')).ino, inode, 'the same FIFO');
  c = conf('b.fifo');
  fifos.onEvent(at(vrrp('VI_1', 'BACKUP', 'MASTER')));
  assert.ok(!existsSync(join(dir, 'a.fifo')) && statSync(join(dir, 'b.fifo')).isFIFO());
  await until('the new script started', () => readFileSync(pids, 'utf8').trim().split('\n').length === 2);
  const [first] = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
  await until('the old script ended', () => !alive(first!));
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(readFileSync(pids, 'utf8').trim().split('\n').length, 2, 'two scripts in all: the first reload restarted none');
});
