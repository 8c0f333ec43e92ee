import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EmulatedApiError } from '../api-error.js';
import { readBody, sendText } from '../http.js';
import { FilterPatternError, parseFilterPattern } from './filter-pattern.js';
import type { LogStore, StoredLogEvent } from './log-store.js';

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'Logs_20140328.';
/** AWS: a page holds at most 10,000 events or 1 MB of them. */
export const MAX_PAGE_EVENTS = 10_000;
export const MAX_PAGE_BYTES = 1_048_576;

/** An awsJson1_1 error: `{"__type": code, "message": ...}`. */
class LogsApiError extends EmulatedApiError {
  override readonly name = 'LogsApiError';
}

export interface LogsHandlerDependencies {
  store: LogStore;
  /** The emulator's own page cap (≤ 10,000), to exercise pagination with few events. */
  maxPageEvents: () => number;
  faults: { failNextCalls: number };
  onCall: (operation: string, outcome: string) => void;
}

interface FilterRequest {
  logGroupName?: unknown;
  logGroupIdentifier?: unknown;
  logStreamNames?: unknown;
  startTime?: unknown;
  endTime?: unknown;
  filterPattern?: unknown;
  nextToken?: unknown;
  limit?: unknown;
}

const invalid = (message: string) => new LogsApiError('InvalidParameterException', message);

const optionalInteger = (name: string, value: unknown, min: number, max: number) => {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(
      `${name}: expected an integer from ${min} to ${max}, given ${JSON.stringify(value)}`,
    );
  }
  return value;
};

/** The position after an event: its (timestamp, seq), opaque to the client. */
const tokenOf = (event: StoredLogEvent): string =>
  Buffer.from(JSON.stringify([event.timestamp, event.seq])).toString('base64url');

const afterToken = (token: unknown): ((e: StoredLogEvent) => boolean) => {
  if (token === undefined || token === null) return () => true;
  try {
    const [timestamp, seq] = JSON.parse(Buffer.from(String(token), 'base64url').toString()) as [
      number,
      number,
    ];
    if (typeof timestamp !== 'number' || typeof seq !== 'number') throw new Error('shape');
    return (e) => e.timestamp > timestamp || (e.timestamp === timestamp && e.seq > seq);
  } catch {
    throw invalid(`nextToken: not a token this service issued: ${JSON.stringify(token)}`);
  }
};

const filterLogEvents = (request: FilterRequest, deps: LogsHandlerDependencies) => {
  const group = request.logGroupName ?? request.logGroupIdentifier;
  if (typeof group !== 'string' || group === '') {
    throw invalid('logGroupName or logGroupIdentifier: expected a log group name');
  }
  // A log group ARN as identifier names the group after `log-group:`.
  const name = group.startsWith('arn:') ? (group.split(':log-group:')[1] ?? group) : group;
  if (!deps.store.has(name)) {
    throw new LogsApiError('ResourceNotFoundException', 'The specified log group does not exist.');
  }
  const start = optionalInteger('startTime', request.startTime, 0, Number.MAX_SAFE_INTEGER) ?? 0;
  const end =
    optionalInteger('endTime', request.endTime, 0, Number.MAX_SAFE_INTEGER) ??
    Number.MAX_SAFE_INTEGER;
  const limit = optionalInteger('limit', request.limit, 1, MAX_PAGE_EVENTS) ?? MAX_PAGE_EVENTS;
  const streams = Array.isArray(request.logStreamNames)
    ? new Set(request.logStreamNames.map(String))
    : undefined;
  let matches: (message: string) => boolean;
  try {
    matches = parseFilterPattern(
      typeof request.filterPattern === 'string' ? request.filterPattern : undefined,
    );
  } catch (error) {
    if (error instanceof FilterPatternError) throw invalid(error.message);
    throw error;
  }
  const after = afterToken(request.nextToken);
  const pageEvents = Math.min(limit, deps.maxPageEvents());
  const page: StoredLogEvent[] = [];
  let bytes = 0;
  let more = false;
  // Events are sorted by (timestamp, seq): the page is the next matching ones in that order.
  for (const event of deps.store.events(name)) {
    if (event.timestamp < start || event.timestamp > end || !after(event)) continue;
    if (streams && !streams.has(event.logStreamName)) continue;
    if (!matches(event.message)) continue;
    const size = Buffer.byteLength(event.message) + 26;
    if (page.length >= pageEvents || bytes + size > MAX_PAGE_BYTES) {
      more = true;
      break;
    }
    page.push(event);
    bytes += size;
  }
  const last = page.at(-1);
  return {
    events: page.map(({ seq: _seq, ...event }) => event),
    searchedLogStreams: [],
    ...(more && last ? { nextToken: tokenOf(last) } : {}),
  };
};

/** The log groups, as `DescribeLogGroups` lists them (no pagination: few groups here). */
const describeLogGroups = (request: { logGroupNamePrefix?: unknown }, store: LogStore) => ({
  logGroups: store.groupNames
    .filter(
      (name) =>
        typeof request.logGroupNamePrefix !== 'string' ||
        name.startsWith(request.logGroupNamePrefix),
    )
    .map((logGroupName) => ({ logGroupName, storedBytes: 0 })),
});

/**
 * Serves CloudWatch Logs' awsJson1_1 API (`X-Amz-Target: Logs_20140328.<Operation>`):
 * `FilterLogEvents` (time range, stream names, the JSON filter pattern subset, `limit`,
 * `nextToken` pagination) and `DescribeLogGroups`.
 */
export const createLogsHandler =
  (deps: LogsHandlerDependencies) =>
  async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(TARGET_PREFIX)
      ? target.slice(TARGET_PREFIX.length)
      : target;
    const text = (await readBody(request)).toString('utf8');
    const answer = (status: number, value: unknown) =>
      sendText(response, status, CONTENT_TYPE, JSON.stringify(value), requestId);
    try {
      if (deps.faults.failNextCalls > 0) {
        deps.faults.failNextCalls -= 1;
        deps.onCall(operation, 'injected');
        throw new LogsApiError('ThrottlingException', 'Rate exceeded');
      }
      let body: Record<string, unknown>;
      try {
        body = (text.trim() === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
      } catch {
        throw new LogsApiError('SerializationException', 'Request body is not valid JSON.');
      }
      let result: unknown;
      if (operation === 'FilterLogEvents') result = filterLogEvents(body, deps);
      else if (operation === 'DescribeLogGroups') result = describeLogGroups(body, deps.store);
      else {
        throw new LogsApiError(
          'UnknownOperationException',
          `The emulator serves FilterLogEvents and DescribeLogGroups, not ${operation || '(none)'}`,
        );
      }
      deps.onCall(operation, 'ok');
      answer(200, result);
    } catch (error) {
      if (!(error instanceof LogsApiError)) throw error;
      if (error.code !== 'ThrottlingException') deps.onCall(operation, 'rejected');
      answer(error.httpStatus, { __type: error.code, message: error.message });
    }
  };
