import type { z } from 'zod/mini';
import type { AssociationSchema, AuditDetailSchema } from './audit-schema.js';

export const AUDIT_DETAIL_TYPE = 'Datashare Revocation Result';

// Types only: the schemas live in audit-schema.ts, which the handler does not import (a type
// import costs nothing at run time).

/** One association of a datashare, as Redshift returned it. */
export type Association = z.infer<typeof AssociationSchema>;

/** The `detail` of every audit event. One is published per eventId and terminal outcome. */
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
