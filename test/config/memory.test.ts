// What a loaded model keeps alive: its own values, not the text they were read from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseConfigText, type Config } from '../../src/config/index.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapUsed = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

/**
 * One virtual server whose values, written or from $definitions, are long enough for V8 to cut them as views into
 * the text, then 8 MB of comments.
 */
function load(): Config | undefined {
  const text = [
    '$DOWN=/usr/local/bin/notify-down.sh',
    '$SECOND=192.168.100.101 80',
    'virtual_server 10.0.0.1 80 {',
    ' lb_algo rr',
    ' lb_kind DR',
    ' quorum_up "/usr/local/bin/quorum-up.sh"',
    ' real_server 192.168.100.100 80 {',
    '  notify_up /usr/local/bin/notify-up.sh',
    '  HTTP_GET {',
    '   url {',
    '    path /health/check/long-enough',
    '    digest 0123456789abcdef0123456789abcdef',
    '   }',
    '   virtualhost www.example.org',
    '  }',
    ' }',
    ' real_server $SECOND {',
    '  notify_down "$DOWN"',
    ' }',
    '}',
    `# ${'x'.repeat(8_000_000)}`,
  ].join('\n');
  return parseConfigText(text, 'big.conf', { skipHostChecks: true }).config;
}

test('the model does not keep its source text alive (long values are copied out of it)', () => {
  const before = heapUsed();
  const config = load();
  const kept = heapUsed() - before;
  const rs = config?.virtualServers[0]?.realServers[0];
  assert.equal(rs?.address, '192.168.100.100');
  assert.equal(rs?.notifyUp, '/usr/local/bin/notify-up.sh');
  assert.equal(config?.virtualServers[0]?.quorumUp, '/usr/local/bin/quorum-up.sh');
  const second = config?.virtualServers[0]?.realServers[1];
  assert.deepEqual([second?.address, second?.port, second?.notifyDown], ['192.168.100.101', 80, '/usr/local/bin/notify-down.sh']);
  assert.equal(rs?.checkers[0]?.type === 'HTTP_GET' && rs.checkers[0].urls[0]?.path, '/health/check/long-enough');
  assert.ok(kept < 1_000_000, `the model keeps ${kept} bytes`);
});
