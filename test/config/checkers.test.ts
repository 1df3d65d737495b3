// PING_CHECK, UDP_CHECK, DNS_CHECK, SMTP_CHECK and FILE_CHECK blocks as keepalived 2.2 reads them (check_ping.c,
// check_udp.c, check_dns.c, check_smtp.c, check_file.c, lib/parser.c read_hex_str), and BFD_CHECK refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHexString } from '../../src/config/hex.ts';
import { parseConfigText, type Problem } from '../../src/config/index.ts';
import type { Checker } from '../../src/config/model.ts';

const parse = (text: string) => parseConfigText(text, 'k.conf', { skipHostChecks: true });
const summary = (ps: Problem[]): string[] => ps.map((p) => `${p.severity} ${p.code} ${p.pos?.line}:${p.pos?.col}`);

/** One real server 10.0.1.1:53 with the given checker blocks (line 6 is the first line of `body`). */
function rs(body: string, head = ''): string {
  return `${head}virtual_server 10.0.0.1 53 {
  lb_algo rr
  lb_kind DR
  delay_loop 10
  real_server 10.0.1.1 53 {
${body}
  }
}
`;
}

function checkers(text: string): readonly Checker[] {
  const r = parse(text);
  assert.deepEqual(r.problems.filter((p) => p.severity === 'error').map((p) => p.message), []);
  return r.config!.virtualServers[0]!.realServers[0]!.checkers;
}

test("keepalived's HEX_STR: pairs of digits, a lone digit before a space, x wildcards only where allowed", () => {
  // The man page's own example.
  assert.deepEqual(parseHexString('Ab12f 3 456 546443123', false), { data: 'ab120f0345065464431203' });
  assert.deepEqual(parseHexString('1x X2 xx', true), { data: '100200', mask: '0ff0ff' });
  assert.equal(parseHexString('1x', false), undefined);
  assert.equal(parseHexString('zz', true), undefined);
  assert.equal(parseHexString('  ', true), undefined);
  assert.equal(parseHexString('a\tb', false), undefined, 'keepalived pairs a digit with a following tab, which is no digit');
});

test('PING_CHECK takes the common settings with the usual defaults', () => {
  const [c] = checkers(rs('    PING_CHECK {\n      connect_timeout 2\n    }'));
  assert.deepEqual(
    { type: c!.type, ip: c!.connectIp, timeout: c!.connectTimeoutMs, retry: c!.retry, dbr: c!.delayBeforeRetryMs, warmup: c!.warmupMs, loop: c!.delayLoopMs },
    { type: 'PING_CHECK', ip: '10.0.1.1', timeout: 2000, retry: 1, dbr: 1000, warmup: 10_000, loop: 10_000 },
  );
});

test('UDP_CHECK: payload, require_reply with wildcards, reply length bounds and their defaults', () => {
  const [a, b] = checkers(rs(`    UDP_CHECK {
      payload 0102 03
    }
    UDP_CHECK {
      require_reply 12 3x "X4"
      min_reply_length 2
      max_reply_length 100
    }`));
  assert.deepEqual(a, { ...a, type: 'UDP_CHECK', payload: '010203', requireReply: false, minReplyLength: 0, maxReplyLength: 255 });
  assert.equal('replyData' in a!, false);
  assert.deepEqual(b, { ...b, type: 'UDP_CHECK', requireReply: true, replyData: '123004', replyMask: '000ff0', minReplyLength: 2, maxReplyLength: 100 });
  assert.equal('payload' in b!, false);
  const bare = checkers(rs('    UDP_CHECK {\n      require_reply\n    }'))[0];
  assert.deepEqual([bare?.type === 'UDP_CHECK' && bare.requireReply, 'replyData' in bare!], [true, false]);
});

test('UDP_CHECK: a bad HEX_STR, wildcards in a payload and min above max are errors', () => {
  const r = parse(rs(`    UDP_CHECK {
      payload 01 x2
      require_reply 0g
      require_reply 01
      min_reply_length 10
      max_reply_length 5
    }`));
  assert.deepEqual(summary(r.problems), ['error range 6:5', 'error bad-value 7:15', 'error bad-value 8:21']);
});

test('DNS_CHECK: retry 3 and delay_before_retry = delay_loop by default; type SOA and name . ; every keepalived type', () => {
  const [d, e] = checkers(rs(`    DNS_CHECK {
    }
    DNS_CHECK {
      type aaaa
      name www.example.test.
      retry 1
      delay_before_retry 2
    }`));
  assert.deepEqual(d, { ...d, type: 'DNS_CHECK', queryType: 'SOA', name: '.', retry: 3, delayBeforeRetryMs: 10_000, connectPort: 53 });
  assert.deepEqual(e, { ...e, type: 'DNS_CHECK', queryType: 'AAAA', name: 'www.example.test', retry: 1, delayBeforeRetryMs: 2000 });
  for (const type of ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA', 'RRSIG', 'DNSKEY']) {
    const [c] = checkers(rs(`    DNS_CHECK {\n      type ${type}\n    }`));
    assert.equal(c?.type === 'DNS_CHECK' && c.queryType, type);
  }
});

