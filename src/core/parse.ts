import * as v from 'valibot';
import { EventEnvelopeSchema, type RevocationRequest, RevocationRequestSchema } from './request.js';
import { truncateUtf8 } from './text.js';

/** SQS bodies larger than this are rejected unread (the request contract's limit). */
export const MAX_BODY_BYTES = 256 * 1024;

/** How much of an offending value an error message quotes. */
const MAX_QUOTED_CHARS = 80;

/** A rejection's message lists at most this many problems, then says how many more there were. */
export const MAX_LISTED_PROBLEMS = 10;

/**
 * A rejection's message is at most this many UTF-8 bytes: it becomes the audit event's
 * `error.message` (capped at 2 KiB there too) and the DLQ's `revoker.errorMessage` (1 KiB).
 */
export const MAX_REJECTION_MESSAGE_BYTES = 2048;

export const RejectionCode = {
  BodyTooLarge: 'BodyTooLarge',
  MalformedJson: 'MalformedJson',
  SchemaViolation: 'SchemaViolation',
  /** A valid request for a consumer account the worker may not act in. */
  ConsumerAccountNotAllowed: 'ConsumerAccountNotAllowed',
  /** A region- or account-wide target while `ALLOW_BROAD_TARGETS` is not `true`. */
  BroadTargetNotAllowed: 'BroadTargetNotAllowed',
  /** A datashare outside `ALLOWED_DATASHARES`. */
  DatashareNotAllowed: 'DatashareNotAllowed',
} as const;
export type RejectionCode = (typeof RejectionCode)[keyof typeof RejectionCode];

/** One thing wrong with a request: which field, what was given, what is expected. */
export interface FieldProblem {
  field: string;
  given: string;
  expected: string;
}

export interface Rejection {
  code: RejectionCode;
  message: string;
  problems: FieldProblem[];
  /** The eventId, when the body had a usable one despite being rejected. */
  eventId: string | null;
  /** The consumer account a readable request named (a refusal of its account, say). */
  consumerAccountId?: string;
}

/** Where the request came from: a bare body or an EventBridge envelope. */
export interface Envelope {
  id: string;
  source: string;
  detailType: string;
}

export type ParseResult =
  | { ok: true; request: RevocationRequest; envelope?: Envelope }
  | { ok: false; rejection: Rejection };

const stringify = (value: unknown): string => {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // JSON.stringify recurses: a deeply nested array (`[[[[...]]]]`, a few KB) overflows the stack.
  }
  try {
    return String(value); // recurses too, for arrays
  } catch {
    return `(${Array.isArray(value) ? 'an array' : 'a value'} nested too deeply to quote)`;
  }
};

/** Quotes a value for an error message, truncated so a huge field cannot flood the DLQ attribute. */
export const quote = (value: unknown): string => {
  if (value === undefined) return 'nothing';
  const text = stringify(value);
  // The cut counts UTF-16 units: drop the first half of a surrogate pair whose second half went.
  return text.length > MAX_QUOTED_CHARS
    ? `${text.slice(0, MAX_QUOTED_CHARS).replace(/[\uD800-\uDBFF]$/, '')}… (${text.length} chars)`
    : text;
};

// Every schema in request.ts carries its expectation (EXPECTATIONS, ENVELOPE_EXPECTATIONS) as its
// message, so the issue's message is always our own words, never valibot's English defaults.
// A whole-request check (`raw_check`: the target, the account) gives its `input` as words already.
const describeIssues = (issues: readonly v.BaseIssue<unknown>[], prefix: string): FieldProblem[] =>
  issues.map((issue) => {
    const field = issue.path?.map((item) => String(item.key)).join('.') || '(body)';
    const given = issue.type === 'raw_check' ? String(issue.input) : quote(issue.input);
    return { field: `${prefix}${field}`, given, expected: issue.message };
  });

const describeProblem = (p: FieldProblem): string =>
  `${p.field}: expected ${p.expected}; given ${p.given}`;

/**
 * One line per problem, joined — but bounded: the first problems that fit (at most
 * `MAX_LISTED_PROBLEMS`), then "… and K more problems", in at most `MAX_REJECTION_MESSAGE_BYTES`.
 * A body with thousands of invalid entries must still make a publishable audit event.
 */
