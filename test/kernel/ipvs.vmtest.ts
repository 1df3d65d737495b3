// IPVS against a real kernel: boots ONE VM (test/kernel/vm.ts) and runs the guest files in it — conformance,
// reconciler and error paths (guest/ipvs.guest.ts), then real TCP traffic through NAT/DR/TUN (guest/traffic.guest.ts).
import { fileURLToPath } from 'node:url';
import { guestTests } from './guest-tests.ts';

const guest = (name: string): string => fileURLToPath(new URL(`./guest/${name}`, import.meta.url));

guestTests('IPVS in a VM', [guest('ipvs.guest.ts'), guest('traffic.guest.ts')], { timeoutMs: 480_000 });
