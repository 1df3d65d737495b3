// SMTP alerts end to end: the real Director (kernel, checkers and VRRP faked, test/director/fakes.ts) feeding the
// real alerting path (rules, rate limits, queue, nodemailer), against a real SMTP server process on loopback
// (aiosmtpd), a server that never answers, and a closed port.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test, type TestContext } from 'node:test';
import { Alerts, type AlertEvent, type AlertLimits } from '../../src/control/alerts.ts';
import { DirectorMetrics } from '../../src/control/metrics.ts';
import { describeEvent } from '../../src/director/events.ts';
import { config, harness, type Harness } from '../director/fakes.ts';
import { closedPort, silentServer, SmtpSink, SMTP_SINK_SKIP, type Received } from './smtp-sink.ts';

const RECIPIENTS = ['ops@example.com', 'night@example.com'];

function conf(server: string, opts: { globals?: string; instances?: string; realServers?: string[] } = {}): string {
  const realServers = opts.realServers ?? ['10.1.0.1', '10.1.0.2'];
  return `global_defs {
  router_id lb1
  notification_email {
    ops@example.com
    "Night Shift <night@example.com>"
  }
  notification_email_from lb1@example.com
  smtp_server ${server}
  smtp_connect_timeout 1
  smtp_helo_name lb1.example.com
  ${opts.globals ?? ''}
}
${opts.instances ?? 'vrrp_instance VI_1 {\n  interface lo\n  virtual_router_id 1\n  smtp_alert\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}'}
virtual_server 10.0.0.1 80 {
  lb_algo rr
  lb_kind DR
${realServers.map((a) => `  real_server ${a} 80 {\n    TCP_CHECK {\n      connect_timeout 1\n    }\n  }`).join('\n')}
}
`;
}

interface Rig {
  readonly h: Harness;
  readonly alerts: Alerts;
  /** The alert events the director reported, in order. */
  outcomes(): AlertEvent[];
}

async function rig(t: TestContext, text: string, limits: AlertLimits = { coalesceMs: 300, perMinute: 30, queue: 30 }): Promise<Rig> {
  const h = harness(config(text));
  const alerts = new Alerts({ config: () => h.director.config, report: (e) => h.director.report(e), limits });
  h.director.onEvent(alerts.onEvent);
  t.after(async () => {
    await alerts.stop(0);
    await h.director.stop();
  });
  await h.director.start();
  return { h, alerts, outcomes: () => h.events.filter((e): e is AlertEvent & { at: number } => e.type === 'alert') };
}

async function sink(t: TestContext): Promise<SmtpSink> {
  const s = await SmtpSink.start();
  t.after(() => s.stop());
  return s;
}

