// One error type for the daemon; `code` is stable for programs, `message` is one line for people.

export type DirectorErrorCode =
  | 'DIRECTOR_CONFIG' // the configuration has errors
  | 'DIRECTOR_OPTION' // a command-line option is malformed
  | 'DIRECTOR_IPVS_UNAVAILABLE' // the kernel has no IPVS
  | 'DIRECTOR_START'; // something needed at start-up could not be set up

export class DirectorError extends Error {
  readonly code: DirectorErrorCode;
  constructor(code: DirectorErrorCode, message: string) {
    super(message);
    this.name = 'DirectorError';
    this.code = code;
  }
}
