// One error type for the importers; `code` is stable for programs, `message` is one line for people. Problems in
// the input are collected as notes (notes.ts) so one run reports them all; ImportError is for what stops a run.

export type ImportErrorCode =
  | 'IMPORT_READ' // the input could not be read
  | 'IMPORT_NODE'; // heartbeat: the node to write the config for is not one of the cluster's nodes

export class ImportError extends Error {
  readonly code: ImportErrorCode;
  constructor(code: ImportErrorCode, message: string) {
    super(message);
    this.name = 'ImportError';
    this.code = code;
  }
}
