import { element } from '../redshift-emulator/xml.js';
import type { StsApiError } from './errors.js';
import { STS_XML_NAMESPACE } from './types.js';

export { element };

/** `<XResponse><XResult>..</XResult><ResponseMetadata>..</ResponseMetadata></XResponse>`. */
export const successXml = (action: string, result: string, requestId: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n` +
  `<${action}Response xmlns="${STS_XML_NAMESPACE}">` +
  `<${action}Result>${result}</${action}Result>` +
  `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>` +
  `</${action}Response>`;

/** `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`. */
export const errorXml = (error: StsApiError, requestId: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n` +
  `<ErrorResponse xmlns="${STS_XML_NAMESPACE}">` +
  `<Error>${element('Type', error.type)}${element('Code', error.code)}${element('Message', error.message)}</Error>` +
  `<RequestId>${requestId}</RequestId>` +
  `</ErrorResponse>`;
