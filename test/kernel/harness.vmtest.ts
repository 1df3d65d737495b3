// The VM harness's own check (test/kernel/vm.ts): Node runs in the guest from tmpfs and survives many consecutive
// starts, the precondition for every other *.vmtest.ts to mean anything.
import { fileURLToPath } from 'node:url';
import { guestTests } from './guest-tests.ts';

guestTests('VM harness', [fileURLToPath(new URL('./guest/node-runs.guest.ts', import.meta.url))], { timeoutMs: 900_000 });
