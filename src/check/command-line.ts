// keepalived runs scripts without a shell: the configured string is split on white space, with single and double
// quotes grouping words and a backslash escaping the next character. A shell is used only when the command names
// one itself (`/bin/sh -c "..."`).
import { CheckError } from './errors.ts';

export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new CheckError('BAD_ARGUMENT', `unterminated ${quote} quote in command: ${line}`);
  if (inWord) words.push(word);
  if (words.length === 0) throw new CheckError('BAD_ARGUMENT', 'empty command');
  return words;
}

/** One argument quoted so that splitCommandLine gives it back as it is. */
export function quoteArgument(arg: string): string {
  return `"${arg.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
