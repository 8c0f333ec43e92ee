import type { RedshiftApiError } from './errors.js';
import type { DataShareAssociationState, DataShareState } from './types.js';

/** The namespace of every Redshift awsQuery response (API version 2012-12-01). */
export const REDSHIFT_XML_NAMESPACE = 'http://redshift.amazonaws.com/doc/2012-12-01/';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

export const escapeXml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

/** `<name>value</name>`, or nothing when the value is absent (AWS omits unset members). */
export const element = (name: string, value: string | number | boolean | Date | undefined) => {
  if (value === undefined) return '';
  const text = value instanceof Date ? value.toISOString() : escapeXml(String(value));
  return `<${name}>${text}</${name}>`;
};

/** A non-flattened awsQuery list: `<name><member>..</member>...</name>` (`<name/>` when empty). */
export const memberList = (name: string, members: readonly string[]): string =>
  members.length === 0
    ? `<${name}/>`
    : `<${name}>${members.map((m) => `<member>${m}</member>`).join('')}</${name}>`;

const associationXml = (a: DataShareAssociationState): string =>
  element('ConsumerIdentifier', a.consumerIdentifier) +
  element('Status', a.status) +
  element('ConsumerRegion', a.consumerRegion) +
  element('CreatedDate', a.createdDate) +
  element('StatusChangeDate', a.statusChangeDate) +
  element('ProducerAllowedWrites', a.producerAllowedWrites) +
  element('ConsumerAcceptedWrites', a.consumerAcceptedWrites);

/** The members of a `DataShare` shape, in the SDK model's order. */
export const dataShareXml = (share: DataShareState): string =>
  element('DataShareArn', share.dataShareArn) +
  element('ProducerArn', share.producerArn) +
  element('AllowPubliclyAccessibleConsumers', share.allowPubliclyAccessibleConsumers) +
  memberList('DataShareAssociations', share.associations.map(associationXml)) +
  element('ManagedBy', share.managedBy) +
  element('DataShareType', share.dataShareType);

/** `<XResponse><XResult>..</XResult><ResponseMetadata>..</ResponseMetadata></XResponse>`. */
export const successXml = (action: string, result: string, requestId: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n` +
  `<${action}Response xmlns="${REDSHIFT_XML_NAMESPACE}">` +
  `<${action}Result>${result}</${action}Result>` +
  `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>` +
  `</${action}Response>`;

/** `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`. */
export const errorXml = (error: RedshiftApiError, requestId: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n` +
  `<ErrorResponse xmlns="${REDSHIFT_XML_NAMESPACE}">` +
  `<Error>${element('Type', error.type)}${element('Code', error.code)}${element('Message', error.message)}</Error>` +
  `<RequestId>${requestId}</RequestId>` +
  `</ErrorResponse>`;
