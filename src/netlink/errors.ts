// The netlink layer's one error type. `code` is the errno name for kernel refusals ('EEXIST', 'ENOENT', 'EPERM',
// …) or one of the layer's own codes listed in src/errors.ts. `errno` is the positive kernel errno (0 when the
// failure is not the kernel's answer).
import { type CodeOf, type ErrnoName, IpvsTsError } from '../errors.ts';
import { errnoName } from '../sys/native.ts';

export type NetlinkErrorCode = CodeOf<'netlink'> | ErrnoName;

export interface FailedRequest {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
}

export class NetlinkError extends IpvsTsError<NetlinkErrorCode> {
  readonly errno: number;
  /** The kernel's extended-ACK text, when it sent one. */
  readonly extack: string | undefined;
  readonly request: FailedRequest | undefined;

  constructor(code: NetlinkErrorCode, message: string, opts: { errno?: number; extack?: string; request?: FailedRequest } = {}) {
    super(code, message);
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
