/** The Lambda API operations the emulator answers (the event source mapping calls the worker uses). */
export const LAMBDA_OPERATIONS = [
  'ListEventSourceMappings',
  'GetEventSourceMapping',
  'UpdateEventSourceMapping',
] as const;
export type LambdaOperation = (typeof LAMBDA_OPERATIONS)[number];

/**
 * `State` of an event source mapping, as `GetEventSourceMapping` reports it. The emulator uses the
 * four below: an update answers at once with the transitional state (HTTP 202, as Lambda does),
 * and the mapping settles when the local poller has started or stopped.
 */
export const MappingState = {
  Enabled: 'Enabled',
  Enabling: 'Enabling',
  Disabled: 'Disabled',
  Disabling: 'Disabling',
} as const;
export type MappingState = (typeof MappingState)[keyof typeof MappingState];

/** One mapping as the emulator keeps it; `configuration()` renders the API's shape. */
export interface EmulatedMapping {
  uuid: string;
  functionArn: string;
  eventSourceArn: string;
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  state: MappingState;
  /** `USER_INITIATED` after an update. */
  stateTransitionReason: string;
  /** Epoch ms of the last change. */
  lastModified: number;
}

/** One call as the emulator saw it, in arrival order. */
export interface RecordedLambdaCall {
  operation: LambdaOperation | 'Unknown';
  /** The mapping addressed (Get/Update). */
  uuid?: string;
  /** The query (List) or body (Update) given. */
  input: Record<string, unknown>;
  /** HTTP status answered, or `reset` when the connection was reset. */
  status: number | 'reset';
  /** Error type answered, when not 2xx. */
  errorType?: string;
  at: number;
}
