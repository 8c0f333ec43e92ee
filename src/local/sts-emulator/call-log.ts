/**
 * How a call ended: `ok`; `rejected` (the emulated API refused it: `AccessDenied` for a role the
 * caller may not assume, `ValidationError`, `ExpiredToken`, ...); or an injected `throttled` /
 * `error` / `accessDenied` / `hang` / `reset`.
 */
export type StsCallOutcome =
  | 'ok'
  | 'rejected'
  | 'throttled'
  | 'error'
  | 'accessDenied'
  | 'hang'
  | 'reset';

/** One call the STS emulator received (admin routes are not recorded). */
export interface RecordedStsCall {
  /** 1-based arrival order. */
  seq: number;
  /** Epoch milliseconds of arrival. */
  at: number;
  operation: string;
  /** The signing key, and whom it resolved to (absent when the key was refused). */
  accessKeyId?: string;
  callerAccountId?: string;
  callerArn?: string;
  /** `AssumeRole`'s parameters as sent. */
  roleArn?: string;
  roleSessionName?: string;
  externalIdGiven?: boolean;
  durationSeconds?: number;
  sourceIdentity?: string;
  outcome: StsCallOutcome;
  code?: string;
  httpStatus?: number;
  /** Whether the outcome was a fault injected by the emulator rather than the API's own answer. */
  injected: boolean;
  /** Whether credentials were issued (a fault `when: 'after'` loses an answer that issued them). */
  issued: boolean;
  /** The key issued, and when it expires (ISO 8601). */
  issuedAccessKeyId?: string;
  expiration?: string;
  /** Credentials were issued, then the answer was replaced by the injected fault. */
  lostAnswer?: boolean;
}

/** Counts of calls by outcome. */
export interface StsCallCounts {
  total: number;
  ok: number;
  rejected: number;
  throttled: number;
  error: number;
  accessDenied: number;
  hang: number;
  reset: number;
  injected: number;
  lostAnswer: number;
  /** Calls that issued credentials (`ok`, plus lost answers that did). */
  issued: number;
}

export interface StsCallStats {
  all: StsCallCounts;
  byOperation: Record<string, StsCallCounts>;
  /** `AssumeRole` calls by the `RoleArn` requested. */
  byRole: Record<string, StsCallCounts>;
}

export const emptyStsCounts = (): StsCallCounts => ({
  total: 0,
  ok: 0,
  rejected: 0,
  throttled: 0,
  error: 0,
  accessDenied: 0,
  hang: 0,
  reset: 0,
  injected: 0,
  lostAnswer: 0,
  issued: 0,
});

const count = (counts: StsCallCounts, call: RecordedStsCall): void => {
  counts.total += 1;
  counts[call.outcome] += 1;
  if (call.injected) counts.injected += 1;
  if (call.lostAnswer) counts.lostAnswer += 1;
  if (call.issued) counts.issued += 1;
};

/** Counts a set of calls by outcome. */
export const tallySts = (calls: Iterable<RecordedStsCall>): StsCallCounts => {
  const counts = emptyStsCounts();
  for (const call of calls) count(counts, call);
  return counts;
};

/**
 * Every call the STS emulator received, in arrival order, so a test can assert on the worker's
 * credential caching ("one AssumeRole per role per container while credentials are valid").
 */
export class StsCallLog {
  private readonly entries: RecordedStsCall[] = [];

  record(call: Omit<RecordedStsCall, 'seq'>): RecordedStsCall {
    const recorded = { seq: this.entries.length + 1, ...call };
    this.entries.push(recorded);
    return recorded;
  }

  get calls(): readonly RecordedStsCall[] {
    return this.entries;
  }

  stats(): StsCallStats {
    const stats: StsCallStats = { all: emptyStsCounts(), byOperation: {}, byRole: {} };
    for (const call of this.entries) {
      count(stats.all, call);
      stats.byOperation[call.operation] ??= emptyStsCounts();
      count(stats.byOperation[call.operation] as StsCallCounts, call);
      if (call.operation === 'AssumeRole' && call.roleArn !== undefined) {
        stats.byRole[call.roleArn] ??= emptyStsCounts();
        count(stats.byRole[call.roleArn] as StsCallCounts, call);
      }
    }
    return stats;
  }

  clear(): void {
    this.entries.length = 0;
  }
}
