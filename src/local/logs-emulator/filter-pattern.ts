/**
 * The subset of CloudWatch Logs' JSON filter pattern syntax the emulator understands: `''` (every
 * event) or `{ COND && COND ... }` where COND is `$.a.b = "text"`, `$.a.b != "text"`, `$.n = 5`
 * or `$.a.b = true|false|null`. A string value may end in `*` (prefix match), as in AWS.
 * Anything else is refused with `InvalidParameterException`, naming what is supported.
 */

/** Whether a parsed log message matches. */
export type LogEventMatcher = (message: string) => boolean;

/** A pattern outside the supported subset. */
export class FilterPatternError extends Error {
  override readonly name = 'FilterPatternError';
}

type Value = string | number | boolean | null;
interface Condition {
  path: string[];
  negate: boolean;
  value: Value;
}

const CONDITION =
  /^\s*\$((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)\s*(=|!=)\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null)\s*$/;

const parseCondition = (text: string, pattern: string): Condition => {
  const match = CONDITION.exec(text);
  if (!match?.[1] || !match[2] || match[3] === undefined) {
    throw new FilterPatternError(
      `Invalid filter pattern ${JSON.stringify(pattern)}: the emulator supports { $.a.b = "text" && $.c != 5 ... } (=, !=, &&; strings, numbers, true, false, null), got ${JSON.stringify(text.trim())}`,
    );
  }
  const raw = match[3];
  const value: Value = raw.startsWith('"') ? (JSON.parse(raw) as string) : JSON.parse(raw);
  return { path: match[1].slice(1).split('.'), negate: match[2] === '!=', value };
};

const lookup = (json: unknown, path: readonly string[]): unknown => {
  let node = json;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
};

const equals = (actual: unknown, expected: Value): boolean => {
  if (typeof expected === 'string' && typeof actual === 'string') {
    return expected.endsWith('*') ? actual.startsWith(expected.slice(0, -1)) : actual === expected;
  }
  return actual === expected;
};

/**
 * Parses a filter pattern into a matcher over raw log messages (non-JSON messages never match a
 * JSON pattern, as in AWS).
 *
 * @throws {FilterPatternError} for a pattern outside the subset.
 */
export const parseFilterPattern = (pattern: string | undefined): LogEventMatcher => {
  const text = (pattern ?? '').trim();
  if (text === '') return () => true;
  if (!text.startsWith('{') || !text.endsWith('}')) {
    throw new FilterPatternError(
      `Invalid filter pattern ${JSON.stringify(pattern)}: the emulator supports only JSON patterns { ... } or an empty pattern`,
    );
  }
  const conditions = text
    .slice(1, -1)
    .split('&&')
    .map((part) => parseCondition(part, text));
  return (message) => {
    let json: unknown;
    try {
      json = JSON.parse(message);
    } catch {
      return false;
    }
    return conditions.every((c) => {
      const actual = lookup(json, c.path);
      // AWS: a != condition on an absent field does not match either.
      if (actual === undefined) return false;
      return equals(actual, c.value) !== c.negate;
    });
  };
};
