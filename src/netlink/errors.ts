// The netlink layer's one error type. `code` is stable: the errno name for kernel refusals ('EEXIST',
// 'ENOENT', 'EPERM', …) or one of the layer's own codes below. `errno` is the positive kernel errno (0 when
// the failure is not the kernel's answer).
import { errnoName } from '../sys/native.ts';

export type NetlinkErrorCode =
  | string // errno names from the kernel
  | 'FAMILY_NOT_FOUND' // generic netlink family is not registered (module not loaded)
  | 'DUMP_INTERRUPTED' // NLM_F_DUMP_INTR persisted across retries
  | 'OVERRUN' // the socket's receive queue overflowed (ENOBUFS): replies or events were lost
  | 'TRUNCATED' // a reply was larger than the receive buffer and was lost
  | 'MALFORMED' // the kernel's reply could not be parsed
  | 'CLOSED'; // the socket was closed with the request in flight

export interface FailedRequest {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
}

export class NetlinkError extends Error {
  readonly code: NetlinkErrorCode;
  readonly errno: number;
  /** The kernel's extended-ACK text, when it sent one. */
  readonly extack: string | undefined;
  readonly request: FailedRequest | undefined;

  constructor(code: NetlinkErrorCode, message: string, opts: { errno?: number; extack?: string; request?: FailedRequest } = {}) {
    super(message);
    this.name = 'NetlinkError';
    this.code = code;
    this.errno = opts.errno ?? 0;
    this.extack = opts.extack;
    this.request = opts.request;
  }

  /** The kernel refused a request with `errno`. */
  static fromKernel(errno: number, request: FailedRequest | undefined, extack: string | undefined, what?: string): NetlinkError {
    const code = errnoName(errno);
    const reason = extack ? `${extack} (${code})` : `${errnoText(errno)} (${code})`;
    return new NetlinkError(code, `${what ?? describe(request)} failed: ${reason}`, {
      errno,
      ...(extack !== undefined ? { extack } : {}),
      ...(request !== undefined ? { request } : {}),
    });
  }
}

function describe(request: FailedRequest | undefined): string {
  return request ? `netlink request type ${request.type} seq ${request.seq}` : 'netlink request';
}

const texts: Record<string, string> = {
  EPERM: 'operation not permitted',
  ENOENT: 'no such entry',
  ESRCH: 'no such process',
  EINVAL: 'invalid argument',
  EEXIST: 'already exists',
  EBUSY: 'busy',
  ENOMEM: 'out of memory',
  ENODEV: 'no such device',
  EOPNOTSUPP: 'operation not supported',
  EAFNOSUPPORT: 'address family not supported',
  EADDRNOTAVAIL: 'address not available',
  ENOBUFS: 'no buffer space',
  EMSGSIZE: 'message too long',
  ERANGE: 'out of range',
  ENOTSUP: 'not supported',
};

function errnoText(errno: number): string {
  return texts[errnoName(errno)] ?? `error ${errno}`;
}
