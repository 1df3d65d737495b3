// One error type for the checker area; its codes are listed in src/errors.ts. Check attempts report failures as
// results carrying the same codes (so logs, metrics and tests can match on them); CheckError is thrown only for
// problems a caller must fix (a refused script, an unknown user, a bad option).
import { type CodeOf, IpvsTsError } from '../errors.ts';

export type CheckErrorCode = CodeOf<'check'>;

/** The codes a check result can carry: every check code but BAD_ARGUMENT, which is the caller's mistake. */
export type CheckFailureCode = Exclude<CheckErrorCode, 'BAD_ARGUMENT'>;

export class CheckError extends IpvsTsError<CheckErrorCode> {}
