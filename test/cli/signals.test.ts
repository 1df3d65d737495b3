// keepalived's signals on the long-running commands, sent to real spawned processes: SIGUSR1 writes the state dump
// and never opens Node's inspector, SIGUSR2 writes the statistics and never kills, and the process is named
// ipvs-ts (comm, what pidof matches) with its sub-command on the command line. `check` runs on loopback; `vrrp`
// in a namespace lab (root). The daemon needs IPVS: where the kernel has it, it is tested the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { instanceConf, Lab, labUnavailable, NODE, CLI, START_MS, waitFor } from '../vrrp/lab.ts';

/** Ports the process listens on (TCP, v4 and v6), from its own socket inodes and its namespace's socket tables. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is field 1 (ADDR:PORT in hex), st field 3 (0A = LISTEN), inode field 9.
      if (f[3] === '0A' && inodes.has(f[9]!)) ports.push(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

interface Spawned {
  readonly child: ChildProcess;
  output(): string;
}

function start(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Spawned {
  let out = '';
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  return { child, output: () => out };
}

/** Sends the signal and waits for the file to be (re)written; returns its parsed JSON. */
async function dumpOn(pid: number, signal: 'SIGUSR1' | 'SIGUSR2', file: string): Promise<Record<string, unknown>> {
  rmSync(file, { force: true });
  process.kill(pid, signal);
  await waitFor(`${file} after ${signal}`, () => existsSync(file), 5000);
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/** The checks every long-running command must pass; `pid` is the ipvs-ts process (it may sit in a namespace). */
async function assertSignalsSafe(p: Spawned, pid: number, files: { data: string; stats: string }): Promise<{ data: Record<string, unknown>; stats: Record<string, unknown> }> {
  const data = await dumpOn(pid, 'SIGUSR1', files.data);
  assert.equal(data.pid, pid);
  assert.equal(statSync(files.data).mode & 0o777, 0o600);
  // The inspector would be listening by now: the dump was written after the signal was handled.
  assert.deepEqual(listeningPorts(pid), [], 'the process listens on no TCP port after SIGUSR1');
  assert.doesNotMatch(p.output(), /Debugger listening/);
  const stats = await dumpOn(pid, 'SIGUSR2', files.stats);
  assert.equal(statSync(files.stats).mode & 0o777, 0o600);
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(alive(p.child), `the process survives SIGUSR2:\n${p.output()}`);
  assert.equal(readFileSync(`/proc/${pid}/comm`, 'utf8'), 'ipvs-ts\n');
  return { data, stats };
}

async function stop(p: Spawned): Promise<number | null> {
  if (!alive(p.child)) return p.child.exitCode;
  const exited = new Promise<number | null>((r) => p.child.once('exit', (code) => r(code)));
  p.child.kill('SIGTERM');
  return exited;
}

test('the detector works: plain Node opens its inspector on SIGUSR1', async () => {
  // Port 0: this proof must not depend on 9229 being free on the test machine.
  const p = start([NODE, '--inspect-port=0', '-e', 'setInterval(() => {}, 1000)']);
  try {
    await new Promise((r) => setTimeout(r, 300));
    process.kill(p.child.pid!, 'SIGUSR1');
    await waitFor('the inspector', () => /Debugger listening/.test(p.output()), 5000);
    assert.equal(listeningPorts(p.child.pid!).length, 1);
  } finally {
    await stop(p);
  }
});

test('a SIGUSR1 that came while Node itself started (no listener can exist yet) opened the inspector: ipvs-ts closes it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ipvs-ts-signals-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const conf = join(dir, 'k.conf');
  writeFileSync(conf, 'virtual_server 127.0.0.1 1 {\n  real_server 127.0.0.1 1 {\n    TCP_CHECK {\n    }\n  }\n}\n');
  // The preload runs before bin/ipvs-ts.js: the signal meets Node's own handler, as during its start-up (on any free
  // port: --inspect-port only says where, and is not a request to debug).
  const early = 'import inspector from "node:inspector"; process.kill(process.pid, "SIGUSR1"); const t = Date.now(); while (inspector.url() === undefined && Date.now() - t < 5000);';
  const p = start([NODE, '--inspect-port=0', '--import', `data:text/javascript,${encodeURIComponent(early)}`, CLI, 'check', '-f', conf], { ...process.env, TMPDIR: dir });
  try {
    await waitFor('the inspector to be closed', () => /closed the Node inspector/.test(p.output()), START_MS);
    assert.match(p.output(), /Debugger listening/, 'the preload did open it');
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(alive(p.child), p.output());
    assert.deepEqual(listeningPorts(p.child.pid!), []);
  } finally {
    await stop(p);
  }
});

