export { MAX_PAGE_BYTES, MAX_PAGE_EVENTS } from './filter-log-events.js';
export { FilterPatternError, type LogEventMatcher, parseFilterPattern } from './filter-pattern.js';
export type { StoredLogEvent } from './log-store.js';
export { type LogsEmulator, type LogsEmulatorOptions, startLogsEmulator } from './logs-emulator.js';
