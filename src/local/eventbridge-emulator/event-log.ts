import type { AcceptedEvent } from './types.js';

/** What the EventBridge emulator has seen since start (or the last `clear()`). */
export interface EventBridgeStats {
  /** PutEvents calls received (other targets are not counted). */
  calls: number;
  /** Calls failed as a whole, by error code (`hang` and `reset` for those injected faults). */
  failedCalls: Record<string, number>;
  /** Entries in calls that were not failed as a whole. */
  entries: number;
  acceptedEntries: number;
  /** Entries answered with an error, by `ErrorCode`. */
  failedEntries: Record<string, number>;
  /** How many of the failures above the emulator injected. */
  injectedCallFailures: number;
  /**
   * Of the injected call failures: calls processed first (their valid entries accepted) whose
   * answer was then replaced by the fault — the events are on the bus, the client saw a failure.
   */
  lostAnswers: number;
  injectedEntryFailures: number;
}

const emptyStats = (): EventBridgeStats => ({
  calls: 0,
  failedCalls: {},
  entries: 0,
  acceptedEntries: 0,
  failedEntries: {},
  injectedCallFailures: 0,
  injectedEntryFailures: 0,
  lostAnswers: 0,
});

const bump = (counts: Record<string, number>, key: string): void => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/** Accepted events in arrival order, and the counters behind `stats()`. */
export class EventLog {
  readonly events: AcceptedEvent[] = [];
  private counters = emptyStats();
  readonly #listeners = new Set<(event: AcceptedEvent) => void>();

  /** Calls `listener` with every event accepted from now on; returns the unsubscribe. */
  onAccepted(listener: (event: AcceptedEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  startCall(): number {
    this.counters.calls += 1;
    return this.counters.calls;
  }

  callFailed(code: string, injected: boolean): void {
    bump(this.counters.failedCalls, code);
    if (injected) this.counters.injectedCallFailures += 1;
  }

  /** A processed call whose answer an injected fault replaced. */
  answerLost(code: string): void {
    this.callFailed(code, true);
    this.counters.lostAnswers += 1;
  }

  accepted(event: AcceptedEvent): void {
    this.counters.entries += 1;
    this.counters.acceptedEntries += 1;
    this.events.push(event);
    for (const listener of this.#listeners) listener(event);
  }

  entryFailed(code: string, injected: boolean): void {
    this.counters.entries += 1;
    bump(this.counters.failedEntries, code);
    if (injected) this.counters.injectedEntryFailures += 1;
  }

  stats(): EventBridgeStats {
    return structuredClone(this.counters);
  }

  clear(): void {
    this.events.length = 0;
    this.counters = emptyStats();
  }
}
