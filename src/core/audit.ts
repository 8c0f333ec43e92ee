import type * as v from 'valibot';
import type { AssociationSchema, AuditDetailSchema } from './audit-schema.js';
import { truncateJsonText } from './text.js';

export const AUDIT_DETAIL_TYPE = 'Datashare Revocation Result';

// Types only: the schemas live in audit-schema.ts, which the handler does not import (a type
// import costs nothing at run time).

/** One association of a datashare, as Redshift returned it. */
export type Association = v.InferOutput<typeof AssociationSchema>;

/** The `detail` of every audit event. One is published per eventId and terminal outcome. */
export type AuditDetail = v.InferOutput<typeof AuditDetailSchema>;

/**
 * The largest serialised detail, in UTF-8 bytes. Ten details this size, with their `Source`,
 * `DetailType` and two resource ARNs, still fit in one `PutEvents` request (< 256 KB in all,
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html): a full batch
 * is audited in one call, and one decision's long association list cannot take its neighbours'
 * audit events down with it. Room for about a hundred associations.
 */
export const MAX_AUDIT_DETAIL_BYTES = 20 * 1024;

/**
 * The most each text field takes in the serialised detail (its JSON-escaped UTF-8 bytes, so the
 * bound holds whatever the text holds). Identifiers the request schema bounds to 256 characters
 * get room for any valid value even fully escaped; a cut field ends in `…` and is listed in
 * `truncatedFields`. Together they leave at least 4 KiB of `MAX_AUDIT_DETAIL_BYTES` to the
 * associations.
 */
export const AUDIT_TEXT_CAPS = {
  identifier: 1536,
  arn: 1024,
  reason: 3072,
  errorCode: 256,
  errorMessage: 2048,
  /** Timestamps, messageId, bodySha256, the worker's names, each association's fields. */
  short: 256,
} as const;

const caps = AUDIT_TEXT_CAPS;

/** Caps text fields, noting the path of each one it cut. */
class TextCapper {
  readonly cut = new Set<string>();

  text(value: string, maxBytes: number, path: string): string {
    const result = truncateJsonText(value, maxBytes);
    if (result.cut) this.cut.add(path);
    return result.text;
  }

  nullable(value: string | null, maxBytes: number, path: string): string | null {
    return value === null ? null : this.text(value, maxBytes, path);
  }

  optional(value: string | undefined, maxBytes: number, path: string): string | undefined {
    return value === undefined ? undefined : this.text(value, maxBytes, path);
  }
}

const withoutUndefined = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;

const capConsumer = (
  consumer: AuditDetail['consumer'],
  capper: TextCapper,
): AuditDetail['consumer'] => {
  if (consumer === null || 'entireAccount' in consumer) return consumer;
  if ('arn' in consumer) return { arn: capper.text(consumer.arn, caps.arn, 'consumer.arn') };
  return { region: capper.text(consumer.region, caps.arn, 'consumer.region') };
};

const capAssociation = (association: Association, capper: TextCapper): Association =>
  withoutUndefined({
    consumerIdentifier: capper.optional(association.consumerIdentifier, caps.short, 'associations'),
    status: capper.optional(association.status, caps.short, 'associations'),
    consumerRegion: capper.optional(association.consumerRegion, caps.short, 'associations'),
    createdDate: capper.optional(association.createdDate, caps.short, 'associations'),
    statusChangeDate: capper.optional(association.statusChangeDate, caps.short, 'associations'),
  });

/**
 * The detail with every text field capped (`AUDIT_TEXT_CAPS`) and `truncatedFields` listing the
 * ones that were cut. Key order is kept.
 */
