/**
 * How a call ended: `ok`; `rejected` (the emulated API refused it, e.g. `InvalidDataShareFault`);
 * or an injected `throttled` / `error` / `accessDenied` / `hang` / `reset`.
 */
export type CallOutcome =
  | 'ok'
  | 'rejected'
  | 'throttled'
  | 'error'
  | 'accessDenied'
  | 'hang'
  | 'reset';

/** One call the emulator received (admin routes are not recorded). */
export interface RecordedCall {
  /** 1-based arrival order. */
  seq: number;
  /** Epoch milliseconds of arrival. */
  at: number;
  operation: string;
  /** The SigV4 access key the call was signed with. */
  accessKeyId?: string;
  /** The `RequestId` answered (the worker audits a successful call's as `redshiftRequestId`). */
  requestId?: string;
  /** The account the call acted in, and the role session that signed it (absent when refused). */
  callerAccountId?: string;
  callerArn?: string;
  /** `arn:aws:iam::<account>:role/<name>`: the hub's own role for the static key. */
  roleArn?: string;
  dataShareArn?: string;
  /** Namespace ARN, `region:<region>` or `account:<id>` (the caller's account). */
  consumer?: string;
  /** `<dataShareArn>|<consumer>` for calls that target one consumer of one datashare. */
  targetKey?: string;
  outcome: CallOutcome;
  /** The error code answered, if any. */
  code?: string;
  httpStatus?: number;
  /** Whether the outcome was a fault injected by the emulator rather than the API's own answer. */
  injected: boolean;
  /** Whether the call changed state (a fault `when: 'after'` fails a call that did). */
  applied: boolean;
  /**
   * The operation ran, then its answer was replaced by the injected fault (`when: 'after'` or
   * `lostAnswerRate`); whether it changed anything is `applied` (a describe changes nothing).
   */
  lostAnswer?: boolean;
  /**
   * The client's connection closed before the answer was sent in full (it gave up: a request
   * timeout, a reset). Set after the call is recorded, when the connection closes. A call that
   * ran and whose client left is a lost answer nobody injected: its client cannot know the
   * outcome, as with `lostAnswer`.
   */
  clientGone?: boolean;
}

/** Counts of calls by outcome. */
export interface CallCounts {
  total: number;
  ok: number;
  rejected: number;
  throttled: number;
  error: number;
  accessDenied: number;
  hang: number;
  reset: number;
  /** Calls whose outcome was injected (any failure kind above that the emulator chose). */
  injected: number;
  /** Of the injected: calls that ran before their answer was replaced (lost answers). */
  lostAnswer: number;
  /** Calls not injected whose client left before their answer was sent in full. */
  clientGone: number;
  /**
   * Calls that changed state (`applied`), whatever was answered: for one target's disassociate
   * calls, its state changes — more than one without an association in between is a second
   * revocation.
   */
  applied: number;
}

export interface CallStats {
  all: CallCounts;
  byOperation: Record<string, CallCounts>;
  byTarget: Record<string, CallCounts>;
}

/** Counts with nothing counted yet. */
export const emptyCounts = (): CallCounts => ({
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
  clientGone: 0,
  applied: 0,
});

const count = (counts: CallCounts, call: RecordedCall): void => {
  counts.total += 1;
  counts[call.outcome] += 1;
  if (call.injected) counts.injected += 1;
  if (call.lostAnswer) counts.lostAnswer += 1;
  if (call.clientGone && !call.injected) counts.clientGone += 1;
  if (call.applied) counts.applied += 1;
};

/** Counts a set of calls by outcome. */
export const tally = (calls: Iterable<RecordedCall>): CallCounts => {
  const counts = emptyCounts();
  for (const call of calls) count(counts, call);
  return counts;
};

/**
 * Every call an emulator received, in arrival order, so a test can assert on the worker's
 * behaviour ("at most 1 + injected failures Disassociate calls per target").
 */
export class CallLog {
  private readonly entries: RecordedCall[] = [];

  record(call: Omit<RecordedCall, 'seq'>): RecordedCall {
    const recorded = { seq: this.entries.length + 1, ...call };
    this.entries.push(recorded);
    return recorded;
  }

  get calls(): readonly RecordedCall[] {
    return this.entries;
  }

  stats(): CallStats {
    const stats: CallStats = { all: emptyCounts(), byOperation: {}, byTarget: {} };
    for (const call of this.entries) {
      count(stats.all, call);
      stats.byOperation[call.operation] ??= emptyCounts();
      count(stats.byOperation[call.operation] as CallCounts, call);
      if (call.targetKey !== undefined) {
        stats.byTarget[call.targetKey] ??= emptyCounts();
        count(stats.byTarget[call.targetKey] as CallCounts, call);
      }
    }
    return stats;
  }

  clear(): void {
    this.entries.length = 0;
  }
}
