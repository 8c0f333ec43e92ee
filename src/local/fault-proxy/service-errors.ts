import { escapeXml } from '../aws-query.js';

/** The services a fault proxy can stand in front of. */
export const PROXIED_SERVICES = ['dynamodb', 'sqs'] as const;
export type ProxiedService = (typeof PROXIED_SERVICES)[number];

/** The error answers a proxy can inject: the service's throttle, 500 and 503. */
export type AnsweredFaultKind = 'throttle' | 'error' | 'unavailable';

/** One error as the service answers it. */
export interface ServiceError {
  code: string;
  message: string;
  httpStatus: number;
}

interface ServiceErrorProfile {
  /** The `__type` namespace of awsJson error bodies. */
  namespace: string;
  /**
   * SQS is `awsQueryCompatible`: it also names the error in `x-amzn-query-error: <Code>;<Type>`,
   * and the SDK takes the error's name from that header before `__type`.
   */
  queryCompatible: boolean;
  errors: Record<AnsweredFaultKind, ServiceError>;
}

/**
 * What each service answers, in the shapes `@aws-sdk/client-dynamodb` and `@aws-sdk/client-sqs`
 * deserialize (both awsJson1_0, checked against their error registries in node_modules):
 * - DynamoDB: `ThrottlingException` (HTTP 400, a modelled error, in the SDK's throttling list);
 *   `InternalServerError` (500, modelled, `$fault: 'server'`); `ServiceUnavailable` (503, listed
 *   in the DynamoDB developer guide's 5xx errors, unmodelled: the SDK builds a base exception).
 * - SQS: `RequestThrottled` with the status the SQS model gives it (`httpError: 403`, query code
 *   `RequestThrottled`), in the SDK's throttling list; `InternalError` (500) and
 *   `ServiceUnavailable` (503), the query API's common server errors.
 */
const PROFILES: Record<ProxiedService, ServiceErrorProfile> = {
  dynamodb: {
    namespace: 'com.amazonaws.dynamodb.v20120810',
    queryCompatible: false,
    errors: {
      throttle: {
        code: 'ThrottlingException',
        message: 'Rate of requests exceeds the allowed throughput.',
        httpStatus: 400,
      },
      error: { code: 'InternalServerError', message: 'Internal server error', httpStatus: 500 },
      unavailable: {
        code: 'ServiceUnavailable',
        message: 'The service is currently unavailable or busy.',
        httpStatus: 503,
      },
    },
  },
  sqs: {
    namespace: 'com.amazonaws.sqs',
    queryCompatible: true,
    errors: {
      throttle: {
        code: 'RequestThrottled',
        message: 'Request is throttled.',
        httpStatus: 403,
      },
      error: {
        code: 'InternalError',
        message: 'We encountered an internal error. Please try again.',
        httpStatus: 500,
      },
      unavailable: {
        code: 'ServiceUnavailable',
        message: 'The request has failed due to a temporary failure of the server.',
        httpStatus: 503,
      },
    },
  },
};

/** The service's own answer for an injected fault, with the overrides a targeted fault gives. */
export const serviceError = (
  service: ProxiedService,
  kind: AnsweredFaultKind,
  overrides: Partial<ServiceError> = {},
): ServiceError => ({ ...PROFILES[service].errors[kind], ...overrides });

/** A rendered error answer: status, headers and body. */
export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Renders an error in the protocol of the request: awsJson (`{"__type", "message"}`, plus
 * `x-amzn-query-error` for SQS) or, for a form-encoded awsQuery request, the XML `ErrorResponse`.
 */
export const renderError = (
  service: ProxiedService,
  protocol: 'json' | 'query',
  error: ServiceError,
  requestId: string,
): ErrorAnswer => {
  const type = error.httpStatus >= 500 ? 'Receiver' : 'Sender';
  if (protocol === 'query') {
    return {
      status: error.httpStatus,
      headers: { 'content-type': 'text/xml' },
      body:
        `<ErrorResponse><Error><Type>${type}</Type><Code>${escapeXml(error.code)}</Code>` +
        `<Message>${escapeXml(error.message)}</Message></Error>` +
        `<RequestId>${requestId}</RequestId></ErrorResponse>`,
    };
  }
  const profile = PROFILES[service];
  return {
    status: error.httpStatus,
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      ...(profile.queryCompatible ? { 'x-amzn-query-error': `${error.code};${type}` } : {}),
    },
    body: JSON.stringify({ __type: `${profile.namespace}#${error.code}`, message: error.message }),
  };
};
