import * as z from 'zod/mini';

/**
 * The zod schemas of the operator events on the audit bus (`Datashare Revoker Breaker Opened`,
 * `Paused`, `Resumed`; built in switch-events.ts): the source of their published JSON Schemas
 * (json-schemas.ts). Like audit-schema.ts, the handler does not import this module.
 */

const isoTime = z.string().check(z.describe('ISO 8601 UTC timestamp'));

/** The breaker's state when it opened (also what `Resumed` reports it closed). */
const OpeningSchema = z.strictObject({
  openedAt: isoTime,
  revocationsInWindow: z.number(),
  firstRevocationAt: z.nullable(isoTime),
  maxRevocations: z.number(),
  windowSeconds: z.number(),
  trippedBy: z
    .object({
      eventId: z.string(),
      policyId: z.string(),
      dataShareArn: z.string(),
      target: z.string(),
      messageId: z.string(),
    })
    .check(z.describe('the decision whose call would have been one too many (not made)')),
});

/** `detail` of `Datashare Revoker Breaker Opened`. */
export const BreakerOpenedDetailSchema = z.strictObject({
  schemaVersion: z.literal(1),
  ...OpeningSchema.shape,
  worker: z.strictObject({ functionName: z.string(), awsRequestId: z.string() }),
});

/** `detail` of `Datashare Revoker Paused` and `Datashare Revoker Resumed`. */
export const SwitchDetailSchema = z.strictObject({
  schemaVersion: z.literal(1),
  at: isoTime,
  caller: z
    .object({ arn: z.string(), account: z.nullable(z.string()), userId: z.nullable(z.string()) })
    .check(z.describe("sts:GetCallerIdentity's answer for whoever ran the command")),
  reason: z.nullable(z.string()),
  functionName: z.string(),
  queueArn: z.string(),
  mappings: z.array(z.strictObject({ uuid: z.string(), state: z.string(), changed: z.boolean() })),
  breakerClosed: z.optional(
    z
      .nullable(OpeningSchema)
      .check(z.describe('Resumed only: the open breaker it closed; null when none was open')),
  ),
});
