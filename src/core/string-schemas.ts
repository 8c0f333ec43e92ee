import * as v from 'valibot';

/**
 * The string schemas the configuration and the request share. Each says `expected` however it
 * fails (missing, not a string, too short or long, no match), so that an operator reads the
 * contract's words, never the library's English defaults.
 */

/** A string matching `pattern`. */
export const matching = (expected: string, pattern: RegExp) =>
  v.pipe(v.string(expected), v.regex(pattern, expected));

/** A string of `min` to `max` characters (`max` undefined: no upper limit; `min` 0: none). */
export const text = (expected: string, min: number, max?: number) => {
  const type = v.string(expected);
  if (max === undefined) return v.pipe(type, v.minLength(min, expected));
  return min > 0
    ? v.pipe(type, v.minLength(min, expected), v.maxLength(max, expected))
    : v.pipe(type, v.maxLength(max, expected));
};
