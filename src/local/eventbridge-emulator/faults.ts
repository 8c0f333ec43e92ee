import * as v from 'valibot';
import { createRandom, type RandomSource } from '../random.js';
import {
  atLeast,
  integer,
  parseOrThrow,
  partialStrictObject,
  share,
  strictObject,
} from '../validation.js';

/** The retryable entry codes of PutEvents (the only ones random entry failures use). */
export const RETRYABLE_ENTRY_CODES = ['ThrottlingException', 'InternalFailure'] as const;

const ENTRY_MESSAGES: Record<string, string> = {
  ThrottlingException: 'Rate exceeded.',
  InternalFailure: 'Internal Failure',
  AccessDeniedException: 'You are not authorized to perform this action.',
};

/**
 * A whole-call fault: `throttle` (400 `ThrottlingException`), `error` (500 `InternalException`),
 * `hang` (no answer) or `reset` (connection reset, `ECONNRESET`).
 */
export const CALL_FAULT_KINDS = ['throttle', 'error', 'hang', 'reset'] as const;
export type CallFaultKind = (typeof CALL_FAULT_KINDS)[number];

/** How a random lost answer shows to the client (`error` is the 500 `InternalException`). */
export const LOST_ANSWER_SHAPES = ['error', 'reset', 'hang'] as const;
export type LostAnswerShape = (typeof LOST_ANSWER_SHAPES)[number];

/** A whole-call fault chosen for one call. */
export interface CallFault {
  kind: CallFaultKind;
  /**
   * `before`: the call fails and no event is accepted. `after`: the call is processed (its valid
   * entries accepted and logged), then the answer is replaced by the fault — the lost answer.
   */
  when: 'before' | 'after';
}

const rate = share();

const faultsShape = {
  /** Share of valid entries failed with a retryable code (half each) while the call succeeds. */
  entryFailureRate: rate,
  /** Share of calls failed as a whole: half 500 `InternalException`, half 400 `ThrottlingException`. */
  callFailureRate: rate,
  /** Share of calls processed (events accepted) whose answer is then lost (see `lostAs`). */
  lostAnswerRate: rate,
  /** What a random lost answer looks like to the client (default `error`: a 500). */
  lostAs: v.picklist(LOST_ANSWER_SHAPES),
  /** Added to every answered call. */
  latencyMs: atLeast(0),
  /** The next calls fail as a whole, in order (`when: 'after'`: once their events are accepted). */
  failNextCalls: v.array(
    strictObject({
      kind: v.picklist(CALL_FAULT_KINDS),
      count: v.optional(integer(1), 1),
      when: v.optional(v.picklist(['before', 'after']), 'before'),
    }),
  ),
  /** The next valid entries (optionally only those of a `detailType`) fail with `code`. */
  failNextEntries: v.array(
    strictObject({
      code: v.optional(v.string(), 'ThrottlingException'),
      message: v.optional(v.string()),
      detailType: v.optional(v.string()),
      count: v.optional(integer(1), 1),
    }),
  ),
};

export const eventBridgeFaultsSchema = strictObject(faultsShape);
export const eventBridgeFaultsPatchSchema = partialStrictObject(faultsShape);
export type EventBridgeFaults = v.InferOutput<typeof eventBridgeFaultsSchema>;
/** What `setFaults` and `POST /__emulator/faults` take. */
export type EventBridgeFaultsPatch = v.InferInput<typeof eventBridgeFaultsPatchSchema>;

export const noEventBridgeFaults = (): EventBridgeFaults => ({
  entryFailureRate: 0,
  callFailureRate: 0,
  lostAnswerRate: 0,
  lostAs: 'error',
  latencyMs: 0,
  failNextCalls: [],
  failNextEntries: [],
});

export interface EntryFault {
  ErrorCode: string;
  ErrorMessage: string;
}

/**
 * Decides the injected faults of each call and each entry. Every decision draws the same random
 * numbers whatever the outcome, so a seeded run replays identically.
 */
export class EventBridgeFaultPlan {
  private config = noEventBridgeFaults();
  private random: RandomSource;

  constructor(
    initial: EventBridgeFaultsPatch,
    private readonly seed: number,
  ) {
    this.random = createRandom(seed);
    this.update(initial);
  }

  get current(): EventBridgeFaults {
    return structuredClone(this.config);
  }

  /**
   * Merges a patch into the current faults (a given list replaces the list).
   *
   * @throws {TypeError} naming the offending field.
   */
  update(patch: unknown): EventBridgeFaults {
    const parsed = parseOrThrow(eventBridgeFaultsPatchSchema, patch, 'EventBridge emulator faults');
    const next = { ...this.config, ...parsed };
    if (next.callFailureRate + next.lostAnswerRate > 1) {
      throw new TypeError(
        `Invalid EventBridge emulator faults: callFailureRate + lostAnswerRate must be <= 1, ${next.callFailureRate + next.lostAnswerRate} given`,
      );
    }
    this.config = next;
    return this.current;
  }

  reset(initial: EventBridgeFaultsPatch): void {
    this.config = noEventBridgeFaults();
    this.random = createRandom(this.seed);
    this.update(initial);
  }

  decideCall(): CallFault | undefined {
    const roll = this.random.next();
    const pick = this.random.next();
    const next = this.config.failNextCalls[0];
    if (next) {
      if (next.count <= 1) this.config.failNextCalls.shift();
      else next.count -= 1;
      return { kind: next.kind, when: next.when };
    }
    const { callFailureRate, lostAnswerRate, lostAs } = this.config;
    if (roll < callFailureRate) return { kind: pick < 0.5 ? 'error' : 'throttle', when: 'before' };
    if (roll < callFailureRate + lostAnswerRate) return { kind: lostAs, when: 'after' };
    return undefined;
  }

  decideEntry(detailType: string): EntryFault | undefined {
    const roll = this.random.next();
    const pick = this.random.next();
    const index = this.config.failNextEntries.findIndex(
      (rule) => rule.detailType === undefined || rule.detailType === detailType,
    );
    const rule = this.config.failNextEntries[index];
    if (rule) {
      if (rule.count <= 1) this.config.failNextEntries.splice(index, 1);
      else rule.count -= 1;
      return {
        ErrorCode: rule.code,
        ErrorMessage: rule.message ?? ENTRY_MESSAGES[rule.code] ?? `${rule.code} (injected)`,
      };
    }
    if (roll < this.config.entryFailureRate) {
      const code = pick < 0.5 ? 'ThrottlingException' : 'InternalFailure';
      return { ErrorCode: code, ErrorMessage: ENTRY_MESSAGES[code] ?? code };
    }
    return undefined;
  }
}
