/**
 * How an injected fault is counted. `lostAnswer` is a call forwarded and applied upstream whose
 * answer was replaced by a fault (whatever the client saw: a 500, a reset or a hang); the others
 * are calls failed before reaching the upstream.
 */
export const INJECTION_KINDS = [
  'throttle',
  'error',
  'unavailable',
  'hang',
  'reset',
  'lostAnswer',
] as const;
export type InjectionKind = (typeof INJECTION_KINDS)[number];

/** Counts of one operation's calls (or of all calls). */
export interface ProxyCallCounts {
  /** Calls received (admin routes are not counted). */
  calls: number;
  /** Calls sent on to the upstream (including those whose answer was then lost). */
  forwarded: number;
  /** Calls whose answer was delayed by `latencyMs`. */
  delayed: number;
  /** Forwarded calls the upstream did not answer (refused, reset): answered 502. */
  upstreamFailures: number;
  /** Calls that got an injected fault, all kinds together. */
  injected: number;
  /** Injected faults by kind. */
  byKind: Record<InjectionKind, number>;
}

export interface FaultProxyStats {
  all: ProxyCallCounts;
  byOperation: Record<string, ProxyCallCounts>;
}

export const emptyProxyCounts = (): ProxyCallCounts => ({
  calls: 0,
  forwarded: 0,
  delayed: 0,
  upstreamFailures: 0,
  injected: 0,
  byKind: { throttle: 0, error: 0, unavailable: 0, hang: 0, reset: 0, lostAnswer: 0 },
});

type Counter = 'calls' | 'forwarded' | 'delayed' | 'upstreamFailures';

/** The proxy's counters, kept per operation and in total. */
export class ProxyCounters {
  private counts: FaultProxyStats = { all: emptyProxyCounts(), byOperation: {} };

  count(operation: string, counter: Counter): void {
    for (const counts of this.both(operation)) counts[counter] += 1;
  }

  injected(operation: string, kind: InjectionKind): void {
    for (const counts of this.both(operation)) {
      counts.injected += 1;
      counts.byKind[kind] += 1;
    }
  }

  stats(): FaultProxyStats {
    return structuredClone(this.counts);
  }

  clear(): void {
    this.counts = { all: emptyProxyCounts(), byOperation: {} };
  }

  private both(operation: string): ProxyCallCounts[] {
    this.counts.byOperation[operation] ??= emptyProxyCounts();
    return [this.counts.all, this.counts.byOperation[operation] as ProxyCallCounts];
  }
}

/** One injected fault, as `FaultProxy.injections` lists it. */
export interface ProxyInjection {
  /** 1-based, in the order the faults were injected. */
  seq: number;
  /** Epoch milliseconds. */
  at: number;
  operation: string;
  kind: InjectionKind;
  /**
   * The DynamoDB item the call named (`Key.id` or `Item.id`): with `kind` other than
   * `lostAnswer`, which write did not happen. A batch call is journaled once per item it names.
   */
  key?: string;
}

/** The injected faults in order, at most `limit` (the oldest are dropped, and counted). */
export class InjectionJournal {
  private readonly entries: ProxyInjection[] = [];
  private seq = 0;
  dropped = 0;

  constructor(private readonly limit = 200_000) {}

  record(injection: Omit<ProxyInjection, 'seq' | 'at'>): void {
    this.seq += 1;
    this.entries.push({ seq: this.seq, at: Date.now(), ...injection });
    if (this.entries.length > this.limit) {
      this.entries.shift();
      this.dropped += 1;
    }
  }

  list(): readonly ProxyInjection[] {
    return this.entries;
  }

  clear(): void {
    this.entries.length = 0;
    this.seq = 0;
    this.dropped = 0;
  }
}
