import { z } from 'zod';
import { Outcome } from './outcome.js';

export const AUDIT_DETAIL_TYPE = 'Datashare Revocation Result';

/** One association of a datashare, as Redshift returned it. */
export const AssociationSchema = z.object({
  consumerIdentifier: z.string().optional(),
  status: z.string().optional(),
  consumerRegion: z.string().optional(),
  createdDate: z.string().optional(),
  statusChangeDate: z.string().optional(),
});
export type Association = z.infer<typeof AssociationSchema>;

const ConsumerSchema = z.union([
  z.object({ arn: z.string() }),
  z.object({ region: z.string() }),
  z.object({ entireAccount: z.literal(true) }),
]);

/** The `detail` of every audit event. One is published per eventId and terminal outcome. */
export const AuditDetailSchema = z
  .object({
    schemaVersion: z.literal(1),
    eventId: z.string().nullable().describe('null when the body was unparseable'),
    outcome: z.enum([
      Outcome.Revoked,
      Outcome.AlreadyRevoked,
      Outcome.DryRun,
      Outcome.Rejected,
      Outcome.Failed,
    ]),
    dataShareArn: z.string().nullable(),
    consumer: ConsumerSchema.nullable(),
    policyId: z.string().nullable(),
    reason: z.string().nullable(),
    correlationId: z.string().nullable(),
    issuedAt: z.string().nullable(),
    processedAt: z.string(),
    latencyMs: z.number().nullable().describe('processedAt − issuedAt'),
    attempts: z.number().int().describe('Redshift calls made for this decision'),
    receiveCount: z.number().int(),
    replayed: z.boolean().describe('the message was replayed from the DLQ by an operator'),
    dryRun: z.boolean(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    associations: z.array(AssociationSchema).optional(),
    associationsTruncated: z.boolean().optional(),
    satisfiedBy: z
      .string()
      .optional()
      .describe('the eventId whose Redshift call confirmed the revocation'),
    messageId: z.string(),
    bodySha256: z.string().optional(),
    worker: z.object({
      functionName: z.string(),
      functionVersion: z.string(),
      awsRequestId: z.string(),
    }),
  })
  .meta({ id: 'DatashareRevocationResult', title: 'Datashare Revocation Result' });

export type AuditDetail = z.infer<typeof AuditDetailSchema>;

/** EventBridge takes entries up to 256 KB; keep the detail well under it. */
export const MAX_AUDIT_DETAIL_BYTES = 200 * 1024;

/**
 * Serialises a detail, dropping the association list when it would make the entry too large: a
 * datashare with thousands of consumers must not make its own audit event unpublishable.
 */
export const serializeAuditDetail = (detail: AuditDetail): string => {
  const json = JSON.stringify(detail);
  if (Buffer.byteLength(json, 'utf8') <= MAX_AUDIT_DETAIL_BYTES || !detail.associations)
    return json;
  const { associations: _dropped, ...rest } = detail;
  return JSON.stringify({ ...rest, associationsTruncated: true });
};
