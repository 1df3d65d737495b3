// SMTP_CHECK, as keepalived's check_smtp.c: connect to connect_ip:connect_port, read the greeting (220), send
// `HELO helo_name` (250 expected), send QUIT and read its reply (any), then close. Two differences, both where
// keepalived misreads valid SMTP: replies are read whole, so a multi-line reply ("220-…" lines, then "220 …")
// counts by its code instead of failing on the first line; and, as for HTTP_GET, the whole conversation is bounded
// by connect_timeout, so a server trickling bytes cannot hold the checker.
import net from 'node:net';
import type { SmtpCheck } from '../config/model.ts';
import type { CheckFailureCode } from './errors.ts';
import { failed, passed } from './result.ts';
import { connectFailure } from './tcp.ts';
import type { CheckResult } from './types.ts';

/** A reply longer than this is not SMTP (RFC 5321 limits a reply line to 512 octets). */
const MAX_REPLY_BYTES = 8192;

interface Step {
  /** What is being waited for, for messages. */
  readonly waitingFor: string;
  /** The reply code this step needs; undefined = any. */
  readonly expect?: number;
  /** Sent once the reply is accepted; undefined = done. */
  readonly send?: string;
}

export function checkSmtp(checker: SmtpCheck, signal: AbortSignal): Promise<CheckResult> {
  const startedAt = performance.now();
  const steps: Step[] = [
    { waitingFor: 'the greeting', expect: 220, send: `HELO ${checker.heloName}\r\n` },
    { waitingFor: 'the HELO reply', expect: 250, send: 'QUIT\r\n' },
    { waitingFor: 'the QUIT reply' },
  ];
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(failed(startedAt, 'ABORTED', 'check cancelled'));
    const { connectIp, connectPort, bindTo, bindPort, connectTimeoutMs } = checker;
    const socket = net.connect({ host: connectIp, port: connectPort, localAddress: bindTo, localPort: bindPort });
    let connected = false;
    let step = 0;
    let pending = '';
    let done = false;
    const finish = (result: CheckResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const fail = (code: CheckFailureCode, reason: string) => finish(failed(startedAt, code, reason));
    const onAbort = () => fail('ABORTED', 'check cancelled');
    const timer = setTimeout(() => {
      if (!connected) fail('CONNECT_TIMEOUT', `no connection within ${connectTimeoutMs} ms`);
      else fail('SMTP_TIMEOUT', `no complete conversation within ${connectTimeoutMs} ms (waiting for ${steps[step]!.waitingFor})`);
    }, connectTimeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.setEncoding('latin1');
    socket.once('connect', () => (connected = true));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected) finish(connectFailure(startedAt, err));
      else fail('SMTP_CLOSED', `connection failed while waiting for ${steps[step]!.waitingFor}: ${err.code ?? err.message}`);
    });
    socket.on('end', () => fail('SMTP_CLOSED', `connection closed by the server before ${steps[step]!.waitingFor}`));
    socket.on('data', (chunk: string) => {
      pending += chunk;
      for (;;) {
        const reply = takeReply(pending);
        if (reply === 'incomplete') {
          if (pending.length > MAX_REPLY_BYTES) fail('SMTP_STATUS', `${steps[step]!.waitingFor} is longer than ${MAX_REPLY_BYTES} bytes`);
          return;
        }
        if (reply.kind === 'malformed') return fail('SMTP_STATUS', `${steps[step]!.waitingFor} is not an SMTP reply: ${JSON.stringify(reply.line.slice(0, 80))}`);
        pending = reply.rest;
        const { expect, send, waitingFor } = steps[step]!;
        if (expect !== undefined && reply.code !== expect) {
          return fail('SMTP_STATUS', `${waitingFor} is ${reply.code}, not ${expect}: ${JSON.stringify(reply.text.slice(0, 120))}`);
        }
        if (send === undefined) return finish(passed(startedAt, `greeting 220, HELO ${checker.heloName} 250, QUIT ${reply.code}`));
        socket.write(send);
        step++;
      }
    });
  });
}

type Reply =
  | { readonly kind: 'reply'; readonly code: number; readonly text: string; readonly rest: string }
  | { readonly kind: 'malformed'; readonly line: string };

/**
 * The first complete reply in `buffer`: lines `CODE-text` continue it, a line `CODE text` (or just `CODE`) ends
 * it (RFC 5321 4.2.1). keepalived ends lines at LF, and so does this; a CR before it is dropped.
 */
export function takeReply(buffer: string): Reply | 'incomplete' {
  let at = 0;
  const lines: string[] = [];
  for (;;) {
    const nl = buffer.indexOf('\n', at);
    if (nl < 0) return 'incomplete';
    const line = buffer.slice(at, nl).replace(/\r$/, '');
    at = nl + 1;
    const m = /^(\d{3})(?:([ -])(.*))?$/.exec(line);
    if (!m) return { kind: 'malformed', line };
    lines.push(m[3] ?? '');
    if (m[2] !== '-') return { kind: 'reply', code: Number(m[1]), text: lines.join(' / '), rest: buffer.slice(at) };
  }
}
