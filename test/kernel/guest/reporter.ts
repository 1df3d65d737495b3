// A node:test reporter for guest-side test files: one JSON line per finished top-level test, which the host
// side (test/kernel/guest-tests.ts) turns back into subtests. Lines are prefixed so other output can't be mistaken.
export const PREFIX = '@@guest-test ';

interface TestEvent {
  type: string;
  data: { name: string; nesting: number; skip?: string | boolean; todo?: string | boolean; details?: { duration_ms?: number; error?: unknown } };
}

export default async function* reporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (event.data.nesting !== 0) continue;
    const error = event.data.details?.error;
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    yield `${PREFIX}${JSON.stringify({
      name: event.data.name,
      ok: event.type === 'test:pass',
      skip: event.data.skip === undefined || event.data.skip === false ? undefined : String(event.data.skip),
      ms: event.data.details?.duration_ms,
      error: cause instanceof Error ? (cause.stack ?? cause.message) : cause === undefined ? undefined : String(cause),
    })}\n`;
  }
}
