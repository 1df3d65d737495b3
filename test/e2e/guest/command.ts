// How the host starts the scenario in the VM: the lab's files (configs, daemon logs) go to the shared project
// directory (TMPDIR), so they can be read from the host (the guest writes them back within ~30 s, and all at exit).
export function guestCommand(args: string): string {
  const cache = '.cache/e2e';
  return `mkdir -p ${cache}/tmp && TMPDIR=$PWD/${cache}/tmp node test/e2e/guest/scenario.ts ${args}`;
}
