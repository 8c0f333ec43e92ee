export { DEFAULT_MAX_ENTRY_BYTES, entrySize } from './entry-validation.js';
export type { EventBridgeStats } from './event-log.js';
export {
  type EventBridgeEmulator,
  type EventBridgeEmulatorOptions,
  startEventBridgeEmulator,
} from './eventbridge-emulator.js';
export {
  CALL_FAULT_KINDS,
  type CallFault,
  type CallFaultKind,
  type EventBridgeFaults,
  type EventBridgeFaultsPatch,
  LOST_ANSWER_SHAPES as EVENTBRIDGE_LOST_ANSWER_SHAPES,
  RETRYABLE_ENTRY_CODES,
} from './faults.js';
export { MAX_ENTRIES } from './put-events-handler.js';
export type { AcceptedEvent, EventEnvelope, EventRule } from './types.js';
