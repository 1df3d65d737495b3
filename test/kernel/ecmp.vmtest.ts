// Issue 16's ECMP lab: boots ONE VM (test/kernel/vm.ts) with room for three `ipvs-ts daemon`s, four BIRDs and the
// perl servers and clients, and runs guest/ecmp.guest.ts there (an mh + sloppy TCP run and an rr control run).
import { fileURLToPath } from 'node:url';
import { guestTests } from './guest-tests.ts';

const guest = (name: string): string => fileURLToPath(new URL(`./guest/${name}`, import.meta.url));

guestTests('ECMP across three ipvs-ts directors behind a BIRD router, in a VM', [guest('ecmp.guest.ts')], { timeoutMs: 2_700_000, memoryMb: 2048 });
