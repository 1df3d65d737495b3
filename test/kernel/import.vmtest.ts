// `ipvs-ts import ipvsadm` against a real kernel: boots ONE VM (test/kernel/vm.ts) and runs guest/import.guest.ts,
// which applies each input as its author would (ipvsadm-restore, sh) and the imported keepalived.conf with
// `ipvs apply`, and compares the two tables as ipvsadm -Sn prints them.
import { fileURLToPath } from 'node:url';
import { guestTests } from './guest-tests.ts';

const guest = (name: string): string => fileURLToPath(new URL(`./guest/${name}`, import.meta.url));

guestTests('ipvsadm imports against a real kernel, in a VM', [guest('import.guest.ts')], { timeoutMs: 300_000 });
