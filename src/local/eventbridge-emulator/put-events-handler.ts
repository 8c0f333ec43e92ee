import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pause, readBody, resetConnection, sendText } from '../http.js';
import { AnswerWatch } from './answer-watch.js';
import { isRejection, validateEntry } from './entry-validation.js';
import type { EventLog } from './event-log.js';
import type { CallFaultKind, EventBridgeFaultPlan } from './faults.js';
import {
  type AcceptedEvent,
  EventBridgeApiError,
  type ResultEntry,
  type WireEntry,
} from './types.js';

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const PUT_EVENTS_TARGET = 'AWSEvents.PutEvents';
export const MAX_ENTRIES = 10;

export interface PutEventsLimits {
  maxEntryBytes: number;
  /** The cap on the summed entry sizes of one call. */
  maxRequestBytes: number;
}

export interface PutEventsDependencies {
  log: EventLog;
  faults: EventBridgeFaultPlan;
  limits: PutEventsLimits;
  /** Whether a bus exists; AWS answers success for an unknown bus and drops the event. */
  busExists: (name: string) => boolean;
  /** `reject` answers `ResourceNotFoundException` per entry instead (stricter than AWS). */
  unknownEventBus: 'accept' | 'reject';
}

const INJECTED_CALL_ERRORS = {
  throttle: new EventBridgeApiError('ThrottlingException', 'Rate exceeded.', 400),
  error: new EventBridgeApiError('InternalException', 'Internal service error.', 500),
} as const;

const injectedCode = (kind: CallFaultKind): string =>
  kind === 'hang' || kind === 'reset' ? kind : INJECTED_CALL_ERRORS[kind].code;

const readEntries = (text: string): WireEntry[] => {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new EventBridgeApiError('SerializationException', 'Request body is not valid JSON.');
  }
  const entries = (body as { Entries?: unknown } | null)?.Entries;
  if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_ENTRIES) {
    const length = Array.isArray(entries) ? entries.length : 0;
    throw new EventBridgeApiError(
      'ValidationException',
      `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and ${MAX_ENTRIES} (${length} given)`,
    );
  }
  return entries as WireEntry[];
};

/**
 * Serves PutEvents over awsJson1_1 (`X-Amz-Target: AWSEvents.PutEvents`): validates the call
 * and each entry as AWS does, injects faults, records accepted events, and answers
 * `{ FailedEntryCount, Entries }` with one result per entry, in request order. Events whose
 * answer the client never got are flagged: `lostAnswer` (an injected fault replaced it) or
 * `clientAborted` (the client went away first, see `AnswerWatch`).
 */
export const createPutEventsHandler = ({
  log,
  faults,
  limits,
  busExists,
  unknownEventBus,
}: PutEventsDependencies) => {
  // Built at the first call: it needs the server's lifetime signal, which comes with each call.
  let watch: AnswerWatch | undefined;
  return async (request: IncomingMessage, response: ServerResponse, signal: AbortSignal) => {
    watch ??= new AnswerWatch(signal);
    const watched = watch.begin(request.socket);
    const requestId = randomUUID();
    const text = (await readBody(request)).toString('utf8');
    const answer = async (status: number, body: unknown): Promise<void> => {
      await pause(faults.current.latencyMs, signal);
      if (signal.aborted) return;
      sendText(response, status, CONTENT_TYPE, JSON.stringify(body), requestId);
      watched.answeredAt = Date.now();
    };
    const answerError = (error: EventBridgeApiError) =>
      answer(error.httpStatus, { __type: error.code, message: error.message });

    const target = request.headers['x-amz-target'];
    if (target !== PUT_EVENTS_TARGET) {
      return answerError(
        new EventBridgeApiError('UnknownOperationException', `Unknown operation ${String(target)}`),
      );
    }
    const call = log.startCall();
    const fault = faults.decideCall();
    const injectCallFault = async (kind: CallFaultKind): Promise<void> => {
      // A hung request keeps its socket until the client gives up or stop() destroys it.
      if (kind === 'hang') return;
      if (kind === 'reset') return resetConnection(request);
      return answerError(INJECTED_CALL_ERRORS[kind]);
    };
    if (fault?.when === 'before') {
      log.callFailed(injectedCode(fault.kind), true);
      return injectCallFault(fault.kind);
    }
    // A fault `after` replaces whatever the processed call would have answered: the lost answer.
    const reply = (status: number, body: unknown) => {
      if (!fault) return answer(status, body);
      log.answerLost(injectedCode(fault.kind));
      for (const event of watched.events) event.lostAnswer = true;
      return injectCallFault(fault.kind);
    };
    const replyError = (error: EventBridgeApiError) =>
      reply(error.httpStatus, { __type: error.code, message: error.message });

    let entries: WireEntry[];
    try {
      entries = readEntries(text);
    } catch (error) {
      if (!(error instanceof EventBridgeApiError)) throw error;
      log.callFailed(error.code, false);
      return replyError(error);
    }
    const validated = entries.map((entry) => validateEntry(entry, limits.maxEntryBytes));
    const total = validated.reduce((sum, v) => sum + (isRejection(v) ? 0 : v.bytes), 0);
    if (total > limits.maxRequestBytes) {
      const error = new EventBridgeApiError(
        'ValidationException',
        `Total size of the entries in the request is over the limit (${total} > ${limits.maxRequestBytes} bytes).`,
      );
      log.callFailed(error.code, false);
      return replyError(error);
    }

    const now = new Date();
    const results: ResultEntry[] = validated.map((entry) => {
      if (isRejection(entry)) {
        log.entryFailed(entry.ErrorCode, false);
        return entry;
      }
      const exists = busExists(entry.eventBusName);
      if (!exists && unknownEventBus === 'reject') {
        log.entryFailed('ResourceNotFoundException', false);
        return {
          ErrorCode: 'ResourceNotFoundException',
          ErrorMessage: `Event bus ${entry.eventBusName} does not exist.`,
        };
      }
      const injected = faults.decideEntry(entry.detailType);
      if (injected) {
        log.entryFailed(injected.ErrorCode, true);
        return injected;
      }
      const eventId = randomUUID();
      const event: AcceptedEvent = {
        eventId,
        time: (entry.time ?? now).toISOString(),
        eventBusName: entry.eventBusName,
        busExists: exists,
        source: entry.source,
        detailType: entry.detailType,
        detail: entry.detail,
        resources: entry.resources,
        call,
      };
      log.accepted(event);
      watched.events.push(event);
      return { EventId: eventId };
    });
    return reply(200, {
      FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length,
      Entries: results,
    });
  };
};
