import { element, memberList, queryErrorXml, querySuccessXml } from '../aws-query.js';
import type { RedshiftApiError } from './errors.js';
import type { DataShareAssociationState, DataShareState } from './types.js';

export { element, escapeXml, memberList } from '../aws-query.js';

/** The namespace of every Redshift awsQuery response (API version 2012-12-01). */
export const REDSHIFT_XML_NAMESPACE = 'http://redshift.amazonaws.com/doc/2012-12-01/';

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
  querySuccessXml(REDSHIFT_XML_NAMESPACE, action, result, requestId);

/** `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`. */
export const errorXml = (error: RedshiftApiError, requestId: string): string =>
  queryErrorXml(REDSHIFT_XML_NAMESPACE, error, requestId);
