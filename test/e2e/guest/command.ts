// How the host starts the scenario in the VM. Node's compile cache (kept in the project's .cache across boots) and
// the lab's files on the shared project directory (TMPDIR) make the many node starts cheaper under emulation and
// leave the daemons' logs readable from the host while the scenario runs.
export function guestCommand(args: string): string {
  const cache = '.cache/e2e';
  return `mkdir -p ${cache}/tmp ${cache}/compile && TMPDIR=$PWD/${cache}/tmp NODE_COMPILE_CACHE=$PWD/${cache}/compile node test/e2e/guest/scenario.ts ${args}`;
}
