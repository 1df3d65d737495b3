// `ipvs-ts import ipvsadm` against a real kernel: boots ONE VM (test/kernel/vm.ts) and runs guest/import.guest.ts,
// which applies each input as its author would (ipvsadm-restore, sh) and the imported keepalived.conf with
// `ipvs apply`, and compares the two tables as ipvsadm -Sn prints them. The same boot runs guest/daemon-reload.guest.ts
// (issue 13's reload measurement with `ipvs-ts daemon` against keepalived, ~90 s under TCG), so it adds no VM boot.
import { fileURLToPath } from 'node:url';
import { guestTests } from './guest-tests.ts';

const guest = (name: string): string => fileURLToPath(new URL(`./guest/${name}`, import.meta.url));

guestTests('ipvsadm imports and daemon reloads against a real kernel, in a VM', [guest('import.guest.ts'), guest('daemon-reload.guest.ts')], { timeoutMs: 480_000 });
