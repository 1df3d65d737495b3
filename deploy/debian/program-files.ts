// What of a checkout runs on a director, as paths relative to the checkout: the package ships these under
// /opt/ipvs-ts (build.ts), and bench/director-scale.ts --installed copies them into the VM the same way.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Lock {
  readonly packages: Record<string, { readonly dev?: boolean }>;
}

/**
 * The sources run by Node's type stripping (so no build step), GoBGP's API definitions (read by
 * src/bgp/gobgp-api.ts at start), the native shim, and the production dependencies of package-lock.json.
 * package.json and the Node runtime are not in it: each copy places those its own way.
 */
export function programFiles(root: string): string[] {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as Lock;
  // Type declarations never run: protobufjs (under @grpc/proto-loader) lists @types/node, and with it undici-types,
  // as production dependencies for its own .d.ts files.
  const typesOnly = (path: string): boolean => path.startsWith('node_modules/@types/') || path === 'node_modules/undici-types';
  const dependencies = Object.entries(lock.packages).flatMap(([path, entry]) => (path && !entry.dev && !typesOnly(path) ? [path] : []));
  return ['bin', 'src', 'vendor', 'build/Release/ipvs_ts_sys.node', ...dependencies];
}