test('ipvs-ts check: SIGUSR1/SIGUSR2 write dumps (mode 0600), no inspector, not killed; comm and command line say ipvs-ts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ipvs-ts-signals-'));
  const server = createServer((c) => c.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const port = (server.address() as { port: number }).port;
  const conf = join(dir, 'k.conf');
  writeFileSync(conf, `virtual_server 127.0.0.1 ${port} {\n  delay_loop 1\n  protocol TCP\n  real_server 127.0.0.1 ${port} {\n    TCP_CHECK {\n      connect_timeout 1\n    }\n  }\n}\n`);
  const free9229 = await new Promise<boolean>((r) => createConnection(9229, '127.0.0.1').once('connect', function (this: ReturnType<typeof createConnection>) {
    this.destroy();
    r(false);
  }).once('error', () => r(true)));
  // `check` has no dump options: its dumps go to $TMPDIR/ipvs-ts.{data,stats}.
  const p = start([NODE, CLI, 'check', '-f', conf], { ...process.env, TMPDIR: dir });
  try {
    await waitFor('the first verdict', () => / UP /.test(p.output()), START_MS);
    const { data, stats } = await assertSignalsSafe(p, p.child.pid!, { data: join(dir, 'ipvs-ts.data'), stats: join(dir, 'ipvs-ts.stats') });
    assert.deepEqual(data.argv, ['check', '-f', conf]);
    assert.ok(typeof (stats.memory as { rss?: unknown }).rss === 'number');
    if (free9229) {
      const refused = await new Promise<boolean>((r) => createConnection(9229, '127.0.0.1').once('connect', () => r(false)).once('error', () => r(true)));
      assert.ok(refused, 'nothing listens on 127.0.0.1:9229');
    }
    assert.match(readFileSync(`/proc/${p.child.pid}/cmdline`, 'utf8'), new RegExp(`^ipvs-ts check -f ${conf}\\0`));
    const pidof = spawnSync('pidof', ['ipvs-ts'], { encoding: 'utf8' });
    if (pidof.error === undefined) assert.ok(pidof.stdout.trim().split(' ').includes(String(p.child.pid)), `pidof ipvs-ts: ${pidof.stdout}`);
    assert.equal(await stop(p), 0, p.output());
  } finally {
    await stop(p);
  }
});

test('ipvs-ts vrrp: SIGUSR1 dumps the instances, SIGUSR2 their counters; no inspector, not killed; the worker thread is named', { skip: labUnavailable(), timeout: 60_000 }, async () => {
  const lab = new Lab('sig');
  try {
    lab.setup({ a: ['10.9.1.1/24'] });
    const conf = lab.writeFile('a.conf', instanceConf({ vrid: 7, priority: 100, vips: ['10.9.1.100/24'] }));
    const files = { data: join(lab.dir, 'vrrp.data'), stats: join(lab.dir, 'vrrp.stats') };
    // `ip netns exec` execs the command, so the child's pid is the ipvs-ts process.
    const p = start(['ip', 'netns', 'exec', lab.ns('a'), NODE, CLI, 'vrrp', '-f', conf, '--data-file', files.data, '--stats-file', files.stats]);
    try {
      await waitFor('VRRP to start', () => /VRRP started/.test(p.output()), START_MS);
      const pid = p.child.pid!;
      const { data, stats } = await assertSignalsSafe(p, pid, files);
      const vrrp = data.vrrp as { name: string; state: string; interface: string; vrid: number; vips: string[] }[];
      assert.deepEqual(vrrp.map((i) => [i.name, i.interface, i.vrid, i.vips]), [['VI_1', 'eth0', 7, ['10.9.1.100/24']]]);
      assert.equal(data.vrrpFailure, null);
      const instances = stats.instances as { name: string; stats: Record<string, number> }[];
      assert.equal(instances[0]!.name, 'VI_1');
      assert.equal(typeof instances[0]!.stats.advert_rcvd, 'number');
      assert.ok('unmatched' in stats);
      const threads = readdirSync(`/proc/${pid}/task`).map((tid) => readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim());
      assert.ok(threads.includes('ipvs-ts-vrrp'), threads.join(', '));
      assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /^ipvs-ts vrrp -f /);
      assert.equal(await stop(p), 0, p.output());
    } finally {
      await stop(p);
    }
  } finally {
    await lab.cleanup();
  }
});

test('ipvs-ts daemon: the same on the director', { skip: existsSync('/proc/net/ip_vs') ? labUnavailable() : 'this kernel has no IPVS', timeout: 60_000 }, async () => {
  const lab = new Lab('sigd');
  try {
    lab.setup({ a: ['10.9.2.1/24'] });
    const conf = lab.writeFile('a.conf', `${instanceConf({ vrid: 8, priority: 100, vips: ['10.9.2.100/24'] })}virtual_server 10.9.2.100 80 {\n  protocol TCP\n  real_server 10.9.2.1 80 {\n    TCP_CHECK {\n    }\n  }\n}\n`);
    const files = { data: join(lab.dir, 'd.data'), stats: join(lab.dir, 'd.stats') };
    const run = join(lab.dir, 'run');
    const p = start([
      'ip', 'netns', 'exec', lab.ns('a'), NODE, CLI, 'daemon', '-f', conf, '--metrics', 'off', '--control', join(run, 'control.sock'),
      '--state', join(run, 'state.json'), '--run-dir', run, '--data-file', files.data, '--stats-file', files.stats,
    ]);
    try {
      await waitFor('the daemon to start', () => /started: /.test(p.output()), START_MS);
      const { data, stats } = await assertSignalsSafe(p, p.child.pid!, files);
      assert.deepEqual((data.virtualServers as { name: string }[]).map((v) => v.name), ['TCP 10.9.2.100:80']);
      assert.equal((data.vrrp as { name: string }[])[0]!.name, 'VI_1');
      assert.ok('vrrpUnmatched' in data && 'director' in stats && 'instances' in stats);
      assert.equal(await stop(p), 0, p.output());
    } finally {
      await stop(p);
    }
  } finally {
    await lab.cleanup();
  }
});
