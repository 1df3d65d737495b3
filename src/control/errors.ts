// One error type for the control socket and its clients; `code` is stable, `message` is one line for people.

export type ControlErrorCode =
  | 'CONTROL_NO_DAEMON' // nothing listens on the socket
  | 'CONTROL_DENIED' // the socket is root's (mode 0600)
  | 'CONTROL_IN_USE' // another daemon already serves this socket
  | 'CONTROL_PROTOCOL' // a malformed request or reply
  | 'CONTROL_TIMEOUT' // the daemon did not answer in time
  | 'CONTROL_FAILED'; // the daemon answered with an error

export class ControlError extends Error {
  readonly code: ControlErrorCode;
  constructor(code: ControlErrorCode, message: string) {
    super(message);
    this.name = 'ControlError';
    this.code = code;
  }
}
