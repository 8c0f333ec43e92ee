import * as v from 'valibot';

/**
 * The valibot schemas of the operator events on the audit bus (`Datashare Revoker Breaker Opened`,
 * `Paused`, `Resumed`; built in switch-events.ts): the source of their published JSON Schemas
 * (json-schemas.ts). Like audit-schema.ts, the handler does not import this module.
 */

const isoTime = v.pipe(v.string(), v.description('ISO 8601 UTC timestamp'));

/** The breaker's state when it opened (also what `Resumed` reports it closed). */
const OpeningSchema = v.strictObject({
  openedAt: isoTime,
  revocationsInWindow: v.number(),
  firstRevocationAt: v.nullable(isoTime),
  maxRevocations: v.number(),
  windowSeconds: v.number(),
  trippedBy: v.pipe(
    v.object({
      eventId: v.string(),
      policyId: v.string(),
      dataShareArn: v.string(),
      target: v.string(),
      messageId: v.string(),
    }),
    v.description('the decision whose call would have been one too many (not made)'),
  ),
});

/** `detail` of `Datashare Revoker Breaker Opened`. */
export const BreakerOpenedDetailSchema = v.strictObject({
  schemaVersion: v.literal(1),
  ...OpeningSchema.entries,
  worker: v.strictObject({ functionName: v.string(), awsRequestId: v.string() }),
});

/** `detail` of `Datashare Revoker Paused` and `Datashare Revoker Resumed`. */
export const SwitchDetailSchema = v.strictObject({
  schemaVersion: v.literal(1),
  at: isoTime,
  caller: v.pipe(
    v.object({ arn: v.string(), account: v.nullable(v.string()), userId: v.nullable(v.string()) }),
    v.description("sts:GetCallerIdentity's answer for whoever ran the command"),
  ),
  reason: v.nullable(v.string()),
  functionName: v.string(),
  queueArn: v.string(),
  mappings: v.array(v.strictObject({ uuid: v.string(), state: v.string(), changed: v.boolean() })),
  breakerClosed: v.optional(
    v.pipe(
      v.nullable(OpeningSchema),
      v.description('Resumed only: the open breaker it closed; null when none was open'),
    ),
  ),
});