async function until<T>(what: string, get: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const line = (m: Received) => `${m.headers['subject']} | ${m.body.trimEnd()}`;

test("a VRRP transition and a real server going down and up mail keepalived's subject and body to every recipient", { skip: SMTP_SINK_SKIP }, async (t) => {
  const smtp = await sink(t);
  const { h, outcomes } = await rig(t, conf(`127.0.0.1 ${smtp.port}`));
  const metrics = new DirectorMetrics(() => h.director.tables());
  h.director.onEvent(metrics.onEvent);
  t.after(() => metrics.close());

  h.vrrps[0]!.transition('VI_1', 'BACKUP', 'MASTER');
  const c = h.checker('10.0.0.1');
  c.verdict('10.1.0.1', false);
  c.verdict('10.1.0.1', true);
  const got = await smtp.waitFor(3);
  assert.deepEqual(got.map(line), [
    '[lb1] VRRP Instance VI_1 - Entering MASTER state | => VRRP Instance is now owning VRRP VIPs <=',
    '[lb1] Realserver [10.1.0.1]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - DOWN | => TCP CHECK failed on service <=',
    // Held back by the per-key window (300 ms here), then sent: it is a change from the last one sent.
    '[lb1] Realserver [10.1.0.1]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - UP | => TCP CHECK succeed on service <=',
  ]);
  for (const m of got) {
    assert.deepEqual([m.mailFrom, m.rcptTo, m.helo], ['lb1@example.com', RECIPIENTS, 'lb1.example.com']);
    assert.deepEqual([m.headers['from'], m.headers['to'], m.headers['x-mailer']], ['lb1@example.com', 'ops@example.com, Night Shift <night@example.com>', 'ipvs-ts']);
  }
  await until('three sent events', () => (outcomes().length === 3 ? true : undefined));
  assert.deepEqual(outcomes().map((e) => e.result), ['sent', 'sent', 'sent']);
  assert.match(describeEvent(outcomes()[0]!), new RegExp(`^alert sent: \\[lb1\\] VRRP Instance VI_1 - Entering MASTER state \\(to ops@example.com, night@example.com via 127.0.0.1:${smtp.port}\\)$`));
  const text = await metrics.render();
  assert.match(text, /^ipvs_ts_alerts_total\{result="sent"\} 3$/m);
  assert.match(text, /^ipvs_ts_alerts_total\{result="failed"\} 0$/m);
  assert.match(text, /^ipvs_ts_alerts_total\{result="dropped"\} 0$/m);
});

test('smtp_alert off suppresses, and a block that says smtp_alert mails all the same', { skip: SMTP_SINK_SKIP }, async (t) => {
  const smtp = await sink(t);
  const instances = ['VI_1 {\n  smtp_alert', 'VI_2 {'].map((head, i) => `vrrp_instance ${head}\n  interface lo\n  virtual_router_id ${i + 1}\n}`).join('\n');
  const text = conf(`127.0.0.1 ${smtp.port}`, { globals: 'smtp_alert off', instances }).replace('  real_server 10.1.0.2 80 {\n', '  real_server 10.1.0.2 80 {\n    smtp_alert on\n');
  const { h, outcomes } = await rig(t, text);
  h.vrrps[0]!.transition('VI_2', 'BACKUP', 'MASTER');
  const c = h.checker('10.0.0.1');
  c.verdict('10.1.0.1', false);
  c.verdict('10.1.0.2', false);
  h.vrrps[0]!.transition('VI_1', 'BACKUP', 'MASTER');
  // One queue sends in order: had the first two been mailed, they would have arrived before these.
  assert.deepEqual((await smtp.waitFor(2)).map((m) => m.headers['subject']), [
    '[lb1] Realserver [10.1.0.2]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - DOWN',
    '[lb1] VRRP Instance VI_1 - Entering MASTER state',
  ]);
  await until('two sent events', () => (outcomes().length === 2 ? true : undefined));
  assert.equal(smtp.messages().length, 2);
});

for (const kind of ['a server that accepts and never answers', 'a closed port'] as const) {
  test(`${kind}: verdicts and transitions never wait for it, and every mail is counted as failed`, async (t) => {
    const silent = kind === 'a closed port' ? undefined : await silentServer();
    if (silent) t.after(() => silent.close());
    const port = silent?.port ?? (await closedPort());
    const { h, outcomes } = await rig(t, conf(`127.0.0.1 ${port}`));
    const metrics = new DirectorMetrics(() => h.director.tables());
    h.director.onEvent(metrics.onEvent);
    t.after(() => metrics.close());

    const c = h.checker('10.0.0.1');
    c.verdict('10.1.0.1', true);
    c.verdict('10.1.0.2', true);
    await h.director.idle();
    // Three alerts in flight or waiting while the director works on.
    const started = performance.now();
    h.vrrps[0]!.transition('VI_1', 'BACKUP', 'MASTER');
    c.verdict('10.1.0.1', false);
    c.verdict('10.1.0.2', false);
    await h.director.idle();
    const verdictMs = performance.now() - started;
    assert.deepEqual(h.kernel.view(), { 'TCP 10.0.0.1:80': [] });
    // Well before the mail server's 1 s timeout, which the silent one makes the mails wait for.
    assert.ok(verdictMs < 500, `the verdicts reached the kernel in ${verdictMs.toFixed(1)} ms`);
    if (silent) assert.equal(outcomes().length, 0, 'nothing has been decided about the mails yet');

    const failed = await until('three failed alerts', () => (outcomes().length === 3 ? outcomes() : undefined), 10_000);
    assert.deepEqual(failed.map((e) => e.result), ['failed', 'failed', 'failed']);
    // nodemailer's code says what failed: no greeting (or no byte at all) within smtp_connect_timeout, or a refusal.
    for (const e of failed) assert.match(e.reason, silent ? /^ETIMEDOUT: / : /^ESOCKET: connect ECONNREFUSED/);
    if (silent) assert.ok(performance.now() - started >= 2_900, 'one at a time, each after its 1 s greeting timeout');
    assert.match(await metrics.render(), /^ipvs_ts_alerts_total\{result="failed"\} 3$/m);
  });
}

test('a flapping real server is coalesced: its first change at once, then only its latest state when the window ends', { skip: SMTP_SINK_SKIP }, async (t) => {
  const smtp = await sink(t);
  const { h, outcomes } = await rig(t, conf(`127.0.0.1 ${smtp.port}`), { coalesceMs: 400, perMinute: 30, queue: 30 });
  const c = h.checker('10.0.0.1');
  for (let i = 0; i < 20; i++) c.verdict('10.1.0.1', i % 2 === 1);
  const got = await smtp.waitFor(2);
  assert.deepEqual(got.map((m) => m.headers['subject']), [
    '[lb1] Realserver [10.1.0.1]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - DOWN',
    '[lb1] Realserver [10.1.0.1]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - UP',
  ]);
  const dropped = outcomes().filter((e) => e.result === 'dropped');
  assert.equal(dropped.length, 18);
  assert.match(dropped[0]!.reason, /^a newer alert about the same thing came within 0.4 s of the last one sent$/);
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.equal(smtp.messages().length, 2);
});

test('a storm across many real servers is capped per minute; the rest is dropped and counted', { skip: SMTP_SINK_SKIP }, async (t) => {
  const smtp = await sink(t);
  const servers = Array.from({ length: 8 }, (_, i) => `10.1.0.${i + 1}`);
  const { h, outcomes } = await rig(t, conf(`127.0.0.1 ${smtp.port}`, { realServers: servers }), { coalesceMs: 60_000, perMinute: 5, queue: 30 });
  const c = h.checker('10.0.0.1');
  for (const a of servers) c.verdict(a, false);
  assert.equal((await smtp.waitFor(5)).length, 5);
  await until('five sent events', () => (outcomes().filter((e) => e.result === 'sent').length === 5 ? true : undefined));
  const dropped = outcomes().filter((e) => e.result === 'dropped');
  assert.deepEqual(dropped.map((e) => e.subject.replace(/ of virtual server.*/, '')), ['[lb1] Realserver [10.1.0.6]:tcp:80', '[lb1] Realserver [10.1.0.7]:tcp:80', '[lb1] Realserver [10.1.0.8]:tcp:80']);
  assert.ok(dropped.every((e) => e.reason === 'more than 5 alerts in a minute'));
});

test('stopping sends what the window holds back: the instances\' "Stopping"', { skip: SMTP_SINK_SKIP }, async (t) => {
  const smtp = await sink(t);
  const { h, alerts, outcomes } = await rig(t, conf(`127.0.0.1 ${smtp.port}`), { coalesceMs: 60_000, perMinute: 30, queue: 30 });
  h.vrrps[0]!.transition('VI_1', 'BACKUP', 'MASTER');
  // The director's stop says so before VRRP's last transitions (a STOP outside a stop is an instance a reload removed).
  h.director.report({ type: 'stopping' });
  h.vrrps[0]!.hooks.transition({ instance: 'VI_1', from: 'MASTER', to: 'STOP', priority: 0 });
  await alerts.stop(3_000);
  assert.deepEqual((await smtp.waitFor(2)).map(line), [
    '[lb1] VRRP Instance VI_1 - Entering MASTER state | => VRRP Instance is now owning VRRP VIPs <=',
    '[lb1] VRRP Instance VI_1 - Stopping | => VRRP Instance stopping <=',
  ]);
  assert.deepEqual(outcomes().map((e) => e.result), ['sent', 'sent'], 'both were sent before stop() returned');
});
