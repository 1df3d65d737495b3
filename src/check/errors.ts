// One error type for the checker area with stable codes. Check attempts report failures as results carrying the
// same codes (so logs, metrics and tests can match on them); CheckError is thrown only for problems a caller must
// fix (a refused script, an unknown user, bad genhash arguments).

export const CHECK_FAILURE_CODES = [
  'CONNECT_REFUSED',
  'CONNECT_TIMEOUT',
  'CONNECT_RESET',
  'CONNECT_ERROR',
  'TLS_ERROR',
  'HTTP_STATUS',
  'HTTP_DIGEST',
  'HTTP_BODY_TOO_LARGE',
  'HTTP_TIMEOUT',
  'HTTP_ERROR',
  'SCRIPT_EXIT',
  'SCRIPT_TIMEOUT',
  'SCRIPT_SIGNAL',
  'SCRIPT_SPAWN',
  'SCRIPT_INSECURE',
  'SCRIPT_USER',
  'ICMP_TIMEOUT',
  'ICMP_UNREACHABLE',
  'SOCKET_ERROR',
  'UDP_NO_REPLY',
  'UDP_REPLY_MISMATCH',
  'DNS_TIMEOUT',
  'DNS_RCODE',
  'DNS_BAD_REPLY',
  'SMTP_STATUS',
  'SMTP_TIMEOUT',
  'SMTP_CLOSED',
  'FILE_FAULT',
  'ABORTED',
  'CHECKER_FAILED',
] as const;

export type CheckFailureCode = (typeof CHECK_FAILURE_CODES)[number];

export class CheckError extends Error {
  readonly code: CheckFailureCode | 'BAD_ARGUMENT';

  constructor(code: CheckFailureCode | 'BAD_ARGUMENT', message: string) {
    super(message);
    this.name = 'CheckError';
    this.code = code;
  }
}
