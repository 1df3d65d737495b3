// One error type for BGP announcement; `code` is stable for programs, `message` is one line for people.

export type BgpErrorCode =
  | 'BGP_DAEMON_START' // the routing daemon could not be started or its control socket never answered
  | 'BGP_DAEMON_GONE' // the routing daemon exited or closed its control socket
  | 'BGP_DAEMON_CONFIG' // the routing daemon refused the configuration ipvs-ts wrote
  | 'BGP_COMMAND' // the routing daemon refused a command
  | 'BGP_PREFIX'; // a prefix is malformed or not one this announcer may send

export class BgpError extends Error {
  readonly code: BgpErrorCode;
  constructor(code: BgpErrorCode, message: string) {
    super(message);
    this.name = 'BgpError';
    this.code = code;
  }
}
