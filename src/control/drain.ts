// Back-pressure for the control socket's and the /metrics endpoint's streamed replies.
import type { Writable } from 'node:stream';

/**
 * Resolves on 'drain', or on 'close' when the reader went away (the caller then sees `destroyed` and stops).
 * Both listeners go once either fires: a long reply waits here many times on one stream.
 */
export function drained(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}
