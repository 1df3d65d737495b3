// FILE_CHECK, as keepalived 2.2's check_file.c and track_file.c: the track file's number times the checker's
// weight (negated with `reverse`) is added to the real server's weight; a product at or below −2^31 is a failure
// (FAULT). With weight 0 the number is a status instead: non-zero fails, zero passes (`reverse` swaps them).
import type { FileCheck } from '../config/model.ts';
import { failed, passed } from './result.ts';
import { readTrackFileValue } from './track-file.ts';
import type { CheckResult } from './types.ts';

const FAULT = -(2 ** 31);

export async function checkFile(checker: FileCheck): Promise<CheckResult> {
  const startedAt = performance.now();
  const { value, ignored } = await readTrackFileValue(checker.trackFile.path);
  const read = ignored === undefined ? `value ${value}` : `'${ignored}' is out of range, kept value ${value}`;
  const where = `track_file ${checker.trackFile.name}: ${read}`;
  if (checker.weight === 0) {
    const fault = (value !== 0) !== checker.weightReverse;
    return fault ? failed(startedAt, 'FILE_FAULT', `${where} (weight 0${checker.weightReverse ? ' reverse' : ''}: fault)`) : passed(startedAt, where);
  }
  const product = value * checker.weight * (checker.weightReverse ? -1 : 1);
  if (product <= FAULT) return failed(startedAt, 'FILE_FAULT', `${where} × weight ${checker.weight}${checker.weightReverse ? ' reverse' : ''} = ${product}: fault`);
  const offset = Math.min(product, 2 ** 31 - 1);
  return { ...passed(startedAt, `${where}: weight ${offset >= 0 ? '+' : ''}${offset}`), weightOffset: offset };
}
