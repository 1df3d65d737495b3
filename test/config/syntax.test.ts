// Lexer, statement tree, includes and $definitions, through the public API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfigText, type Problem } from '../../src/config/index.ts';
import { lexLine, type Token } from '../../src/config/lexer.ts';

const opts = { skipHostChecks: true } as const;
const instance = (body: string): string => `vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n${body}\n}\n`;
const errors = (ps: Problem[]): Problem[] => ps.filter((p) => p.severity === 'error');

function lex(line: string): [string, string, number][] {
  const out: Token[] = [];
  lexLine(line, 'f', 1, out);
  return out.map((t) => [t.kind, t.text, t.col]);
}

test('lexer: comments anywhere outside quotes, escapes, glued braces, quoted strings with spaces', () => {
  assert.deepEqual(lex('priority 100 # comment { }'), [['word', 'priority', 1], ['word', '100', 10]]);
  assert.deepEqual(lex('\tweight -5 !comment'), [['word', 'weight', 2], ['word', '-5', 9]]);
  assert.deepEqual(lex('real_server 1.2.3.4 80{'), [['word', 'real_server', 1], ['word', '1.2.3.4', 13], ['word', '80', 21], ['{', '{', 23]]);
  assert.deepEqual(lex('script "killall -0 nginx # not a comment"'), [['word', 'script', 1], ['string', 'killall -0 nginx # not a comment', 8]]);
  assert.deepEqual(lex('path /a\\#b'), [['word', 'path', 1], ['word', '/a#b', 6]]);
  assert.deepEqual(lex('auth_pass 1111}'), [['word', 'auth_pass', 1], ['word', '1111', 11], ['}', '}', 15]]);
});

test('blocks open on the same line, on the next line, or close on a value line', () => {
  const text = 'vrrp_instance VI_1\n{\n interface eth0\n virtual_router_id 51\n authentication { auth_type PASS\n auth_pass 1111 }\n virtual_ipaddress { 10.0.0.1/24 }\n}\n';
  const r = parseConfigText(text, 'x.conf', opts);
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.config?.vrrpInstances[0]?.auth, { type: 'PASS', pass: '1111' });
  assert.equal(r.config?.vrrpInstances[0]?.virtualIps[0]?.address, '10.0.0.1');
});

test('a trailing backslash continues the line; CRLF line ends are accepted', () => {
  const r = parseConfigText(instance(' notify_master "/bin/echo master" \\\r\n   nobody\r\n priority 42\r'), 'x.conf', opts);
  assert.deepEqual(errors(r.problems), []);
  assert.deepEqual([r.config?.vrrpInstances[0]?.notify.master, r.config?.vrrpInstances[0]?.notify.users], ['/bin/echo master', { master: { user: 'nobody' } }]);
  assert.equal(r.config?.vrrpInstances[0]?.priority, 42);
});

test('$NAME=value definitions: $NAME and ${NAME}, inside words and quotes, multi-line values', () => {
  const text = [
    '$VIP=10.1.1.1',
    '$IF=eth1',
    '$AUTH=auth_type PASS \\',
    '  auth_pass secret',
    'vrrp_instance VI_1 {',
    ' interface $IF',
    ' virtual_router_id 9',
    ' authentication {',
    '  $AUTH',
    ' }',
    ' virtual_ipaddress {',
    '  ${VIP}/24 dev $IF',
    ' }',
    ' notify_master "/bin/up.sh $VIP"',
    '}',
  ].join('\n');
  const r = parseConfigText(text, 'x.conf', opts);
  assert.deepEqual(r.problems.map((p) => p.code), ['lenient'], 'only the script security note');
  const vi = r.config?.vrrpInstances[0];
  assert.equal(vi?.interface, 'eth1');
  assert.deepEqual(vi?.auth, { type: 'PASS', pass: 'secret' });
  assert.deepEqual([vi?.virtualIps[0]?.address, vi?.virtualIps[0]?.prefix, vi?.virtualIps[0]?.dev], ['10.1.1.1', 24, 'eth1']);
  assert.equal(vi?.notify.master, '/bin/up.sh 10.1.1.1');
});

