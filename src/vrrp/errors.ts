// The one error type of src/vrrp: `code` is stable for programs (VRRP_NO_INTERFACE, VRRP_WORKER, …), `message`
// is one line for people.
export class VrrpError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}
