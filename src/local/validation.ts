import * as v from 'valibot';

/**
 * What the local emulators' fault, seed and admin schemas share (valibot): objects that refuse
 * unknown keys and arrays, finite numbers, and issues told with their path, what was expected and
 * what was given.
 *
 * Every message reads `Invalid <what>: Expected <expectation> but received <given>`, valibot's own
 * shape (`Invalid type: Expected number but received "x"`); the messages below are only where
 * valibot's default would say less (a missing or unknown key, an integer, a format).
 */

/** A message in valibot's shape with our expectation: `Invalid format: Expected a 12-digit account id but received "1234"`. */
export const expecting =
  (expectation: string, what = 'format') =>
  (issue: v.BaseIssue<unknown>): string =>
    `Invalid ${what}: Expected ${expectation} but received ${issue.received}`;

/**
 * Stops a pipe at its first failed check (`-1.5` is told not to be an integer, not also to be
 * below 1); every field that fails is still reported.
 */
const PARSE_CONFIG = { abortPipeEarly: true } as const;

/**
 * An object, not an array: valibot's object and record schemas would take `[]` for `{}`.
 * It says it expects `Object` (a bare `v.custom` says `unknown`), as unions and missing keys repeat it.
 */
const objectOnly = <TSchema extends v.GenericSchema>(schema: TSchema) =>
  v.pipe(
    {
      ...v.custom<v.InferInput<TSchema>>(
        (input) => typeof input === 'object' && input !== null && !Array.isArray(input),
        expecting('Object', 'type'),
      ),
      expects: 'Object',
    },
    schema,
  );

/**
 * The key issues of a strict object name what is expected: a missing key its value's type (valibot
 * says only `Expected "kind"`); unknown keys the keys there are, and every unknown key given
 * (valibot says `Expected never` and stops at the first). Runs when the issue is made, so its path
 * is the key alone.
 */
const keyIssueMessage =
  (entries: v.ObjectEntries) =>
  (issue: v.StrictObjectIssue): string => {
    const item = issue.path?.[0];
    if (typeof item?.key !== 'string') return issue.message;
    const field = Object.hasOwn(entries, item.key) ? entries[item.key] : undefined;
    if (field) return `Missing key: Expected ${field.expects} but received undefined`;
    const known = Object.keys(entries).map((name) => `"${name}"`);
    const unknown = Object.keys(item.input as object)
      .filter((name) => !Object.hasOwn(entries, name))
      .map((name) => `"${name}"`);
    const label = unknown.length > 1 ? 'Unknown keys' : 'Unknown key';
    return `${label}: Expected ${known.join(' | ')} but received ${unknown.join(', ')}`;
  };

/** An unknown key's issue: told at the object that has it, as its message names them all. */
const isUnknownKey = (issue: v.BaseIssue<unknown>): boolean =>
  issue.type === 'strict_object' && issue.expected === 'never';

/** `v.strictObject`, refusing arrays, its key issues naming what is expected. */
export const strictObject = <const TEntries extends v.ObjectEntries>(entries: TEntries) =>
  objectOnly(v.strictObject(entries, keyIssueMessage(entries)));

/** `v.partial(v.strictObject(...))`: any subset of the keys, still no other key and no array. */
export const partialStrictObject = <const TEntries extends v.ObjectEntries>(entries: TEntries) =>
  objectOnly(v.partial(v.strictObject(entries, keyIssueMessage(entries))));

/** `v.record`, refusing arrays. */
export const record = <
  const TKey extends v.BaseSchema<string, string, v.BaseIssue<unknown>>,
  const TValue extends v.GenericSchema,
>(
  key: TKey,
  value: TValue,
) => objectOnly(v.record(key, value));

/** A finite number of at least `min` (valibot's `v.number()` takes `Infinity`). */
export const atLeast = (min: number) =>
  v.pipe(v.number(), v.minValue(min), v.finite(expecting('a finite number', 'value')));

