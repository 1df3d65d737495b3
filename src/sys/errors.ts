// One error type for src/sys; its codes are listed in src/errors.ts. A failed syscall is not one of these: the
// shim throws an ErrnoException (native.ts) carrying the errno, which callers turn into their area's error.
import { type CodeOf, IpvsTsError } from '../errors.ts';

export type SysErrorCode = CodeOf<'sys'>;

export class SysError extends IpvsTsError<SysErrorCode> {}
