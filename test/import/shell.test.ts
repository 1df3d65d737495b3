// src/import/shell.ts: the words sh would pass to each command of an ipvsadm script.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readShell } from '../../src/import/shell.ts';

const words = (text: string) => readShell(text).map((c) => c.words);

test('quotes, backslashes, comments and continuations', () => {
  assert.deepEqual(words(`ipvsadm -A -t '10.0.0.1:80' -s "rr" # a comment\necho a\\ b "c d" 'e$f'\nipvsadm -a \\\n  -t 10.0.0.1:80 \\\n  -r 10.0.0.2 -g`), [
    ['ipvsadm', '-A', '-t', '10.0.0.1:80', '-s', 'rr'],
    ['echo', 'a b', 'c d', 'e$f'],
    ['ipvsadm', '-a', '-t', '10.0.0.1:80', '-r', '10.0.0.2', '-g'],
  ]);
  const cont = readShell('a \\\n b\nc');
  assert.deepEqual(cont.map((c) => c.line), [1, 3], 'a continued command keeps its first line');
  assert.equal(cont[0]?.text, 'a b');
});

test('variables from the script: plain, exported, braced, same line, split when unquoted, whole in assignments and quotes', () => {
  const cmds = readShell([
    "IPVSADM='/sbin/ipvsadm'",
    'export VIP=10.0.0.1 PORT=80',
    'OPTS="-s wrr -p 300"',
    'ALL=$OPTS',
    '$IPVSADM -A -t $VIP:${PORT} $OPTS',
    '$IPVSADM -A -t "$VIP:$PORT" "$OPTS"',
    'X=1; echo $X; X=2 && echo $X',
    'echo $ALL',
  ].join('\n'));
  assert.deepEqual(cmds.map((c) => c.words), [
    ['/sbin/ipvsadm', '-A', '-t', '10.0.0.1:80', '-s', 'wrr', '-p', '300'],
    ['/sbin/ipvsadm', '-A', '-t', '10.0.0.1:80', '-s wrr -p 300'],
    ['echo', '1'],
    ['echo', '2'],
    ['echo', '-s', 'wrr', '-p', '300'],
  ]);
  assert.ok(cmds.every((c) => c.unresolved.length === 0));
});

test('what the script does not set stays unresolved, as written', () => {
  const [a, b, c, d] = readShell('ipvsadm -a -t $VIP:80 -r $1\nRS=$(hostname)\nipvsadm -r $RS `date` $(( 1 + 2 ))\nfor rs in a b; do ipvsadm -r $rs; done\nRIP=x ipvsadm -r $RIP');
  assert.deepEqual(a?.unresolved, ['$VIP', '$1']);
  assert.deepEqual(a?.words, ['ipvsadm', '-a', '-t', '$VIP:80', '-r', '$1']);
  assert.deepEqual(b?.unresolved, ['$RS', '`date`', '$(( 1 + 2 ))']);
  assert.deepEqual(c?.words, ['for', 'rs', 'in', 'a', 'b']);
  assert.deepEqual(d?.unresolved, ['$rs']);
  assert.deepEqual(readShell('RIP=x ipvsadm -r $RIP')[0]?.words, ['ipvsadm', '-r', '$RIP'], 'a prefix assignment is for the command, not the script');
  assert.deepEqual(readShell('A=$(x) B=1\necho $A $B').map((c) => [c.words, c.unresolved]), [[['echo', '$A', '1'], ['$A']]], 'only the variable with the substitution is unknown');
});

test('separators split commands; redirections are set aside', () => {
  const cmds = readShell('ipvsadm -C > /dev/null 2>&1 && echo 1 > /proc/sys/net/ipv4/ip_forward; a | b || c & d');
  assert.deepEqual(cmds.map((c) => c.words), [['ipvsadm', '-C'], ['echo', '1'], ['a'], ['b'], ['c'], ['d']]);
  assert.deepEqual(cmds[0]?.redirects, ['/dev/null', '1']);
  assert.deepEqual(cmds[1]?.redirects, ['/proc/sys/net/ipv4/ip_forward']);
  assert.equal(cmds[1]?.text, 'echo 1 > /proc/sys/net/ipv4/ip_forward');
});