/** A share of calls, from 0 to 1. */
export const share = () => v.pipe(v.number(), v.minValue(0), v.maxValue(1));

/** An integer from `min` to `max` (by default, to the largest safe integer). */
export const integer = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  v.pipe(v.number(), v.integer(expecting('an integer', 'value')), v.minValue(min), v.maxValue(max));

// ISO 8601 date-times in UTC (`Z`), seconds required, any fraction, on real calendar days (leap
// years included): what the seeds and the associate route took before valibot. Its
// `isoTimestamp` would also take offsets, a space for the `T` and a 31 February.
const DATE =
  '(?:(?:\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|[02468][048]00|[13579][26]00)-02-29|\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|(?:02)-(?:0[1-9]|1\\d|2[0-8])))';
const ISO_DATE_TIME_UTC = new RegExp(`^${DATE}T(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d+)?Z$`);

/** An ISO 8601 date-time in UTC, e.g. `2024-05-01T12:00:00Z`. */
export const isoDateTime = () =>
  v.pipe(
    v.string(),
    v.regex(
      ISO_DATE_TIME_UTC,
      expecting('an ISO 8601 date-time in UTC (2024-05-01T12:00:00Z, seconds required)'),
    ),
  );

/** One issue, flattened: the keys from the root (array items by index) and the message. */
interface Problem {
  path: (string | number)[];
  message: string;
}

/**
 * The issues as problems. A union's issue is replaced by the issues of the options that got as far
 * as the input's fields (`{ foo: 1 }` given for a number or `{ ms }`: `ms` is missing, `foo`
 * unknown), when there are such; else it stays (`"x"` is neither a number nor an object).
 */
export const problemsOf = (
  issues: readonly v.BaseIssue<unknown>[],
  prefix: readonly (string | number)[] = [],
): Problem[] =>
  issues.flatMap((issue) => {
    const items = (issue.path ?? []).slice(0, isUnknownKey(issue) ? -1 : undefined);
    const path = [
      ...prefix,
      ...items.map((item) => (typeof item.key === 'number' ? item.key : String(item.key))),
    ];
    const inner = issue.type === 'union' ? (issue.issues ?? []).filter((i) => i.path?.length) : [];
    return inner.length > 0 ? problemsOf(inner, path) : [{ path, message: issue.message }];
  });

/** `datashares[0].associations[1].consumerArn` (an odd key quoted: `byRole["a b"]`). */
const pathText = (path: readonly (string | number)[]): string =>
  path
    .map((key, i) => {
      if (typeof key === 'number') return `[${key}]`;
      if (/[^\w$]/.test(key)) return `[${JSON.stringify(key)}]`;
      return i === 0 ? key : `.${key}`;
    })
    .join('');

/** One line per problem, then where it is: `✖ <message>\n  → at <path>`. */
const describeProblems = (problems: readonly Problem[]): string =>
  problems
    .map(({ path, message }) =>
      path.length > 0 ? `✖ ${message}\n  → at ${pathText(path)}` : `✖ ${message}`,
    )
    .join('\n');

/** `v.safeParse`, stopping each field at its first failed check. */
export const safeParse = <const TSchema extends v.GenericSchema>(schema: TSchema, input: unknown) =>
  v.safeParse(schema, input, PARSE_CONFIG);

/**
 * Parses `input`, or throws a TypeError `Invalid <what>:` with a line per problem.
 *
 * @throws {TypeError} naming each offending path, what it expects and what was given.
 */
export const parseOrThrow = <const TSchema extends v.GenericSchema>(
  schema: TSchema,
  input: unknown,
  what: string,
): v.InferOutput<TSchema> => {
  const result = safeParse(schema, input);
  if (result.success) return result.output;
  throw new TypeError(`Invalid ${what}:\n${describeProblems(problemsOf(result.issues))}`);
};
