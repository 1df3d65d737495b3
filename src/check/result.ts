// Builders for check results, so every checker measures latency the same way (from its own start to the verdict).
import type { CheckFailureCode } from './errors.ts';
import type { CheckResult } from './types.ts';

export function passed(startedAt: number, reason: string, weight?: number): CheckResult {
  const result = { ok: true, reason, latencyMs: elapsed(startedAt) };
  return weight === undefined ? result : { ...result, weight };
}

export function failed(startedAt: number, code: CheckFailureCode, reason: string): CheckResult {
  return { ok: false, code, reason, latencyMs: elapsed(startedAt) };
}

function elapsed(startedAt: number): number {
  return Math.round((performance.now() - startedAt) * 1000) / 1000;
}
