// One error type for the daemon; its codes are listed in src/errors.ts (and docs/errors.md).
import { type CodeOf, IpvsTsError } from '../errors.ts';

export type DirectorErrorCode = CodeOf<'director'>;

export class DirectorError extends IpvsTsError<DirectorErrorCode> {}
