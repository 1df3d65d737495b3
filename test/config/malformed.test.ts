// Broken inputs: each gives a clear, positioned error and never an exception; random mutations never throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, parseConfigText, PROBLEM_CODES, type LoadResult, type ProblemCode } from '../../src/config/index.ts';

const opts = { skipHostChecks: true } as const;
const VALID = readFileSync(fileURLToPath(new URL('../fixtures/seeds/lvs-dr-tcp-check-master.conf', import.meta.url)), 'utf8');
const vi = (body: string): string => `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n${body}\n}\n`;
const vs = (body: string): string => `virtual_server 10.0.0.1 80 {\n  lb_algo rr\n  lb_kind DR\n${body}\n}\n`;
const rs = (body: string): string => vs(`  real_server 10.0.1.1 80 {\n${body}\n  }`);

interface Case {
  readonly name: string;
  readonly text: string;
  readonly code: ProblemCode;
  readonly line: number;
  readonly message: RegExp;
}

const cases: Case[] = [
  { name: 'truncated inside a block', text: VALID.slice(0, VALID.indexOf('real_server 192.168.1.28')), code: 'unbalanced-braces', line: 16, message: /never closed/ },
  { name: 'truncated mid-word', text: vi('  priority 10').slice(0, -4), code: 'unbalanced-braces', line: 1, message: /'\{' opened here is never closed/ },
  { name: 'extra closing brace', text: `${vi('  priority 10')}}\n`, code: 'unbalanced-braces', line: 6, message: /'\}' without a matching '\{'/ },
  { name: 'brace without keyword', text: '{\n  priority 1\n}\n', code: 'syntax', line: 1, message: /'\{' without a keyword/ },
  { name: 'unterminated quote', text: vi('  notify_master "/bin/echo up'), code: 'syntax', line: 4, message: /unterminated quoted string/ },
  { name: 'quote closed only on a later line', text: vi('  notify_master "/bin/echo up\n  notify_backup "/bin/down"'), code: 'syntax', line: 4, message: /unterminated quoted string/ },
  { name: 'priority not a number', text: vi('  priority high'), code: 'bad-value', line: 4, message: /priority: 'high' is not a whole number/ },
  { name: 'priority fractional', text: vi('  priority 1.5'), code: 'bad-value', line: 4, message: /not a whole number/ },
  { name: 'priority out of range', text: vi('  priority 0'), code: 'range', line: 4, message: /priority 0 is out of range 1-255/ },
  { name: 'VRID out of range', text: 'vrrp_instance V {\n  interface eth0\n  virtual_router_id 256\n}\n', code: 'range', line: 3, message: /virtual_router_id 256 is out of range 1-255/ },
  { name: 'negative delay_loop', text: vs('  delay_loop -1'), code: 'bad-value', line: 4, message: /delay_loop: '-1' is not a number of seconds/ },
  { name: 'weight too large', text: rs('    weight 99999999'), code: 'range', line: 5, message: /weight 99999999 is out of range 0-65535/ },
  { name: 'advert_int zero', text: vi('  advert_int 0'), code: 'range', line: 4, message: /advert_int 0 is out of range/ },
  { name: 'bad IPv4 address', text: vi('  virtual_ipaddress {\n    999.1.1.1\n  }'), code: 'bad-value', line: 5, message: /'999\.1\.1\.1' is not an IPv4 or IPv6 address/ },
  { name: 'prefix too long', text: vi('  virtual_ipaddress {\n    10.0.0.1/33\n  }'), code: 'range', line: 5, message: /prefix length of 10\.0\.0\.1 33 is out of range 0-32/ },
  { name: 'short virtual server address', text: 'virtual_server 10.0.0 80 {\n}\n', code: 'bad-value', line: 1, message: /virtual_server: '10\.0\.0' is not an IPv4 or IPv6 address/ },
  { name: 'port out of range', text: 'virtual_server 10.0.0.1 70000 {\n}\n', code: 'range', line: 1, message: /virtual_server port 70000 is out of range 0-65535/ },
  { name: 'bad mcast_src_ip', text: vi('  mcast_src_ip 10.0.0.300'), code: 'bad-value', line: 4, message: /mcast_src_ip: '10\.0\.0\.300'/ },
  { name: 'unknown lb_algo', text: 'virtual_server 10.0.0.1 80 {\n  lb_algo roundrobin\n}\n', code: 'bad-value', line: 2, message: /unknown lb_algo 'roundrobin'; expected one of/ },
  { name: 'unknown lb_kind', text: 'virtual_server 10.0.0.1 80 {\n  lb_kind GRE\n}\n', code: 'bad-value', line: 2, message: /unknown lb_kind 'GRE'/ },
  { name: 'unknown state', text: vi('  state PRIMARY'), code: 'bad-value', line: 4, message: /unknown state 'PRIMARY'/ },
  { name: 'unknown auth_type', text: vi('  authentication {\n    auth_type MD5\n    auth_pass x\n  }'), code: 'bad-value', line: 5, message: /unknown auth_type 'MD5'/ },
  { name: 'digest not hex', text: rs('    HTTP_GET {\n      url {\n        path /\n        digest zz20ad2481f97b1754ef3e12ecd3a9cc\n      }\n    }'), code: 'bad-value', line: 8, message: /is not an MD5 digest/ },
  { name: 'status code out of range', text: rs('    HTTP_GET {\n      url {\n        path /\n        status_code 99\n      }\n    }'), code: 'bad-value', line: 8, message: /status_code '99'/ },
  { name: 'HTTP_GET without url', text: rs('    HTTP_GET {\n    }'), code: 'missing', line: 5, message: /HTTP_GET has no url/ },
  { name: 'MISC_CHECK without misc_path', text: rs('    MISC_CHECK {\n    }'), code: 'missing', line: 5, message: /MISC_CHECK has no misc_path/ },
  { name: 'missing argument', text: vs('  lb_algo'), code: 'arguments', line: 4, message: /lb_algo is missing an argument; usage/ },
  { name: 'block where none belongs', text: vi('  priority 100 {\n  }'), code: 'arguments', line: 4, message: /priority does not take a \{ \} block/ },
  { name: 'block keyword without block', text: vi('  virtual_ipaddress'), code: 'arguments', line: 4, message: /virtual_ipaddress needs a \{ \} block/ },
  { name: 'misspelt keyword', text: vi('  advert_intt 1'), code: 'unknown-keyword', line: 4, message: /unknown keyword 'advert_intt' in vrrp_instance VI_1; did you mean 'advert_int'\?/ },
  { name: 'real_server at top level', text: 'real_server 10.0.0.1 80 {\n}\n', code: 'unknown-keyword', line: 1, message: /unknown keyword 'real_server' in the top level/ },
  { name: 'duplicate instance name', text: `${vi('')}${vi('').replace('51', '52')}`, code: 'duplicate', line: 6, message: /vrrp_instance VI_1 is defined twice \(first at k\.conf:1:1\)/ },
  { name: 'track_script names nothing', text: vi('  track_script {\n    chk_missing\n  }'), code: 'reference', line: 5, message: /track_script chk_missing names no vrrp_script/ },
  { name: 'reversed group range', text: 'virtual_server_group G {\n  10.0.0.20-10 80\n}\n', code: 'bad-value', line: 2, message: /range 10\.0\.0\.20-10/ },
  { name: 'include without a name', text: 'include\n', code: 'arguments', line: 1, message: /include needs a file name/ },
  { name: 'binary garbage with NUL', text: `global_defs {\n\u0000\u0001\u00ff\u0007garbage`, code: 'syntax', line: 2, message: /binary data \(a NUL byte\)/ },
  { name: 'binary garbage without NUL', text: '\u0089PNG\r\n\u001a\n\u00fe\u00ed{{', code: 'unknown-keyword', line: 1, message: /unknown keyword '\\x89PNG' in the top level/ },
  { name: 'definitions that expand exponentially', text: `$H=x\n${['G', 'F', 'E', 'D', 'C', 'B', 'A'].map((n, i) => `$${n}=${`$${'HGFEDCB'[i]}`.repeat(10)}`).join('\n')}\nglobal_defs {\n  router_id $A\n}\n`, code: 'syntax', line: 10, message: /expand to more than 65536 characters/ },
  { name: 'definitions that expand to ever more words', text: `$H=x\n${['G', 'F', 'E', 'D', 'C', 'B', 'A'].map((n, i) => `$${n}=${`$${'HGFEDCB'[i]} `.repeat(10)}`).join('\n')}\nglobal_defs {\n  router_id $A\n}\n`, code: 'syntax', line: 10, message: /expand to more than 65536 characters/ },
  { name: 'a line of unclosed ${', text: `global_defs {\n  router_id ${'${ '.repeat(50_000)}\n}\n`, code: 'syntax', line: 2, message: /nested deeper than 16 levels/ },
  { name: 'absurdly deep nesting', text: `${'a {\n'.repeat(100_000)}`, code: 'syntax', line: 17, message: /nested deeper than 16 levels/ },
];