export const capAuditText = (detail: AuditDetail): AuditDetail => {
  const capper = new TextCapper();
  const capped: AuditDetail = {
    ...detail,
    eventId: capper.nullable(detail.eventId, caps.identifier, 'eventId'),
    dataShareArn: capper.nullable(detail.dataShareArn, caps.arn, 'dataShareArn'),
    consumer: capConsumer(detail.consumer, capper),
    policyId: capper.nullable(detail.policyId, caps.identifier, 'policyId'),
    reason: capper.nullable(detail.reason, caps.reason, 'reason'),
    correlationId: capper.nullable(detail.correlationId, caps.identifier, 'correlationId'),
    issuedAt: capper.nullable(detail.issuedAt, caps.short, 'issuedAt'),
    processedAt: capper.text(detail.processedAt, caps.short, 'processedAt'),
    messageId: capper.text(detail.messageId, caps.short, 'messageId'),
    worker: {
      functionName: capper.text(detail.worker.functionName, caps.short, 'worker.functionName'),
      functionVersion: capper.text(
        detail.worker.functionVersion,
        caps.short,
        'worker.functionVersion',
      ),
      awsRequestId: capper.text(detail.worker.awsRequestId, caps.short, 'worker.awsRequestId'),
    },
  };
  if (detail.error)
    capped.error = {
      code: capper.text(detail.error.code, caps.errorCode, 'error.code'),
      message: capper.text(detail.error.message, caps.errorMessage, 'error.message'),
    };
  if (detail.actor)
    capped.actor = {
      accountId: capper.text(detail.actor.accountId, caps.short, 'actor.accountId'),
      roleArn: capper.nullable(detail.actor.roleArn, caps.arn, 'actor.roleArn'),
    };
  if (typeof detail.consumerAccountId === 'string')
    capped.consumerAccountId = capper.text(
      detail.consumerAccountId,
      caps.short,
      'consumerAccountId',
    );
  if (typeof detail.redshiftRequestId === 'string')
    capped.redshiftRequestId = capper.text(
      detail.redshiftRequestId,
      caps.short,
      'redshiftRequestId',
    );
  if (detail.satisfiedBy !== undefined)
    capped.satisfiedBy = capper.text(detail.satisfiedBy, caps.identifier, 'satisfiedBy');
  if (detail.supersededBy !== undefined)
    capped.supersededBy = {
      associationChangedAt: capper.text(
        detail.supersededBy.associationChangedAt,
        caps.short,
        'supersededBy.associationChangedAt',
      ),
      status: capper.text(detail.supersededBy.status, caps.short, 'supersededBy.status'),
    };
  if (detail.bodySha256 !== undefined)
    capped.bodySha256 = capper.text(detail.bodySha256, caps.short, 'bodySha256');
  if (detail.associations)
    capped.associations = detail.associations.map((a) => capAssociation(a, capper));
  if (capper.cut.size > 0) capped.truncatedFields = [...capper.cut];
  return capped;
};

const bytes = (json: string): number => Buffer.byteLength(json, 'utf8');

/**
 * Serialises a detail to at most `MAX_AUDIT_DETAIL_BYTES`: text fields are capped
 * (`capAuditText`), then the association list keeps as many of its first entries as fit, with
 * `associationsOmitted` counting the rest and `associationsTruncated: true`. A datashare with
 * thousands of consumers, or a rejected body with thousands of problems, still makes a
 * publishable audit event.
 */
export const serializeAuditDetail = (detail: AuditDetail): string => {
  const capped = capAuditText(detail);
  const json = JSON.stringify(capped);
  const associations = capped.associations ?? [];
  if (bytes(json) <= MAX_AUDIT_DETAIL_BYTES || associations.length === 0) return json;
  // Reserve room for the largest count the omitted field can show; fill the rest in order.
  let room =
    MAX_AUDIT_DETAIL_BYTES -
    bytes(
      JSON.stringify({
        ...capped,
        associations: [],
        associationsTruncated: true,
        associationsOmitted: associations.length,
      }),
    );
  let kept = 0;
  for (const association of associations) {
    const size = bytes(JSON.stringify(association)) + (kept > 0 ? 1 : 0); // the comma
    if (size > room) break;
    room -= size;
    kept += 1;
  }
  return JSON.stringify({
    ...capped,
    associations: associations.slice(0, kept),
    associationsTruncated: true,
    associationsOmitted: associations.length - kept,
  });
};
