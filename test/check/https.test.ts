import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { checkHttp, type HttpOptions } from '../../src/check/http.ts';
import type { HttpCheck } from '../../src/config/model.ts';
import { makePki, type TestPki } from './certs.ts';
import { httpCheck, pos } from './model.ts';
import { close, listen } from './servers.ts';

const never = new AbortController().signal;
let pki: TestPki;
before(() => {
  pki = makePki();
});
after(() => pki?.remove());

/** An HTTPS server; records the SNI name each request came with (undefined when none was sent). */
async function serveTls(t: { after: (fn: () => Promise<void>) => void }, options: https.ServerOptions) {
  const sni: (string | undefined)[] = [];
  const server = https.createServer(options, (req, res) => {
    const name = (req.socket as TLSSocket).servername;
    sni.push(typeof name === 'string' ? name : undefined);
    res.end('secure');
  });
  const port = await listen(server);
  t.after(() => close(server));
  return { port, sni };
}

const sslCheck = (port: number, over: Partial<HttpCheck> = {}) =>
  httpCheck({ type: 'SSL_GET', connectPort: port, connectTimeoutMs: 2_000, urls: [{ path: '/', statusCodes: [{ from: 200, to: 299 }], pos }], ...over });

const verify = (): HttpOptions => ({ verifyTls: true, ca: pki.ca });

test('SSL_GET without SNI by default, with the virtualhost as SNI under enable_sni', async (t) => {
  const { port, sni } = await serveTls(t, pki.server);
  assert.equal((await checkHttp(sslCheck(port, { virtualhost: 'www.example.test' }), never)).ok, true);
  assert.equal((await checkHttp(sslCheck(port, { virtualhost: 'www.example.test', enableSni: true }), never)).ok, true);
  assert.deepEqual(sni, [undefined, 'www.example.test']);
});

test('certificates are not verified unless asked (keepalived never verifies)', async (t) => {
  const { port } = await serveTls(t, pki.expired);
  const r = await checkHttp(sslCheck(port), never);
  assert.equal(r.ok, true, r.reason);
});

test('with verification: a valid certificate for the SNI name passes', async (t) => {
  const { port } = await serveTls(t, pki.server);
  const r = await checkHttp(sslCheck(port, { virtualhost: 'www.example.test', enableSni: true }), never, verify());
  assert.equal(r.ok, true, r.reason);
});

test('with verification: an expired certificate fails', async (t) => {
  const { port } = await serveTls(t, pki.expired);
  const r = await checkHttp(sslCheck(port, { virtualhost: 'www.example.test', enableSni: true }), never, verify());
  assert.equal(r.code, 'TLS_ERROR');
  assert.match(r.reason, /expired/);
});

test('with verification: a certificate for another name fails', async (t) => {
  const { port } = await serveTls(t, pki.server);
  const r = await checkHttp(sslCheck(port, { virtualhost: 'other.example.test', enableSni: true }), never, verify());
  assert.equal(r.code, 'TLS_ERROR');
  assert.match(r.reason, /other\.example\.test/);
});

test('with verification: an unknown CA fails', async (t) => {
  const { port } = await serveTls(t, pki.server);
  const r = await checkHttp(sslCheck(port, { virtualhost: 'www.example.test', enableSni: true }), never, { verifyTls: true });
  assert.equal(r.code, 'TLS_ERROR', r.reason);
});

test('a server that requires a client certificate: fails without one, passes with one', async (t) => {
  const { port } = await serveTls(t, { ...pki.server, ca: pki.ca, requestCert: true, rejectUnauthorized: true });
  const without = await checkHttp(sslCheck(port), never);
  // Under TLS 1.3 the server's refusal arrives after our handshake completed: it shows as an early close or alert.
  assert.equal(without.ok, false);
  assert.ok(['TLS_ERROR', 'CONNECT_RESET', 'HTTP_ERROR'].includes(without.code!), `${without.code}: ${without.reason}`);
  const withCert = await checkHttp(sslCheck(port), never, { clientCert: pki.client });
  assert.equal(withCert.ok, true, withCert.reason);
});

test('HTTP_GET against a TLS port fails instead of hanging', async (t) => {
  const { port } = await serveTls(t, pki.server);
  const r = await checkHttp(httpCheck({ connectPort: port, connectTimeoutMs: 1_000 }), never);
  assert.equal(r.ok, false);
});