function assertClean(r: LoadResult): void {
  for (const p of r.problems) {
    assert.ok(PROBLEM_CODES.includes(p.code), `unknown code ${p.code}`);
    assert.equal(typeof p.message, 'string');
    assert.doesNotMatch(p.message, /\n\s+at /, 'no stack traces in messages');
  }
  if (r.config === undefined) assert.ok(r.problems.some((p) => p.severity === 'error'), 'no config means at least one error');
}

test(`${cases.length} crafted broken configs each give a positioned error`, () => {
  assert.ok(cases.length >= 30);
  for (const c of cases) {
    let r: LoadResult | undefined;
    assert.doesNotThrow(() => {
      r = parseConfigText(c.text, 'k.conf', opts);
    }, c.name);
    assert.ok(r);
    assertClean(r);
    assert.equal(r.config, undefined, `${c.name}: should be rejected`);
    const hit = r.problems.find((p) => p.severity === 'error' && p.code === c.code && c.message.test(p.message));
    assert.ok(hit, `${c.name}: expected ${c.code} ${c.message}, got:\n${r.problems.map((p) => `${p.code} ${p.pos?.line}: ${p.message}`).join('\n')}`);
    assert.equal(hit.pos?.file, 'k.conf', c.name);
    assert.equal(hit.pos?.line, c.line, `${c.name}: line`);
    assert.ok((hit.pos?.col ?? 0) >= 1, `${c.name}: column`);
  }
});