test('DNS_CHECK: an unknown type and a name with an empty or overlong label are errors', () => {
  const r = parse(rs(`    DNS_CHECK {
      type SRV
      name a..example
      name .example
      name ${'x'.repeat(64)}.test
    }`));
  assert.deepEqual(summary(r.problems), ['error bad-value 7:12', 'error bad-value 8:12', 'error bad-value 9:12', 'error bad-value 10:12']);
});

test("SMTP_CHECK: helo_name, keepalived's default HELO name, and the real server's port", () => {
  const [a, b] = checkers(rs(`    SMTP_CHECK {
    }
    SMTP_CHECK {
      helo_name mx-check.example.test
      connect_port 25
    }`));
  assert.deepEqual(a, { ...a, type: 'SMTP_CHECK', heloName: 'smtpchecker.keepalived.org', connectIp: '10.0.1.1', connectPort: 53 });
  assert.deepEqual(b, { ...b, type: 'SMTP_CHECK', heloName: 'mx-check.example.test', connectPort: 25 });
});

test('SMTP_CHECK host blocks (deprecated in 2.2): one checker per host; the first replaces an SMTP_CHECK without a connection of its own', () => {
  const r = parse(rs(`    SMTP_CHECK {
      helo_name h.example
      retry 2
      host {
        connect_ip 10.0.2.1
        connect_port 25
        connect_timeout 3
      }
      host {
        connect_ip 10.0.2.2
        bindto 10.0.0.9
        delay_before_retry 7
      }
    }
    SMTP_CHECK {
      connect_port 2525
      host {
        connect_ip 10.0.2.3
      }
    }`));
  assert.deepEqual(summary(r.problems), ['warning deprecated 9:7', 'warning deprecated 14:7', 'warning deprecated 22:7']);
  const list = r.config!.virtualServers[0]!.realServers[0]!.checkers.map((c) => ({
    type: c.type, ip: c.connectIp, port: c.connectPort, bind: c.bindTo, timeout: c.connectTimeoutMs, retry: c.retry, dbr: c.delayBeforeRetryMs,
    helo: c.type === 'SMTP_CHECK' ? c.heloName : undefined,
  }));
  // keepalived applies a host block's timing keywords to the SMTP_CHECK around it.
  const outer = { type: 'SMTP_CHECK', retry: 2, dbr: 7000, helo: 'h.example' };
  assert.deepEqual(list, [
    { ...outer, ip: '10.0.2.1', port: 25, bind: undefined, timeout: 3000 },
    { ...outer, ip: '10.0.2.2', port: 53, bind: '10.0.0.9', timeout: 5000 },
    { type: 'SMTP_CHECK', ip: '10.0.1.1', port: 2525, bind: undefined, timeout: 5000, retry: 1, dbr: 1000, helo: 'smtpchecker.keepalived.org' },
    { type: 'SMTP_CHECK', ip: '10.0.2.3', port: 53, bind: undefined, timeout: 5000, retry: 1, dbr: 1000, helo: 'smtpchecker.keepalived.org' },
  ]);
});

test("FILE_CHECK follows a track_file above it, with the file's weight unless it sets its own; it decides at once", () => {
  const head = 'track_file maint {\n  file /run/maint\n  weight -5 reverse\n}\n';
  const text = rs(`    FILE_CHECK {
      track_file maint
    }
    FILE_CHECK {
      track_file maint
      weight 0 noreverse
    }`, head);
  const r = parse(text);
  assert.deepEqual(summary(r.problems), [], 'a track_file a FILE_CHECK names is not "not applied"');
  const [a, b] = r.config!.virtualServers[0]!.realServers[0]!.checkers;
  const track = r.config!.trackFiles[0];
  assert.deepEqual(a, { ...a, type: 'FILE_CHECK', trackFile: track, weight: -5, weightReverse: true, retry: 0, warmupMs: 0, alpha: false, delayLoopMs: 10_000 });
  assert.deepEqual(b, { ...b, type: 'FILE_CHECK', weight: 0, weightReverse: false });
});

test('FILE_CHECK: no track_file, an unknown one (or one below it), common checker keywords and a bad weight are errors', () => {
  const r = parse(rs(`    FILE_CHECK {
      weight 2
    }
    FILE_CHECK {
      track_file mantenance
      weight 1 sideways
      delay_loop 3
    }`, '') + 'track_file maintenance {\n  file /run/m\n}\n');
  assert.deepEqual(summary(r.problems), ['error missing 6:5', 'error reference 10:18', 'error bad-value 11:16', 'error unknown-keyword 12:7', 'warning unsupported 16:1']);
  assert.match(r.problems[1]!.message, /track_file mantenance names no track_file block above it/);
});

test('BFD_CHECK is refused: a real server must not count as up on a check that never runs', () => {
  const r = parse(rs('    BFD_CHECK {\n      name b1\n    }'));
  assert.deepEqual(summary(r.problems), ['error unsupported 6:5']);
  assert.equal(r.config, undefined);
  assert.match(r.problems[0]!.message, /BFD_CHECK.*must not pass a check that never runs/);
});

test('fwmark, bind_if and log_all_failures in the new checkers are warned as not supported, as in the others', () => {
  const r = parse(rs('    UDP_CHECK {\n      log_all_failures\n    }\n    PING_CHECK {\n      bind_if eth0\n    }'));
  assert.deepEqual(summary(r.problems), ['warning unsupported 7:7', 'warning unsupported 10:7']);
});
