// Issue 14: keepalived's own sample configs (as Debian's keepalived package ships them) through the config loader.
// Every file's verdict and problems are pinned, so a change in how ipvs-ts reads a real-world config shows here;
// where `keepalived -t` runs, its verdict must match ours unless a pinned exception says why it cannot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type Problem } from '../../src/config/index.ts';

const SAMPLES = '/usr/share/doc/keepalived/samples';
const KEEPALIVED = '/usr/sbin/keepalived';

// check-config without --host only warns about host facts; skipping them keeps the pins independent of this
// machine's interfaces.
const opts = { skipHostChecks: true } as const;
const summary = (ps: Problem[]): string[] => ps.map((p) => `${p.severity} ${p.code} ${p.pos?.line}:${p.pos?.col}`);

type Verdict = 'valid' | 'invalid';

const EXPECTED: Record<string, { verdict: Verdict; problems: string[] }> = {
  'keepalived.conf.HTTP_GET.port': { verdict: 'valid', problems: [] },
  'keepalived.conf.IPv6': { verdict: 'valid', problems: [] },
  'keepalived.conf.PING_CHECK': { verdict: 'valid', problems: [] },
  'keepalived.conf.SMTP_CHECK': {
    verdict: 'valid',
    problems: ['64:13', '68:13', '72:13', '95:13', '101:13', '107:13'].map((at) => `warning deprecated ${at}`),
  },
  'keepalived.conf.SSL_GET': { verdict: 'invalid', problems: ['error unsupported 20:19'] },
  'keepalived.conf.UDP_CHECK': { verdict: 'valid', problems: [] },
  'keepalived.conf.conditional_conf': {
    verdict: 'invalid',
    problems: [
      'warning unsupported 3:1', 'warning unsupported 4:1', 'error missing 6:1', 'warning lenient 6:1',
      'warning unsupported 7:1', 'warning unsupported 8:1', 'warning unsupported 19:1', 'warning unsupported 20:1',
    ],
  },
  'keepalived.conf.fwmark': { verdict: 'valid', problems: ['warning lenient 12:3'] },
  'keepalived.conf.inhibit': { verdict: 'valid', problems: [] },
  'keepalived.conf.misc_check': { verdict: 'valid', problems: ['warning lenient 23:9'] },
  'keepalived.conf.misc_check_arg': { verdict: 'valid', problems: ['warning lenient 22:9'] },
  'keepalived.conf.quorum': { verdict: 'valid', problems: ['warning lenient 23:1'] },
  'keepalived.conf.sample': { verdict: 'valid', problems: [] },
  'keepalived.conf.status_code': { verdict: 'valid', problems: [] },
  'keepalived.conf.track_interface': { verdict: 'valid', problems: [] },
  'keepalived.conf.virtual_server_group': { verdict: 'valid', problems: [] },
  'keepalived.conf.virtualhost': { verdict: 'valid', problems: [] },
  'keepalived.conf.vrrp': { verdict: 'valid', problems: [] },
  'keepalived.conf.vrrp.localcheck': { verdict: 'valid', problems: ['warning lenient 11:1'] },
  'keepalived.conf.vrrp.lvs_syncd': {
    verdict: 'invalid',
    problems: ['error missing 3:1', 'error unknown-keyword 4:3', 'error unknown-keyword 5:3'],
  },
  // A multipath route ("or", a second nexthop) is refused; "gw" is the old spelling of "via".
  'keepalived.conf.vrrp.routes': { verdict: 'invalid', problems: ['error unsupported 30:46', 'warning deprecated 32:19'] },
  // Rules without a preference get keepalived's numbering (a warning); "192.168.100./24" is not an address.
  'keepalived.conf.vrrp.rules': {
    verdict: 'invalid',
    problems: ['warning lenient 10:5', 'error bad-value 11:8', 'warning lenient 25:9', 'error bad-value 26:12'],
  },
  'keepalived.conf.vrrp.scripts': { verdict: 'valid', problems: ['warning lenient 6:1'] },
  'keepalived.conf.vrrp.static_ipaddress': { verdict: 'valid', problems: [] },
  'keepalived.conf.vrrp.sync': { verdict: 'valid', problems: ['warning lenient 3:1'] },
};

// Files whose `keepalived -t` verdict is not compared, each with why.
const NOT_COMPARED: Record<string, string> = {
  'keepalived.conf.fwmark': "keepalived fails -t on its 'protocol specified for fwmark' warning; ipvs-ts gives the same warning and accepts the file",
  'keepalived.conf.track_interface': 'keepalived fails on missing interfaces and untrackable routes (a host fact)',
  'keepalived.conf.vrrp': 'keepalived fails only because interface eth1 is missing here (a host fact)',
  'keepalived.conf.vrrp.localcheck': 'keepalived fails only because interface eth1 is missing here (a host fact)',
  'keepalived.conf.vrrp.routes': 'keepalived fails on missing interfaces and untrackable routes; ipvs-ts refuses the multipath ("or") route it does not program',
  'keepalived.conf.vrrp.rules': 'both refuse the malformed rule addresses; keepalived also fails on missing interfaces (a host fact)',
  'keepalived.conf.vrrp.static_ipaddress': 'keepalived fails on missing interfaces and an untrackable route (a host fact)',
  'keepalived.conf.vrrp.sync': 'keepalived fails only because interface eth1 is missing here (a host fact)',
};

const samples = existsSync(SAMPLES) ? readdirSync(SAMPLES).filter((n) => n.startsWith('keepalived.conf.')).sort() : [];
const noSamples = samples.length === 0 ? `no keepalived sample configs in ${SAMPLES} (install Debian's keepalived)` : false;

test('the pin table names exactly the sample files the package ships', { skip: noSamples }, () => {
  assert.deepEqual(samples, Object.keys(EXPECTED).sort());
  for (const name of Object.keys(NOT_COMPARED)) assert.ok(name in EXPECTED, name);
});

for (const name of samples) {
  test(`${name}: verdict and problems as pinned`, () => {
    const r = loadConfig(join(SAMPLES, name), opts);
    const expected = EXPECTED[name];
    assert.ok(expected, `${name} is not pinned`);
    assert.deepEqual({ verdict: r.config ? 'valid' : 'invalid', problems: summary(r.problems) }, expected);
  });
}

const noKeepalived = noSamples || (existsSync(KEEPALIVED) ? false : `${KEEPALIVED} is not installed`);

test('keepalived -t agrees on every sample whose verdict is not about host facts or unimplemented blocks', { skip: noKeepalived }, () => {
  let compared = 0;
  for (const name of samples) {
    if (name in NOT_COMPARED) continue;
    // -l -D: log to the console rather than syslog, so nothing on this machine's journal comes from the test.
    const run = spawnSync(KEEPALIVED, ['-t', '-l', '-D', '-f', join(SAMPLES, name)], { encoding: 'utf8', timeout: 20_000, stdio: 'pipe' });
    assert.equal(run.error, undefined, `${name}: keepalived -t did not start`);
    assert.equal(run.signal, null, `${name}: keepalived -t did not finish: ${run.stderr}`);
    const theirs: Verdict = run.status === 0 ? 'valid' : 'invalid';
    const ours: Verdict = loadConfig(join(SAMPLES, name), opts).config ? 'valid' : 'invalid';
    assert.equal(ours, theirs, `${name}: keepalived -t exited ${run.status}:\n${run.stdout}${run.stderr}`);
    compared++;
  }
  assert.equal(compared, samples.length - Object.keys(NOT_COMPARED).length);
});