test('file-level failures: missing file, a directory, self include, include loop across files', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ipvs-ts-bad-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const missing = loadConfig(join(dir, 'nope.conf'), opts);
  assert.deepEqual(missing.problems.map((p) => [p.code, p.severity]), [['io', 'error']]);
  assert.match(missing.problems[0]?.message ?? '', /cannot read .*nope\.conf: no such file/);
  assert.match(loadConfig(dir, opts).problems[0]?.message ?? '', /is a directory/);
  writeFileSync(join(dir, 'self.conf'), '! me\ninclude self.conf\n');
  const self = loadConfig(join(dir, 'self.conf'), opts);
  assert.deepEqual(self.problems.map((p) => [p.code, p.pos?.line, p.pos?.col]), [['include-loop', 2, 9]]);
  writeFileSync(join(dir, 'a.conf'), 'include b.conf\n');
  writeFileSync(join(dir, 'b.conf'), 'include c.conf\n');
  writeFileSync(join(dir, 'c.conf'), 'include a.conf\n');
  const loop = loadConfig(join(dir, 'a.conf'), opts);
  assert.equal(loop.problems[0]?.code, 'include-loop');
  assert.match(loop.problems[0]?.message ?? '', /a\.conf → .*b\.conf → .*c\.conf → .*a\.conf/);
});