export const rejectionMessage = (problems: readonly FieldProblem[]): string => {
  const moreNote = (count: number) =>
    count > 0 ? `; … and ${count} more problem${count === 1 ? '' : 's'}` : '';
  // The note's longest form, reserved so the listed part can never push it out.
  const room = MAX_REJECTION_MESSAGE_BYTES - Buffer.byteLength(moreNote(problems.length), 'utf8');
  let message = '';
  let listed = 0;
  for (const problem of problems.slice(0, MAX_LISTED_PROBLEMS)) {
    const next = `${listed > 0 ? `${message}; ` : ''}${describeProblem(problem)}`;
    if (Buffer.byteLength(next, 'utf8') > room) {
      // Even the first problem alone is too long: quote it cut, rather than list nothing.
      if (listed === 0) {
        message = truncateUtf8(next, room);
        listed = 1;
      }
      break;
    }
    message = next;
    listed += 1;
  }
  return `${message}${moreNote(problems.length - listed)}`;
};

/** A rejection of a body that parsed but asks for what the worker may not do. */
export const refusal = (
  code: RejectionCode,
  problems: FieldProblem[],
  eventId: string | null,
): Rejection => ({ code, problems, eventId, message: rejectionMessage(problems) });

const reject = (
  code: RejectionCode,
  problems: FieldProblem[],
  eventId: string | null,
): ParseResult => ({
  ok: false,
  rejection: { code, problems, eventId, message: rejectionMessage(problems) },
});

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A usable eventId from a rejected body, so the audit event can still name the decision. */
const salvageEventId = (candidate: unknown): string | null =>
  typeof candidate === 'string' && candidate.length > 0 && candidate.length <= 256
    ? candidate
    : null;

const looksLikeEnvelope = (value: Record<string, unknown>): boolean =>
  'detail' in value && 'detail-type' in value && 'source' in value;

/**
 * Turns an SQS message body into a request, or into a rejection that says precisely what is wrong.
 * Never throws: every body, whatever it holds, yields one of the two.
 *
 * @example
 * const result = parseMessageBody(record.body);
 * if (!result.ok) quarantine(record, result.rejection);
 */
export const parseMessageBody = (body: string): ParseResult => {
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > MAX_BODY_BYTES) {
    return reject(
      RejectionCode.BodyTooLarge,
      [{ field: '(body)', given: `${bytes} bytes`, expected: `at most ${MAX_BODY_BYTES} bytes` }],
      null,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return reject(
      RejectionCode.MalformedJson,
      [{ field: '(body)', given: `${quote(body)} (${detail})`, expected: 'a JSON object' }],
      null,
    );
  }
  if (!isObject(json)) {
    return reject(
      RejectionCode.SchemaViolation,
      [{ field: '(body)', given: quote(json), expected: 'a JSON object' }],
      null,
    );
  }

  let candidate: unknown = json;
  let prefix = '';
  let envelope: Envelope | undefined;
  if (looksLikeEnvelope(json)) {
    const parsedEnvelope = v.safeParse(EventEnvelopeSchema, json);
    if (!parsedEnvelope.success) {
      const eventId = isObject(json.detail) ? salvageEventId(json.detail.eventId) : null;
      return reject(
        RejectionCode.SchemaViolation,
        describeIssues(parsedEnvelope.issues, ''),
        eventId,
      );
    }
    envelope = {
      id: parsedEnvelope.output.id,
      source: parsedEnvelope.output.source,
      detailType: parsedEnvelope.output['detail-type'],
    };
    candidate = parsedEnvelope.output.detail;
    prefix = 'detail.';
    if (!isObject(candidate)) {
      return reject(
        RejectionCode.SchemaViolation,
        [{ field: 'detail', given: quote(candidate), expected: 'a RevocationRequest object' }],
        null,
      );
    }
  }

  const parsed = v.safeParse(RevocationRequestSchema, candidate);
  if (!parsed.success) {
    const eventId = isObject(candidate) ? salvageEventId(candidate.eventId) : null;
    return reject(RejectionCode.SchemaViolation, describeIssues(parsed.issues, prefix), eventId);
  }
  return envelope
    ? { ok: true, request: parsed.output, envelope }
    : { ok: true, request: parsed.output };
};
