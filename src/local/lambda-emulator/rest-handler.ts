import type { IncomingMessage, ServerResponse } from 'node:http';
import { pause, readBody, resetConnection, sendText } from '../http.js';
import { type LambdaFaults, takeFault } from './faults.js';
import type { LambdaOperation, RecordedLambdaCall } from './types.js';

// Lambda's REST-JSON protocol (API version 2015-03-31), for the three event source mapping calls:
//   GET /2015-03-31/event-source-mappings?FunctionName=&EventSourceArn=&Marker=&MaxItems=
//   GET /2015-03-31/event-source-mappings/{UUID}
//   PUT /2015-03-31/event-source-mappings/{UUID}   (JSON body, answered 202)
// Errors carry `x-amzn-errortype` and a `{"Type","Message"}` body, which the SDK maps to its
// modeled exceptions (`ResourceNotFoundException`, ...).

const BASE = '/2015-03-31/event-source-mappings';

/** An error answer: HTTP status, Lambda's error type, and the `Type` field (User/Service). */
export class LambdaApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
    readonly side: 'User' | 'Service' = 'User',
  ) {
    super(message);
    this.name = 'LambdaApiError';
  }
}

/** What the handler asks of the mappings. */
export interface MappingOperations {
  list(query: {
    functionName?: string;
    eventSourceArn?: string;
    marker?: string;
    maxItems?: number;
  }): unknown;
  get(uuid: string): unknown;
  update(uuid: string, body: Record<string, unknown>): unknown;
}

const sendJson = (response: ServerResponse, status: number, value: unknown): void =>
  sendText(response, status, 'application/json', JSON.stringify(value));

const sendError = (response: ServerResponse, error: LambdaApiError): void => {
  response.setHeader('x-amzn-errortype', error.errorType);
  sendText(
    response,
    error.status,
    'application/json',
    JSON.stringify({ Type: error.side, Message: error.message, message: error.message }),
  );
};

const route = (
  method: string,
  path: string,
): { operation: LambdaOperation; uuid?: string } | undefined => {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  if (trimmed === BASE && method === 'GET') return { operation: 'ListEventSourceMappings' };
  if (!trimmed.startsWith(`${BASE}/`)) return undefined;
  const uuid = decodeURIComponent(trimmed.slice(BASE.length + 1));
  if (uuid.length === 0 || uuid.includes('/')) return undefined;
  if (method === 'GET') return { operation: 'GetEventSourceMapping', uuid };
  if (method === 'PUT') return { operation: 'UpdateEventSourceMapping', uuid };
  return undefined;
};

const FAULT_ANSWERS = {
  throttle: new LambdaApiError(429, 'TooManyRequestsException', 'Rate exceeded'),
  error: new LambdaApiError(500, 'ServiceException', 'An internal error occurred', 'Service'),
} as const;

/**
 * The request handler: routes, injects faults, records every call, answers.
 */
export const createLambdaRestHandler =
  (deps: {
    mappings: MappingOperations;
    faults: () => LambdaFaults;
    record: (call: RecordedLambdaCall) => void;
  }) =>
  async (
    request: IncomingMessage,
    response: ServerResponse,
    signal: AbortSignal,
  ): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://lambda.local');
    const text = (await readBody(request)).toString('utf8');
    const matched = route(request.method ?? 'GET', url.pathname);
    const input: Record<string, unknown> = Object.fromEntries(url.searchParams);
    const at = Date.now();
    if (!matched) {
      const error = new LambdaApiError(
        404,
        'UnknownOperationException',
        `The Lambda emulator answers ListEventSourceMappings, GetEventSourceMapping and UpdateEventSourceMapping only; given ${request.method} ${url.pathname}`,
      );
      deps.record({ operation: 'Unknown', input, status: 404, errorType: error.errorType, at });
      return sendError(response, error);
    }
    const { operation, uuid } = matched;
    const faults = deps.faults();
    if (faults.latencyMs > 0) await pause(faults.latencyMs, signal);
    const fault = takeFault(faults, operation);
    const recordAs = (status: number | 'reset', errorType?: string) =>
      deps.record({
        operation,
        ...(uuid !== undefined && { uuid }),
        input,
        status,
        ...(errorType !== undefined && { errorType }),
        at,
      });
    if (fault?.kind === 'reset') {
      recordAs('reset');
      return resetConnection(request);
    }
    if (fault?.kind === 'throttle' || fault?.kind === 'error') {
      const answer = FAULT_ANSWERS[fault.kind];
      recordAs(answer.status, answer.errorType);
      return sendError(response, answer);
    }
    try {
      let status = 200;
      let result: unknown;
      if (operation === 'ListEventSourceMappings') {
        const maxItems = url.searchParams.get('MaxItems');
        result = deps.mappings.list({
          ...(url.searchParams.has('FunctionName') && {
            functionName: url.searchParams.get('FunctionName') ?? '',
          }),
          ...(url.searchParams.has('EventSourceArn') && {
            eventSourceArn: url.searchParams.get('EventSourceArn') ?? '',
          }),
          ...(url.searchParams.has('Marker') && { marker: url.searchParams.get('Marker') ?? '' }),
          ...(maxItems !== null && { maxItems: Number(maxItems) }),
        });
      } else if (operation === 'GetEventSourceMapping') {
        result = deps.mappings.get(uuid ?? '');
      } else {
        let body: Record<string, unknown>;
        try {
          body = text.trim() === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
        } catch {
          throw new LambdaApiError(400, 'InvalidParameterValueException', 'The body is not JSON');
        }
        Object.assign(input, body);
        result = deps.mappings.update(uuid ?? '', body);
        status = 202;
      }
      if (fault?.kind === 'lostAnswer') {
        recordAs('reset');
        return resetConnection(request);
      }
      recordAs(status);
      sendJson(response, status, result);
    } catch (error) {
      if (!(error instanceof LambdaApiError)) throw error;
      recordAs(error.status, error.errorType);
      sendError(response, error);
    }
  };
