// One error type for preparing real servers; `code` is stable for programs, `message` is one line for people.

export type RealServerErrorCode =
  | 'REALSERVER_ARGUMENT' // a VIP or an option the command cannot use
  | 'REALSERVER_CONFLICT' // a VIP is already on this host in a way DR/TUN cannot work with; nothing was changed
  | 'REALSERVER_NO_TUNNEL' // TUN: there is no tunl0 and the ipip module could not be loaded; nothing was changed
  | 'REALSERVER_SYSCTL' // a /proc/sys setting could not be read or written
  | 'REALSERVER_RECORD'; // the record of what `up` changed is unreadable

export class RealServerError extends Error {
  readonly code: RealServerErrorCode;
  constructor(code: RealServerErrorCode, message: string) {
    super(message);
    this.name = 'RealServerError';
    this.code = code;
  }
}
