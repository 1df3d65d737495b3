// keepalived's HEX_STR (read_hex_str in lib/parser.c), the format of UDP_CHECK's payload and require_reply: hex
// digits two to an octet, white space between octets optional, and a digit standing alone before a space or the
// end being one octet ("Ab12f 3 456" = AB 12 0F 03 45 06). Where wildcards are allowed, an x or X digit matches
// any nibble.

export interface HexString {
  /** Lower-case hex, two digits per octet. */
  readonly data: string;
  /** Set bits mark wildcard nibbles; absent when there are none. */
  readonly mask?: string;
}

/** undefined when the text holds no octet or a character that is not a hex digit (or a wildcard, where allowed). */
export function parseHexString(text: string, wildcards: boolean): HexString | undefined {
  const data: number[] = [];
  const mask: number[] = [];
  let i = 0;
  for (;;) {
    while (text[i] === ' ' || text[i] === '\t') i++;
    if (i >= text.length) break;
    let first = nibble(text[i++]!, wildcards);
    if (first === undefined) return undefined;
    let value = first.value;
    let bits = first.mask;
    // keepalived pairs a digit with the next character unless that is a space or the end (a tab is not a separator
    // there, so "a\tb" is invalid, as keepalived has it).
    if (i < text.length && text[i] !== ' ') {
      first = nibble(text[i++]!, wildcards);
      if (first === undefined) return undefined;
      value = (value << 4) | first.value;
      bits = (bits << 4) | first.mask;
    }
    data.push(value);
    mask.push(bits);
  }
  if (data.length === 0) return undefined;
  const hex = (octets: number[]): string => Buffer.from(octets).toString('hex');
  return mask.some((m) => m !== 0) ? { data: hex(data), mask: hex(mask) } : { data: hex(data) };
}

function nibble(c: string, wildcards: boolean): { value: number; mask: number } | undefined {
  if (/^[0-9a-fA-F]$/.test(c)) return { value: parseInt(c, 16), mask: 0 };
  if (wildcards && (c === 'x' || c === 'X')) return { value: 0, mask: 0xf };
  return undefined;
}
