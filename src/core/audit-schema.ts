import * as v from 'valibot';
import { Outcome } from './outcome.js';

/**
 * The valibot schema of the audit detail: the source of its TypeScript type (`AuditDetail`, in
 * audit.ts) and of its published JSON Schema (json-schemas.ts), and what the local summary checks
 * captured events against. The worker never parses its own audit events, so the handler does not
 * import this module: building these schemas would only lengthen its cold start.
 */

/** `schema` with a description for the published JSON Schema. */
const described = <S extends v.GenericSchema>(schema: S, description: string) =>
  v.pipe(schema, v.description(description));

const integer = () => v.pipe(v.number(), v.integer());

/** One association of a datashare, as Redshift returned it. */
export const AssociationSchema = v.object({
  consumerIdentifier: v.optional(v.string()),
  status: v.optional(v.string()),
  consumerRegion: v.optional(v.string()),
  createdDate: v.optional(v.string()),
  statusChangeDate: v.optional(v.string()),
});

const ConsumerSchema = v.union([
  v.object({ arn: v.string() }),
  v.object({ region: v.string() }),
  v.object({ entireAccount: v.literal(true) }),
]);

/** The `detail` of every audit event. One is published per eventId and terminal outcome. */
export const AuditDetailSchema = v.pipe(
  v.object({
    schemaVersion: v.literal(1),
    eventId: described(v.nullable(v.string()), 'null when the body was unparseable'),
    outcome: v.picklist([
      Outcome.Revoked,
      Outcome.AlreadyRevoked,
      Outcome.DryRun,
      Outcome.Rejected,
      Outcome.Failed,
      Outcome.Superseded,
    ]),
    dataShareArn: v.nullable(v.string()),
    consumer: v.nullable(ConsumerSchema),
    policyId: v.nullable(v.string()),
    reason: v.nullable(v.string()),
    correlationId: v.nullable(v.string()),
    issuedAt: v.nullable(v.string()),
    processedAt: v.string(),
    latencyMs: described(v.nullable(v.number()), 'processedAt − issuedAt'),
    attempts: described(integer(), 'Redshift calls made for this decision'),
    receiveCount: integer(),
    replayed: described(v.boolean(), 'the message was replayed from the DLQ by an operator'),
    dryRun: v.boolean(),
    error: v.optional(v.object({ code: v.string(), message: v.string() })),
    associations: v.optional(
      described(
        v.array(AssociationSchema),
        'the first associations that fit in the detail, in the order Redshift gave',
      ),
    ),
    associationsTruncated: v.optional(
      described(
        v.boolean(),
        'true when associations were left out to keep the detail under 20 KiB',
      ),
    ),
    associationsOmitted: v.optional(described(integer(), 'how many associations were left out')),
    satisfiedBy: v.optional(
      described(v.string(), 'the eventId whose Redshift call confirmed the revocation'),
    ),
    supersededBy: v.optional(
      described(
        v.object({ associationChangedAt: v.string(), status: v.string() }),
        "SUPERSEDED: the target was associated again after the decision was issued (plus CLOCK_SKEW_MARGIN_SECONDS); associationChangedAt is the earliest such change (the later of an association's CreatedDate and StatusChangeDate), status that association's",
      ),
    ),
    consumerAccountId: v.optional(
      described(
        v.nullable(v.string()),
        'the consumer account the decision acts in (null when REJECTED unparsed)',
      ),
    ),
    actor: v.optional(
      described(
        v.nullable(v.object({ accountId: v.string(), roleArn: v.nullable(v.string()) })),
        "who the Redshift call was made as: the consumer role assumed, or the function's own role (roleArn null when not configured); null when no call was made",
      ),
    ),
    redshiftRequestId: v.optional(
      described(
        v.nullable(v.string()),
        "Redshift's RequestId for the call's answer: the consumer account's CloudTrail records it as requestID",
      ),
    ),
    messageId: v.string(),
    bodySha256: v.optional(v.string()),
    worker: v.object({
      functionName: v.string(),
      functionVersion: v.string(),
      awsRequestId: v.string(),
    }),
    truncatedFields: v.optional(
      described(
        v.array(v.string()),
        'the text fields cut to their cap (each ends in "…"), e.g. "reason", "error.message"',
      ),
    ),
  }),
  v.title('Datashare Revocation Result'),
);
