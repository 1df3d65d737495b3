// IPVS against a real kernel: boots one VM (test/kernel/vm.ts) and runs test/kernel/guest/ipvs.guest.ts in it.
import { fileURLToPath } from 'node:url';
import { guestTests } from './guest-tests.ts';

guestTests('IPVS in a VM', [fileURLToPath(new URL('./guest/ipvs.guest.ts', import.meta.url))], { timeoutMs: 420_000 });
