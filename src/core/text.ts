/**
 * Cutting text to a byte budget. AWS counts sizes in UTF-8 bytes (SQS attributes, EventBridge
 * entries), JavaScript strings in UTF-16 units: these helpers measure in bytes and never split a
 * character, so a cut string is still well-formed text.
 */

/** The UTF-8 size of one code point. A lone surrogate is encoded as U+FFFD: 3 bytes. */
const utf8Bytes = (codePoint: number): number =>
  codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;

const SHORT_ESCAPES = new Set([0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x22, 0x5c]);

/**
 * What one code point costs inside a JSON string as `JSON.stringify` writes it: `"` and `\` and
 * the control characters with a short form take 2 bytes, the other control characters and lone
 * surrogates a 6-byte `\uXXXX`, everything else its UTF-8 bytes.
 */
const jsonBytes = (codePoint: number): number => {
  if (SHORT_ESCAPES.has(codePoint)) return 2;
  if (codePoint < 0x20 || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return 6;
  return utf8Bytes(codePoint);
};

/** Bytes `text` takes inside a JSON string, quotes excluded. */
export const jsonStringBytes = (text: string): number => {
  let bytes = 0;
  for (const char of text) bytes += jsonBytes(char.codePointAt(0) ?? 0);
  return bytes;
};

/** The longest prefix of `text` whose cost (by `cost` per code point) is at most `budget`. */
const prefixWithin = (
  text: string,
  budget: number,
  cost: (codePoint: number) => number,
): string => {
  let spent = 0;
  let end = 0;
  for (const char of text) {
    spent += cost(char.codePointAt(0) ?? 0);
    if (spent > budget) break;
    end += char.length;
  }
  return text.slice(0, end);
};

const ELLIPSIS = '…';
const ELLIPSIS_BYTES = 3;

/**
 * Cuts a string to at most `maxBytes` of UTF-8, ellipsis included, without splitting a character.
 * A string that fits comes back unchanged.
 *
 * @example truncateUtf8('é'.repeat(600), 1024) // 510 × 'é' then '…': 1023 bytes
 */
export const truncateUtf8 = (text: string, maxBytes: number): string => {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  return `${prefixWithin(text, Math.max(0, maxBytes - ELLIPSIS_BYTES), utf8Bytes)}${ELLIPSIS}`;
};

/**
 * Cuts a string so that, written as a JSON string by `JSON.stringify`, it takes at most
 * `maxBytes` (quotes excluded), ellipsis included. Measuring the escaped form is what makes a
 * size bound on a serialised document hold whatever the text holds (quotes, control characters).
 *
 * @returns the text, and whether it was cut.
 */
export const truncateJsonText = (text: string, maxBytes: number): { text: string; cut: boolean } =>
  jsonStringBytes(text) <= maxBytes
    ? { text, cut: false }
    : {
        text: `${prefixWithin(text, Math.max(0, maxBytes - ELLIPSIS_BYTES), jsonBytes)}${ELLIPSIS}`,
        cut: true,
      };
