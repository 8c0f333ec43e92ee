import { z } from 'zod';
import { createRandom, type RandomSource } from '../random.js';

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

const rate = z.number().min(0).max(1);

const faultsShape = {
  /** Share of valid entries failed with a retryable code (half each) while the call succeeds. */
  entryFailureRate: rate,
  /** Share of calls failed as a whole: half 500 `InternalException`, half 400 `ThrottlingException`. */
  callFailureRate: rate,
  /** Added to every answered call. */
  latencyMs: z.number().min(0),
  /** The next calls fail as a whole, in order. */
  failNextCalls: z.array(
    z.strictObject({ kind: z.enum(CALL_FAULT_KINDS), count: z.int().min(1).default(1) }),
  ),
  /** The next valid entries (optionally only those of a `detailType`) fail with `code`. */
  failNextEntries: z.array(
    z.strictObject({
      code: z.string().default('ThrottlingException'),
      message: z.string().optional(),
      detailType: z.string().optional(),
      count: z.int().min(1).default(1),
    }),
  ),
};

export const eventBridgeFaultsSchema = z.strictObject(faultsShape);
export const eventBridgeFaultsPatchSchema = z.strictObject(faultsShape).partial();
export type EventBridgeFaults = z.output<typeof eventBridgeFaultsSchema>;
/** What `setFaults` and `POST /__emulator/faults` take. */
export type EventBridgeFaultsPatch = z.input<typeof eventBridgeFaultsPatchSchema>;

export const noEventBridgeFaults = (): EventBridgeFaults => ({
  entryFailureRate: 0,
  callFailureRate: 0,
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
    const parsed = eventBridgeFaultsPatchSchema.safeParse(patch);
    if (!parsed.success) {
      throw new TypeError(`Invalid EventBridge emulator faults:\n${z.prettifyError(parsed.error)}`);
    }
    this.config = { ...this.config, ...parsed.data };
    return this.current;
  }

  reset(initial: EventBridgeFaultsPatch): void {
    this.config = noEventBridgeFaults();
    this.random = createRandom(this.seed);
    this.update(initial);
  }

  decideCall(): CallFaultKind | undefined {
    const roll = this.random.next();
    const pick = this.random.next();
    const next = this.config.failNextCalls[0];
    if (next) {
      if (next.count <= 1) this.config.failNextCalls.shift();
      else next.count -= 1;
      return next.kind;
    }
    if (roll < this.config.callFailureRate) return pick < 0.5 ? 'error' : 'throttle';
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
