/**
 * The awsQuery wire format shared by the emulators of query-protocol services (Redshift, STS,
 * CloudFormation): XML escaping, elements and lists, and the success and error envelopes the
 * SDK deserializes. Request parsing lives in `redshift-emulator/query-params.ts`.
 */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Escapes the five XML special characters. */
export const escapeXml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

/** `<name>value</name>`, or nothing when the value is absent (AWS omits unset members). */
export const element = (
  name: string,
  value: string | number | boolean | Date | undefined,
): string => {
  if (value === undefined) return '';
  const text = value instanceof Date ? value.toISOString() : escapeXml(String(value));
  return `<${name}>${text}</${name}>`;
};

/** A non-flattened awsQuery list: `<name><member>..</member>...</name>` (`<name/>` when empty). */
export const memberList = (name: string, members: readonly string[]): string =>
  members.length === 0
    ? `<${name}/>`
    : `<${name}>${members.map((m) => `<member>${m}</member>`).join('')}</${name}>`;

/** `<XResponse><XResult>..</XResult><ResponseMetadata>..</ResponseMetadata></XResponse>`. */
export const querySuccessXml = (
  namespace: string,
  action: string,
  result: string,
  requestId: string,
): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n` +
  `<${action}Response xmlns="${namespace}">` +
  `<${action}Result>${result}</${action}Result>` +
  `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>` +
  `</${action}Response>`;

/** What an awsQuery error carries on the wire. */
export interface QueryErrorShape {
  /** `Sender` (the caller's fault) or `Receiver`. */
  type: string;
  code: string;
  message: string;
}

/** `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`. */
export const queryErrorXml = (
  namespace: string,
  error: QueryErrorShape,
  requestId: string,
): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n` +
  `<ErrorResponse xmlns="${namespace}">` +
  `<Error>${element('Type', error.type)}${element('Code', error.code)}${element('Message', error.message)}</Error>` +
  `<RequestId>${requestId}</RequestId>` +
  `</ErrorResponse>`;
