/** One log event as stored and returned by `FilterLogEvents`. */
export interface StoredLogEvent {
  logStreamName: string;
  /** Epoch milliseconds: the event's own time. */
  timestamp: number;
  ingestionTime: number;
  message: string;
  eventId: string;
  /** Arrival order, breaking ties of equal timestamps. */
  seq: number;
}

/** Log groups and their events, ordered by (timestamp, arrival). */
export class LogStore {
  readonly #groups = new Map<string, StoredLogEvent[]>();
  #seq = 0;

  createLogGroup(name: string): void {
    if (!this.#groups.has(name)) this.#groups.set(name, []);
  }

  has(name: string): boolean {
    return this.#groups.has(name);
  }

  get groupNames(): string[] {
    return [...this.#groups.keys()];
  }

  /** Appends an event, keeping the group sorted (events usually arrive in time order). */
  put(
    group: string,
    event: { logStreamName: string; timestamp: number; message: string },
  ): StoredLogEvent {
    const events = this.#groups.get(group);
    if (!events) throw new TypeError(`log group ${group} does not exist`);
    this.#seq += 1;
    const stored: StoredLogEvent = {
      ...event,
      ingestionTime: Date.now(),
      seq: this.#seq,
      eventId: `${String(event.timestamp).padStart(16, '0')}${String(this.#seq).padStart(20, '0')}`,
    };
    let index = events.length;
    while (index > 0 && (events[index - 1]?.timestamp ?? 0) > stored.timestamp) index -= 1;
    events.splice(index, 0, stored);
    return stored;
  }

  events(group: string): readonly StoredLogEvent[] {
    return this.#groups.get(group) ?? [];
  }

  clear(): void {
    for (const events of this.#groups.values()) events.length = 0;
  }
}
