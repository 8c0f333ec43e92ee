import * as v from 'valibot';
import {
  ACCOUNT_ID_PATTERN,
  accountOfNamespaceArn,
  DATASHARE_ARN_PATTERN,
  NAMESPACE_ARN_PATTERN,
  REGION_PATTERN,
} from './arn.js';
import { matching, text } from './string-schemas.js';

/**
 * What each field must be, in words an operator reads in the DLQ. Each schema below carries its
 * text as the message of its type and of every check, so every way a field can fail (missing,
 * wrong type, too long, no match) says the same words, and `describeIssues` quotes them next to the value that was given.
 */
export const EXPECTATIONS = {
  eventId: 'a string of 1 to 256 characters, unique per policy decision',
  dataShareArn:
    'a datashare ARN: arn:<partition>:redshift:<region>:<12-digit producer account>:datashare:<producer namespace>/<name>',
  consumerArn:
    'a consumer namespace ARN: arn:<partition>:redshift:<region>:<account>:namespace:<id> or arn:<partition>:redshift-serverless:<region>:<account>:namespace/<id>',
  consumerRegion: 'an AWS region code such as us-east-1',
  disassociateEntireAccount: 'the boolean true',
  consumerAccountId:
    "the consumer's 12-digit AWS account id (for consumerArn, the ARN's own account)",
  policyId: 'a non-empty string of at most 256 characters',
  issuedAt: 'an ISO-8601 timestamp with a time zone, such as 2026-11-25T08:00:00Z',
  reason: 'a string of at most 1024 characters',
  correlationId: 'a string of at most 256 characters',
  dryRun: 'a boolean',
  target: 'exactly one of consumerArn, consumerRegion or disassociateEntireAccount: true',
} as const;

/**
 * `issuedAt`: an ISO-8601 date and time to the second (fractions allowed), with `Z` or a `±hh:mm`
 * offset, on a real calendar day. The pattern the request contract has always published (it was
 * zod's `iso.datetime({ offset: true })`), kept as it was so that no producer's timestamps change
 * meaning.
 */
export const ISSUED_AT_PATTERN =
  /^(?:(?:\d\d[2468][048]|\d\d[13579][26]|\d\d0[48]|[02468][048]00|[13579][26]00)-02-29|\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|(?:02)-(?:0[1-9]|1\d|2[0-8])))T(?:(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|([+-](?:[01]\d|2[0-3]):[0-5]\d)))$/;

/**
 * The words for a field that is missing from the object: valibot reports a missing key as an
 * issue of the object (not of the field's schema), so its message is looked up by the key.
 */
const missingField =
  (expectationOf: (key: string) => string, notAnObject: string) =>
  (issue: v.ObjectIssue): string => {
    const key = issue.path?.at(-1)?.key;
    return issue.expected !== 'Object' && typeof key === 'string'
      ? expectationOf(key)
      : notAnObject;
  };

/** An issue of the request as a whole, reported at `field` (a name of our own, like `target`). */
const fieldIssue = (input: Record<string, unknown>, field: string): [v.IssuePathItem] => [
  { type: 'object', origin: 'value', input, key: field, value: undefined },
];

/** Version 1 of the request a policy engine sends. Unknown fields are ignored (stripped). */
export const RevocationRequestSchema = v.pipe(
  v.object(
    {
      eventId: text(EXPECTATIONS.eventId, 1, 256),
      dataShareArn: matching(EXPECTATIONS.dataShareArn, DATASHARE_ARN_PATTERN),
      consumerArn: v.optional(matching(EXPECTATIONS.consumerArn, NAMESPACE_ARN_PATTERN)),
      consumerRegion: v.optional(matching(EXPECTATIONS.consumerRegion, REGION_PATTERN)),
      disassociateEntireAccount: v.optional(v.boolean(EXPECTATIONS.disassociateEntireAccount)),
      consumerAccountId: v.optional(matching(EXPECTATIONS.consumerAccountId, ACCOUNT_ID_PATTERN)),
      policyId: text(EXPECTATIONS.policyId, 1, 256),
      issuedAt: matching(EXPECTATIONS.issuedAt, ISSUED_AT_PATTERN),
      reason: v.optional(text(EXPECTATIONS.reason, 0, 1024)),
      correlationId: v.optional(text(EXPECTATIONS.correlationId, 0, 256)),
      dryRun: v.optional(v.boolean(EXPECTATIONS.dryRun)),
    },
    missingField(
      (key) => EXPECTATIONS[key as keyof typeof EXPECTATIONS] ?? key,
      'a RevocationRequest object',
    ),
  ),
  // Runs only on a request whose fields are all valid (valibot skips a pipe's later actions once
  // the object has an issue), as the field checks alone cannot say these.
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const request = dataset.value;
    const given = [
      request.consumerArn !== undefined && 'consumerArn',
      request.consumerRegion !== undefined && 'consumerRegion',
      request.disassociateEntireAccount === true && 'disassociateEntireAccount',
    ].filter((name): name is string => typeof name === 'string');
    if (given.length !== 1) {
      addIssue({
        path: fieldIssue(request, 'target'),
        input: given.length === 0 ? 'none of them' : given.join(' and '),
        message: EXPECTATIONS.target,
      });
    }
    // A namespace ARN names its account: a different consumerAccountId is a contradiction, and
    // acting on either could revoke the wrong consumer.
    const arnAccount =
      request.consumerArn === undefined ? undefined : accountOfNamespaceArn(request.consumerArn);
    if (
      arnAccount !== undefined &&
      request.consumerAccountId !== undefined &&
      request.consumerAccountId !== arnAccount
    ) {
      addIssue({
        path: fieldIssue(request, 'consumerAccountId'),
        input: `"${request.consumerAccountId}", while consumerArn names account ${arnAccount}`,
        message: `the account of consumerArn (${arnAccount}), or nothing`,
      });
    }
  }),
  v.title('RevocationRequest'),
  v.description(
    'Version 1 of a policy decision that a Redshift datashare consumer must lose access.',
  ),
);

export type RevocationRequest = v.InferOutput<typeof RevocationRequestSchema>;

/**
 * What the EventBridge envelope's fields must be (EventBridge itself sets them). With the classic
 * API these fell back to zod's English locale ("Invalid input: expected string, received number");
 * now they have words of their own, like the request's fields.
 */
export const ENVELOPE_EXPECTATIONS = {
  field: 'a string, as in every EventBridge event',
  resources: 'an array of strings, as in every EventBridge event',
  resource: 'a string',
} as const;

const envelopeField = v.string(ENVELOPE_EXPECTATIONS.field);

/** The fields of an EventBridge event as an EventBridge rule delivers it to SQS. */
export const EventEnvelopeSchema = v.object(
  {
    version: envelopeField,
    id: envelopeField,
    'detail-type': envelopeField,
    source: envelopeField,
    account: envelopeField,
    time: envelopeField,
    region: envelopeField,
    resources: v.array(v.string(ENVELOPE_EXPECTATIONS.resource), ENVELOPE_EXPECTATIONS.resources),
    detail: v.unknown(),
  },
  missingField(
    (key) => (key === 'resources' ? ENVELOPE_EXPECTATIONS.resources : ENVELOPE_EXPECTATIONS.field),
    'an EventBridge event object',
  ),
);
