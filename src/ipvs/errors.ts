// One error type for the IPVS area; `code` is stable for programs, `message` is one line for people.

export type IpvsErrorCode =
  | 'IPVS_UNAVAILABLE' // the kernel has no IPVS genl family (ip_vs not loaded)
  | 'IPVS_KERNEL' // the kernel refused a request; errno says why
  | 'IPVS_DECODE' // a reply we could not make sense of
  | 'IPVS_STATE'; // the ownership state file is unreadable

export class IpvsError extends Error {
  readonly code: IpvsErrorCode;
  /** The kernel's errno name (EEXIST, ENOENT, …) for IPVS_KERNEL. */
  readonly errno?: string;

  constructor(code: IpvsErrorCode, message: string, errno?: string) {
    super(message);
    this.name = 'IpvsError';
    this.code = code;
    if (errno !== undefined) this.errno = errno;
  }
}

export const IPVS_UNAVAILABLE_MESSAGE = 'IPVS is not available in this kernel: load it with `modprobe ip_vs`';
