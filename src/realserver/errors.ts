// One error type for preparing real servers; its codes are listed in src/errors.ts (and docs/errors.md).
import { type CodeOf, IpvsTsError } from '../errors.ts';

export type RealServerErrorCode = CodeOf<'realserver'>;

export class RealServerError extends IpvsTsError<RealServerErrorCode> {}
