// Real servers prepared by `ipvs-ts realserver` against a real kernel: boots ONE VM (test/kernel/vm.ts) and runs
// guest/realserver.guest.ts there: DR and TUN traffic through an ipvs-ts director to real servers prepared only by
// `realserver up`, the failure a missing arp_ignore causes, and what `realserver down` gives back.
import { fileURLToPath } from 'node:url';
import { guestTests } from './guest-tests.ts';

const guest = (name: string): string => fileURLToPath(new URL(`./guest/${name}`, import.meta.url));

guestTests('LVS real servers prepared by ipvs-ts realserver, in a VM', [guest('realserver.guest.ts')], { timeoutMs: 480_000 });