test('a 10 MB config with an error at its end is reported at the right line', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ipvs-ts-big-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Comment-heavy, as big generated configs are: the size is what matters here, the bench covers dense configs.
  const block = `virtual_server 10.NNN.1 80 {  ${'#'.repeat(900)}\n  lb_algo rr\n  lb_kind DR\n}\n`;
  const count = Math.ceil(10_000_000 / block.length);
  const text = `${Array.from({ length: count }, (_, i) => block.replace('NNN', `${i >> 8}.${i & 255}`)).join('')}virtual_server 192.0.2.1 80 {\n`;
  assert.ok(text.length >= 10_000_000);
  const file = join(dir, 'big.conf');
  writeFileSync(file, text);
  const r = loadConfig(file, opts);
  assertClean(r);
  assert.deepEqual(r.problems.filter((p) => p.severity === 'error').map((p) => [p.code, p.pos?.line]), [['unbalanced-braces', count * 4 + 1]]);
});

test('a garbage file is cut off after 500 problems with a count of the rest', () => {
  const r = parseConfigText('bogus_keyword 1\n'.repeat(800), 'k.conf', opts);
  assert.equal(r.problems.length, 501);
  assert.match(r.problems[500]?.message ?? '', /^300 more problems not shown/);
  // Random printable text: a flood of unknown words, each cheap once the list is full.
  const rnd = prng(7);
  const chars = 'abcdefghijklmnopqrstuvwxyz_0123456789 \n{}';
  const text = Array.from({ length: 1_000_000 }, () => chars[Math.floor(rnd() * chars.length)]).join('');
  const g = parseConfigText(text, 'g.conf', opts);
  assert.equal(g.config, undefined);
  assert.equal(g.problems.length, 501);
});

/** mulberry32: a small seeded PRNG, so a failing mutation can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['{', '}', '"', '#', '!', '$', '${X}', '$X=1', '\\', '\n', ' ', 'include', '@', '\u0000', '\u00ff', '-', '/', '0', '999999999999', 'real_server', 'url', '{ }'];

function mutate(text: string, rnd: () => number): string {
  let s = text;
  const n = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(rnd() * (s.length + 1));
    const op = Math.floor(rnd() * 5);
    if (op === 0) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rnd() * 20));
    else if (op === 1) s = s.slice(0, at) + (PIECES[Math.floor(rnd() * PIECES.length)] ?? '') + s.slice(at);
    else if (op === 2) s = s.slice(0, at);
    else if (op === 3) s = s.slice(0, at) + String.fromCharCode(Math.floor(rnd() * 0x3000)) + s.slice(at);
    else {
      const lines = s.split('\n');
      const i = Math.floor(rnd() * lines.length);
      lines.splice(Math.floor(rnd() * lines.length), 0, lines[i] ?? '');
      s = lines.join('\n');
    }
  }
  return s;
}

test('property: random mutations of every seed config never throw and always explain a rejection', () => {
  const dir = fileURLToPath(new URL('../fixtures/seeds/', import.meta.url));
  const seeds = readdirSync(dir).filter((f) => f.endsWith('.conf')).map((f) => readFileSync(join(dir, f), 'utf8'));
  const ITERATIONS = 400;
  for (let i = 0; i < ITERATIONS; i++) {
    const seed = 0x5eed + i;
    const rnd = prng(seed);
    const text = mutate(seeds[i % seeds.length] ?? '', rnd);
    let r: LoadResult | undefined;
    try {
      r = parseConfigText(text, 'fuzz.conf', opts);
    } catch (err) {
      assert.fail(`seed ${seed} threw ${String(err)}\n--- input ---\n${text}`);
    }
    assertClean(r);
  }
});
