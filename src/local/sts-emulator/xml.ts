import { element, queryErrorXml, querySuccessXml } from '../aws-query.js';
import type { StsApiError } from './errors.js';
import { STS_XML_NAMESPACE } from './types.js';

export { element };

/** `<XResponse><XResult>..</XResult><ResponseMetadata>..</ResponseMetadata></XResponse>`. */
export const successXml = (action: string, result: string, requestId: string): string =>
  querySuccessXml(STS_XML_NAMESPACE, action, result, requestId);

/** `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`. */
export const errorXml = (error: StsApiError, requestId: string): string =>
  queryErrorXml(STS_XML_NAMESPACE, error, requestId);
