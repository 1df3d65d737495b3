// Issue 16's ECMP lab: boots ONE VM (test/kernel/vm.ts) with room for three `ipvs-ts daemon`s, four BIRDs and the
// perl servers and clients, and runs guest/ecmp.guest.ts there. `npm test` runs the mh + sloppy TCP scenario (the
// assertions); the rr control run is a measurement: `ECMP_ONLY=all node --test test/kernel/ecmp.vmtest.ts` runs both
// in one boot, `ECMP_ONLY=rr` the control alone.
import { fileURLToPath } from 'node:url';
import { guestTests } from './guest-tests.ts';

const guest = (name: string): string => fileURLToPath(new URL(`./guest/${name}`, import.meta.url));

guestTests('ECMP across three ipvs-ts directors behind a BIRD router, in a VM', [guest('ecmp.guest.ts')], { timeoutMs: 2_700_000, memoryMb: 2048, setup: `export ECMP_ONLY=${process.env.ECMP_ONLY ?? 'mh'}` });
