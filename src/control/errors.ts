// One error type for the control socket and its clients; its codes are listed in src/errors.ts.
import { type CodeOf, IpvsTsError } from '../errors.ts';

export type ControlErrorCode = CodeOf<'control'>;

export class ControlError extends IpvsTsError<ControlErrorCode> {}
