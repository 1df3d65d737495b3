// One error type for the importers; its codes are listed in src/errors.ts. Problems in the input are collected as
// notes (notes.ts) so one run reports them all; ImportError is for what stops a run.
import { type CodeOf, IpvsTsError } from '../errors.ts';

export type ImportErrorCode = CodeOf<'import'>;

export class ImportError extends IpvsTsError<ImportErrorCode> {}
