// How the host starts the scenario in the VM: the lab's files (configs, daemon logs) go to the shared project
// directory (TMPDIR), so they can be read from the host while the scenario runs.
export function guestCommand(args: string): string {
  const cache = '.cache/e2e';
  return `mkdir -p ${cache}/tmp && TMPDIR=$PWD/${cache}/tmp node test/e2e/guest/scenario.ts ${args}`;
}
