import { z } from 'zod';
import { DATASHARE_ARN_PATTERN, NAMESPACE_ARN_PATTERN, REGION_PATTERN } from './arn.js';

/**
 * What each field must be, in words an operator reads in the DLQ. The schema below uses these
 * texts, and `describeIssues` quotes them next to the value that was given.
 */
export const EXPECTATIONS = {
  eventId: 'a string of 1 to 256 characters, unique per policy decision',
  dataShareArn:
    'a datashare ARN: arn:<partition>:redshift:<region>:<12-digit producer account>:datashare:<producer namespace>/<name>',
  consumerArn:
    'a consumer namespace ARN: arn:<partition>:redshift:<region>:<account>:namespace:<id> or arn:<partition>:redshift-serverless:<region>:<account>:namespace/<id>',
  consumerRegion: 'an AWS region code such as us-east-1',
  disassociateEntireAccount: 'the boolean true',
  policyId: 'a non-empty string of at most 256 characters',
  issuedAt: 'an ISO-8601 timestamp with a time zone, such as 2026-11-25T08:00:00Z',
  reason: 'a string of at most 1024 characters',
  correlationId: 'a string of at most 256 characters',
  dryRun: 'a boolean',
  target: 'exactly one of consumerArn, consumerRegion or disassociateEntireAccount: true',
} as const;

/** Version 1 of the request a policy engine sends. Unknown fields are ignored (stripped). */
export const RevocationRequestSchema = z
  .object({
    eventId: z.string({ error: EXPECTATIONS.eventId }).min(1).max(256),
    dataShareArn: z.string().regex(DATASHARE_ARN_PATTERN),
    consumerArn: z.string().regex(NAMESPACE_ARN_PATTERN).optional(),
    consumerRegion: z.string().regex(REGION_PATTERN).optional(),
    disassociateEntireAccount: z.boolean().optional(),
    policyId: z.string().min(1).max(256),
    issuedAt: z.iso.datetime({ offset: true }),
    reason: z.string().max(1024).optional(),
    correlationId: z.string().max(256).optional(),
    dryRun: z.boolean().optional(),
  })
  .superRefine((request, ctx) => {
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
  })
  .meta({
    id: 'RevocationRequest',
    title: 'RevocationRequest',
    description:
      'Version 1 of a policy decision that a Redshift datashare consumer must lose access.',
  });

export type RevocationRequest = z.infer<typeof RevocationRequestSchema>;

/** The fields of an EventBridge event as an EventBridge rule delivers it to SQS. */
export const EventEnvelopeSchema = z.object({
  version: z.string(),
  id: z.string(),
  'detail-type': z.string(),
  source: z.string(),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()),
  detail: z.unknown(),
});
