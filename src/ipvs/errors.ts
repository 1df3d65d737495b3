// One error type for the IPVS area; its codes are listed in src/errors.ts (and docs/errors.md).
import { type CodeOf, IpvsTsError } from '../errors.ts';

export type IpvsErrorCode = CodeOf<'ipvs'>;

export class IpvsError extends IpvsTsError<IpvsErrorCode> {
  /** The kernel's errno name (EEXIST, ENOENT, …) for IPVS_KERNEL. */
  readonly errno?: string;

  constructor(code: IpvsErrorCode, message: string, errno?: string) {
    super(code, message);
    if (errno !== undefined) this.errno = errno;
  }
}

export const IPVS_UNAVAILABLE_MESSAGE = 'IPVS is not available in this kernel: load it with `modprobe ip_vs`';
