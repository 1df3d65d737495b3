import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatProblem, parseConfigText } from '../../src/config/index.ts';

const noHost = { skipHostChecks: true } as const;

test('parseConfigText returns the model and no problems for a minimal valid config', () => {
  const r = parseConfigText('vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n virtual_ipaddress {\n  10.0.0.1/24\n }\n}\n', 'mini.conf', noHost);
  assert.deepEqual(r.problems, []);
  const vi = r.config?.vrrpInstances[0];
  assert.equal(vi?.vrid, 7);
  assert.equal(vi?.virtualIps[0]?.prefix, 24);
});

test('an error leaves config undefined and formats as file:line:col', () => {
  const r = parseConfigText('vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 300\n}\n', 'bad.conf', noHost);
  assert.equal(r.config, undefined);
  const p = r.problems.find((x) => x.code === 'range');
  assert.ok(p);
  assert.equal(formatProblem(p), 'bad.conf:3:20: error: virtual_router_id 300 is out of range 1-255');
});
