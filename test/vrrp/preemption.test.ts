// nopreempt and preempt_delay as keepalived 2.2.7's vrrp_complete_instance (vrrp.c) leaves them, strict mode's
// state rewrite included: what check-config says and what the state machine gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/index.ts';
import { instanceSettings } from '../../src/vrrp/instance-settings.ts';

test('nopreempt and preempt_delay as keepalived leaves them: an owner always preempts, a MASTER neither waits nor stays back', () => {
  const vi = (body: string) => `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 1\n${body}\n  virtual_ipaddress {\n    10.0.0.1/24\n  }\n}\n`;
  const of = (body: string) => {
    const r = parseConfigText(vi(body), 'k.conf', { skipHostChecks: true });
    const i = r.config!.vrrpInstances[0]!;
    return { warnings: r.problems.map((p) => p.message.replace(/^vrrp_instance VI_1: /, '')), delay: i.preemptDelayMs, preempt: instanceSettings(r.config!, i, '10.0.0.2').params.preempt };
  };
  const owner = of('  state BACKUP\n  priority 255\n  nopreempt');
  assert.deepEqual([owner.preempt, owner.warnings], [true, ['nopreempt is incompatible with priority 255 (the address owner always preempts); it is ignored, as keepalived does']]);
  const master = of('  state MASTER\n  priority 100\n  nopreempt\n  preempt_delay 5');
  assert.deepEqual([master.preempt, master.delay], [true, 0]);
  assert.deepEqual(master.warnings, ['nopreempt only works with state BACKUP (as in keepalived); it is ignored for a MASTER', 'preempt_delay does not work with state MASTER; reset to 0, as keepalived does']);
  const both = of('  state BACKUP\n  priority 100\n  nopreempt\n  preempt_delay 5');
  assert.deepEqual([both.preempt, both.delay, both.warnings], [false, 0, ['preempt_delay is incompatible with nopreempt; reset to 0, as keepalived does']]);
  // Strict mode turns a non-owner MASTER into a BACKUP first, so its nopreempt then works (keepalived's order).
  const strict = of('  strict_mode\n  state MASTER\n  priority 100\n  nopreempt');
  assert.deepEqual([strict.preempt, strict.warnings.length], [false, 1]);
  assert.match(strict.warnings[0]!, /state MASTER must match being the address owner/);
  const plain = of('  state BACKUP\n  priority 100\n  preempt_delay 5');
  assert.deepEqual([plain.preempt, plain.delay, plain.warnings], [true, 5000, []]);
});
