// MISC_CHECK: run misc_path; exit 0 is up, anything else down. With misc_dynamic, 1 is down and 2-255 are up with
// weight = code − 2 (0 keeps the configured weight). misc_timeout kills the script's whole process group.
import type { MiscCheck, ScriptUser } from '../config/model.ts';
import { splitCommandLine } from './command-line.ts';
import { CheckError } from './errors.ts';
import { failed, passed } from './result.ts';
import { runScript } from './script.ts';
import { assertScriptSecure } from './script-security.ts';
import type { CheckResult } from './types.ts';
import { resolveUser } from './users.ts';

export interface ScriptPolicy {
  /** global_defs script_user: used when the checker names no user; absent = run as this process's user. */
  readonly scriptUser?: ScriptUser;
  readonly enableScriptSecurity?: boolean;
}

export async function checkMisc(checker: MiscCheck, signal: AbortSignal, policy: ScriptPolicy = {}): Promise<CheckResult> {
  const startedAt = performance.now();
  try {
    const user = checker.user ?? policy.scriptUser;
    const credentials = user ? resolveUser(user) : undefined;
    if (policy.enableScriptSecurity) assertScriptSecure(splitCommandLine(checker.path)[0]!);
    const run = await runScript(checker.path, { timeoutMs: checker.timeoutMs, signal, ...(credentials ? { credentials } : {}) });
    if (run.aborted) return failed(startedAt, 'ABORTED', 'check cancelled');
    if (run.timedOut) return failed(startedAt, 'SCRIPT_TIMEOUT', `no exit within ${checker.timeoutMs} ms; process group killed`);
    if (run.exitCode === null) return failed(startedAt, 'SCRIPT_SIGNAL', `killed by ${run.signal}`);
    const code = run.exitCode;
    if (code === 0) return passed(startedAt, 'exit 0');
    if (checker.dynamic && code >= 2) return passed(startedAt, `exit ${code}: weight ${code - 2}`, code - 2);
    return failed(startedAt, 'SCRIPT_EXIT', `exit ${code}`);
  } catch (err) {
    if (err instanceof CheckError && err.code !== 'BAD_ARGUMENT') return failed(startedAt, err.code, err.message);
    return failed(startedAt, 'SCRIPT_SPAWN', err instanceof Error ? err.message : String(err));
  }
}
