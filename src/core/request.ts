import * as z from 'zod/mini';
import {
  ACCOUNT_ID_PATTERN,
  accountOfNamespaceArn,
  DATASHARE_ARN_PATTERN,
  NAMESPACE_ARN_PATTERN,
  REGION_PATTERN,
} from './arn.js';

/**
 * What each field must be, in words an operator reads in the DLQ. Each schema below carries its
 * text as its `error`, so every way a field can fail (missing, wrong type, too long, no match)
 * says the same words, and `describeIssues` quotes them next to the value that was given.
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

/** A string that must match `pattern`, failing with `expected` whatever goes wrong. */
const matching = (pattern: RegExp, expected: string) =>
  z.string({ error: expected }).check(z.regex(pattern));

/** Version 1 of the request a policy engine sends. Unknown fields are ignored (stripped). */
export const RevocationRequestSchema = z
  .object({
    eventId: z.string({ error: EXPECTATIONS.eventId }).check(z.minLength(1), z.maxLength(256)),
    dataShareArn: matching(DATASHARE_ARN_PATTERN, EXPECTATIONS.dataShareArn),
    consumerArn: z.optional(matching(NAMESPACE_ARN_PATTERN, EXPECTATIONS.consumerArn)),
    consumerRegion: z.optional(matching(REGION_PATTERN, EXPECTATIONS.consumerRegion)),
    disassociateEntireAccount: z.optional(
      z.boolean({ error: EXPECTATIONS.disassociateEntireAccount }),
    ),
    consumerAccountId: z.optional(matching(ACCOUNT_ID_PATTERN, EXPECTATIONS.consumerAccountId)),
    policyId: z.string({ error: EXPECTATIONS.policyId }).check(z.minLength(1), z.maxLength(256)),
    issuedAt: z.iso.datetime({ offset: true, error: EXPECTATIONS.issuedAt }),
    reason: z.optional(z.string({ error: EXPECTATIONS.reason }).check(z.maxLength(1024))),
    correlationId: z.optional(
      z.string({ error: EXPECTATIONS.correlationId }).check(z.maxLength(256)),
    ),
    dryRun: z.optional(z.boolean({ error: EXPECTATIONS.dryRun })),
  })
  .check(
    z.superRefine((request, ctx) => {
      const given = [
        request.consumerArn !== undefined && 'consumerArn',
        request.consumerRegion !== undefined && 'consumerRegion',
        request.disassociateEntireAccount === true && 'disassociateEntireAccount',
      ].filter((name): name is string => typeof name === 'string');
      if (given.length !== 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['target'],
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
        ctx.addIssue({
          code: 'custom',
          path: ['consumerAccountId'],
          input: `"${request.consumerAccountId}", while consumerArn names account ${arnAccount}`,
          message: `the account of consumerArn (${arnAccount}), or nothing`,
        });
      }
    }),
  )
  .register(z.globalRegistry, {
    id: 'RevocationRequest',
    title: 'RevocationRequest',
    description:
      'Version 1 of a policy decision that a Redshift datashare consumer must lose access.',
  });

export type RevocationRequest = z.infer<typeof RevocationRequestSchema>;

/**
 * What the EventBridge envelope's fields must be (EventBridge itself sets them). With the classic
 * API these fell back to zod's English locale ("Invalid input: expected string, received number");
 * zod/mini has no locale, so they get words of their own, like the request's fields.
 */
export const ENVELOPE_EXPECTATIONS = {
  field: 'a string, as in every EventBridge event',
  resources: 'an array of strings, as in every EventBridge event',
  resource: 'a string',
} as const;

const envelopeField = z.string({ error: ENVELOPE_EXPECTATIONS.field });

/** The fields of an EventBridge event as an EventBridge rule delivers it to SQS. */
export const EventEnvelopeSchema = z.object({
  version: envelopeField,
  id: envelopeField,
  'detail-type': envelopeField,
  source: envelopeField,
  account: envelopeField,
  time: envelopeField,
  region: envelopeField,
  resources: z.array(z.string({ error: ENVELOPE_EXPECTATIONS.resource }), {
    error: ENVELOPE_EXPECTATIONS.resources,
  }),
  detail: z.unknown(),
});