test('an undefined $NAME is a positioned warning and is kept as written', () => {
  const r = parseConfigText(instance(' interface $NOPE'), 'x.conf', opts);
  const w = r.problems.find((p) => p.code === 'undefined-variable');
  assert.deepEqual([w?.severity, w?.pos?.line, w?.pos?.col], ['warning', 4, 12]);
  assert.equal(r.config?.vrrpInstances[0]?.interface, '$NOPE');
});

test('include: globs relative to the including file, nested directories, missing files and loops', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ipvs-ts-include-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'conf.d'));
  writeFileSync(join(dir, 'keepalived.conf'), 'global_defs {\n router_id main\n}\ninclude conf.d/*.conf\n');
  writeFileSync(join(dir, 'conf.d', 'a.conf'), 'include ../vs/web.inc\n');
  writeFileSync(join(dir, 'conf.d', 'b.conf'), instance(' priority 150'));
  mkdirSync(join(dir, 'vs'));
  // Definitions are global across files, and an include may sit inside a block.
  writeFileSync(join(dir, 'vs', 'web.inc'), '$PORT=80\nvirtual_server 10.0.0.1 $PORT {\n lb_algo rr\n lb_kind NAT\n include rs.inc\n}\n');
  writeFileSync(join(dir, 'vs', 'rs.inc'), 'real_server 10.0.1.1 $PORT {\n  TCP_CHECK {\n  }\n}\n');
  const ok = loadConfig(join(dir, 'keepalived.conf'), opts);
  assert.deepEqual(ok.problems, []);
  assert.equal(ok.config?.globalDefs.routerId, 'main');
  assert.equal(ok.config?.vrrpInstances[0]?.priority, 150);
  assert.equal(ok.config?.virtualServers[0]?.realServers[0]?.address, '10.0.1.1');
  assert.equal(ok.config?.virtualServers[0]?.realServers[0]?.port, 80);
  assert.deepEqual(ok.config?.files.map((f) => f.slice(dir.length + 1)), ['keepalived.conf', 'conf.d/a.conf', 'vs/web.inc', 'vs/rs.inc', 'conf.d/b.conf']);
  assert.equal(ok.config?.virtualServers[0]?.pos.file, join(dir, 'vs', 'web.inc'));

  writeFileSync(join(dir, 'missing.conf'), '\n  include nothing/here.conf\ninclude none-*.conf\n');
  const missing = loadConfig(join(dir, 'missing.conf'), opts);
  assert.deepEqual(missing.problems.map((p) => [p.code, p.pos?.line, p.pos?.col]), [['include-missing', 2, 11], ['include-missing', 3, 9]]);
  assert.match(missing.problems[0]?.message ?? '', /cannot read .*nothing\/here\.conf: no such file/);

  // `**` is glob(3)'s `*`: one directory level, never a recursive walk.
  mkdirSync(join(dir, 'deep', 'a', 'b'), { recursive: true });
  writeFileSync(join(dir, 'deep', 'a', 'x.conf'), 'global_defs {\n router_id shallow\n}\n');
  writeFileSync(join(dir, 'deep', 'a', 'b', 'y.conf'), 'global_defs {\n router_id deep\n}\n');
  writeFileSync(join(dir, 'star.conf'), 'include deep/**/*.conf\n');
  const star = loadConfig(join(dir, 'star.conf'), opts);
  assert.deepEqual([star.problems, star.config?.globalDefs.routerId], [[], 'shallow']);

  writeFileSync(join(dir, 'loop-a.conf'), 'include loop-b.conf\n');
  writeFileSync(join(dir, 'loop-b.conf'), '\ninclude loop-a.conf\n');
  const loop = loadConfig(join(dir, 'loop-a.conf'), opts);
  assert.deepEqual(loop.problems.map((p) => [p.code, p.pos?.file.slice(dir.length + 1), p.pos?.line]), [['include-loop', 'loop-b.conf', 2]]);
  assert.equal(loop.config, undefined);
});
