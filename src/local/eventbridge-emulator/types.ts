import { EmulatedApiError } from '../api-error.js';
/** One event the emulator accepted, as a test reads it back. */
export interface AcceptedEvent {
  eventId: string;
  /** ISO-8601: the entry's `Time`, or the time of the call. */
  time: string;
  /** The bus name (an `EventBusName` ARN is reduced to its name); `default` when absent. */
  eventBusName: string;
  /** False when the bus is not one the emulator knows: AWS accepts such events and drops them. */
  busExists: boolean;
  source: string;
  detailType: string;
  /** `Detail`, parsed. */
  detail: Record<string, unknown>;
  resources: string[];
  /** 1-based number of the PutEvents call that carried it. */
  call: number;
  /**
   * The call was processed (this event accepted) and its answer then replaced by an injected
   * fault (`lostAnswerRate`, `failNextCalls` with `when: 'after'`): the client saw a failure.
   */
  lostAnswer?: true;
  /**
   * The client disconnected before it could have read the answer: before the answer was written,
   * or within `ABANDONED_ANSWER_MS` after it, on a keep-alive connection that carried no further
   * request (an SDK call aborted by its timeout destroys its socket; one that read its answer
   * keeps it open for the next call). The client saw a failure although the event was accepted.
   */
  clientAborted?: true;
}

/** A `PutEventsRequestEntry` as it arrives on the wire (anything may be missing or mistyped). */
export interface WireEntry {
  Time?: unknown;
  Source?: unknown;
  Resources?: unknown;
  DetailType?: unknown;
  Detail?: unknown;
  EventBusName?: unknown;
  TraceHeader?: unknown;
}

/** A `PutEventsResultEntry`: an event id, or an error code and message. */
export type ResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

/** An error answered for the whole call (awsJson1_1: `{"__type": code, "message": ...}`). */
export class EventBridgeApiError extends EmulatedApiError {
  override readonly name = 'EventBridgeApiError';
}

/** An event as EventBridge delivers it to a rule's target (the JSON a log group target stores). */
export interface EventEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** A rule on one bus: events whose `source` is listed are delivered to `deliver`. */
export interface EventRule {
  name: string;
  eventBusName: string;
  /** The event pattern's `source` list (the only pattern field the emulator matches). */
  sources: readonly string[];
  deliver(envelope: EventEnvelope): void;
}
