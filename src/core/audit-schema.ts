import * as z from 'zod/mini';
import { Outcome } from './outcome.js';

/**
 * The zod schema of the audit detail: the source of its TypeScript type (`AuditDetail`, in
 * audit.ts) and of its published JSON Schema (json-schemas.ts), and what the local summary checks
 * captured events against. The worker never parses its own audit events, so the handler does not
 * import this module: building these schemas would only lengthen its cold start.
 */

/** One association of a datashare, as Redshift returned it. */
export const AssociationSchema = z.object({
  consumerIdentifier: z.optional(z.string()),
  status: z.optional(z.string()),
  consumerRegion: z.optional(z.string()),
  createdDate: z.optional(z.string()),
  statusChangeDate: z.optional(z.string()),
});

const ConsumerSchema = z.union([
  z.object({ arn: z.string() }),
  z.object({ region: z.string() }),
  z.object({ entireAccount: z.literal(true) }),
]);

/** The `detail` of every audit event. One is published per eventId and terminal outcome. */
export const AuditDetailSchema = z
  .object({
    schemaVersion: z.literal(1),
    eventId: z.nullable(z.string()).check(z.describe('null when the body was unparseable')),
    outcome: z.enum([
      Outcome.Revoked,
      Outcome.AlreadyRevoked,
      Outcome.DryRun,
      Outcome.Rejected,
      Outcome.Failed,
      Outcome.Superseded,
    ]),
    dataShareArn: z.nullable(z.string()),
    consumer: z.nullable(ConsumerSchema),
    policyId: z.nullable(z.string()),
    reason: z.nullable(z.string()),
    correlationId: z.nullable(z.string()),
    issuedAt: z.nullable(z.string()),
    processedAt: z.string(),
    latencyMs: z.nullable(z.number()).check(z.describe('processedAt − issuedAt')),
    attempts: z.int().check(z.describe('Redshift calls made for this decision')),
    receiveCount: z.int(),
    replayed: z.boolean().check(z.describe('the message was replayed from the DLQ by an operator')),
    dryRun: z.boolean(),
    error: z.optional(z.object({ code: z.string(), message: z.string() })),
    associations: z
      .optional(z.array(AssociationSchema))
      .check(
        z.describe('the first associations that fit in the detail, in the order Redshift gave'),
      ),
    associationsTruncated: z
      .optional(z.boolean())
      .check(z.describe('true when associations were left out to keep the detail under 20 KiB')),
    associationsOmitted: z
      .optional(z.int())
      .check(z.describe('how many associations were left out')),
    satisfiedBy: z
      .optional(z.string())
      .check(z.describe('the eventId whose Redshift call confirmed the revocation')),
    supersededBy: z
      .optional(z.object({ associationChangedAt: z.string(), status: z.string() }))
      .check(
        z.describe(
          "SUPERSEDED: the target was associated again after the decision was issued (plus CLOCK_SKEW_MARGIN_SECONDS); associationChangedAt is the earliest such change (the later of an association's CreatedDate and StatusChangeDate), status that association's",
        ),
      ),
    consumerAccountId: z
      .optional(z.nullable(z.string()))
      .check(z.describe('the consumer account the decision acts in (null when REJECTED unparsed)')),
    actor: z
      .optional(z.nullable(z.object({ accountId: z.string(), roleArn: z.nullable(z.string()) })))
      .check(
        z.describe(
          "who the Redshift call was made as: the consumer role assumed, or the function's own role (roleArn null when not configured); null when no call was made",
        ),
      ),
    redshiftRequestId: z
      .optional(z.nullable(z.string()))
      .check(
        z.describe(
          "Redshift's RequestId for the call's answer: the consumer account's CloudTrail records it as requestID",
        ),
      ),
    messageId: z.string(),
    bodySha256: z.optional(z.string()),
    worker: z.object({
      functionName: z.string(),
      functionVersion: z.string(),
      awsRequestId: z.string(),
    }),
    truncatedFields: z
      .optional(z.array(z.string()))
      .check(
        z.describe(
          'the text fields cut to their cap (each ends in "…"), e.g. "reason", "error.message"',
        ),
      ),
  })
  .register(z.globalRegistry, {
    id: 'DatashareRevocationResult',
    title: 'Datashare Revocation Result',
  });
