// Comparing model objects across a reload: two objects are the same configuration when they are equal without
// their source positions (a line that moved in the file is not a change).

/** A string that is equal for two model objects exactly when they are the same configuration. */
export function modelKey(v: unknown): string {
  return JSON.stringify(v, (k, x: unknown) => (k === 'pos' ? undefined : x)) ?? 'undefined';
}

export function sameModel(a: unknown, b: unknown): boolean {
  return modelKey(a) === modelKey(b);
}
