// The one error type of src/vrrp; its codes (VRRP_NO_INTERFACE, VRRP_WORKER, …) are listed in src/errors.ts.
import { type CodeOf, IpvsTsError } from '../errors.ts';

export type VrrpErrorCode = CodeOf<'vrrp'>;

export class VrrpError extends IpvsTsError<VrrpErrorCode> {}
