// The Debian package against a clean root: builds it on the host (where `npm ci` built the native shim, as the
// package expects), then boots ONE VM (test/kernel/vm.ts) and runs guest/package.guest.ts there: dpkg installs it
// into an empty root, and chrooted there check-config runs and the daemon programs IPVS.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildDeb } from '../../deploy/debian/build.ts';
import { guestTests } from './guest-tests.ts';
import { canBootVm, PROJECT_DIR } from './vm.ts';

const guest = (name: string): string => fileURLToPath(new URL(`./guest/${name}`, import.meta.url));
const out = join(PROJECT_DIR, '.cache/package-vmtest');

if (canBootVm().ok) buildDeb(out);
after(() => rmSync(out, { recursive: true, force: true }));

guestTests('the Debian package installed into a clean root, in a VM', [guest('package.guest.ts')], { timeoutMs: 420_000 });
