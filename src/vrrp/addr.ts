// Address helpers for the VRRP wire format, on top of src/sys's inet_pton/inet_ntop.
import { inetNtop, inetPton } from '../sys/inet.ts';

export const addrToBytes = inetPton;
export const bytesToAddr = inetNtop;

/** Numeric comparison of two addresses of one family (the RFC's "higher primary address wins" tie-break). */
export function compareAddr(a: string, b: string): number {
  return Buffer.compare(inetPton(a), inetPton(b));
}
