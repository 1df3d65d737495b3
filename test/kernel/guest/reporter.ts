// A node:test reporter for guest-side test files: one JSON line per finished top-level test, with the test's own
// diagnostics (its measured figures), which the host side (test/kernel/guest-tests.ts) turns back into subtests.
// Lines are prefixed so other output can't be mistaken.
export const PREFIX = '@@guest-test ';

interface TestEvent {
  type: string;
  data: {
    name: string;
    nesting: number;
    message?: string;
    skip?: string | boolean;
    todo?: string | boolean;
    details?: { duration_ms?: number; error?: unknown };
  };
}

interface Result {
  name: string;
  ok: boolean;
  skip?: string;
  ms?: number;
  error?: string;
  diagnostics: string[];
}

export default async function* reporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  // A test's diagnostics arrive after its pass/fail event, so each result is held until the next one (or the
  // run's closing plan, whose summary diagnostics belong to no test).
  let held: Result | undefined;
  const flush = (): string => {
    const line = held ? `${PREFIX}${JSON.stringify(held)}\n` : '';
    held = undefined;
    return line;
  };
  for await (const event of source) {
    if (event.data?.nesting !== 0) continue;
    if (event.type === 'test:diagnostic' && event.data.message !== undefined) held?.diagnostics.push(event.data.message);
    else if (event.type === 'test:plan') yield flush();
    else if (event.type === 'test:pass' || event.type === 'test:fail') {
      yield flush();
      const error = event.data.details?.error;
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      held = {
        name: event.data.name,
        ok: event.type === 'test:pass',
        skip: event.data.skip === undefined || event.data.skip === false ? undefined : String(event.data.skip),
        ms: event.data.details?.duration_ms,
        error: cause instanceof Error ? (cause.stack ?? cause.message) : cause === undefined ? undefined : String(cause),
        diagnostics: [],
      };
    }
  }
  yield flush();
}
