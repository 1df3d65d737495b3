// One error type for BGP announcement; its codes are listed in src/errors.ts (and docs/errors.md).
import { type CodeOf, IpvsTsError } from '../errors.ts';

export type BgpErrorCode = CodeOf<'bgp'>;

export class BgpError extends IpvsTsError<BgpErrorCode> {}
