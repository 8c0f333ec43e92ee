import * as v from 'valibot';
import { createRandom, type RandomSource } from '../random.js';
import {
  atLeast,
  expecting,
  integer,
  parseOrThrow,
  partialStrictObject,
  record,
  share,
  strictObject,
} from '../validation.js';
import { type Clock, TokenBucket } from './token-bucket.js';
import { REDSHIFT_OPERATIONS } from './types.js';

/**
 * What an injected fault does to a call:
 * - `throttle`: 400 `Throttling` "Rate exceeded" (what the control plane answers over its rate);
 * - `error`: 500 `InternalFailure`; `unavailable`: 503 `ServiceUnavailable`;
 * - `accessDenied`: 403 `AccessDenied` (an IAM denial);
 * - `hang`: no answer until the client gives up or the emulator stops;
 * - `reset`: the connection is reset without an answer (`ECONNRESET`).
 */
export const FAULT_KINDS = [
  'throttle',
  'error',
  'unavailable',
  'accessDenied',
  'hang',
  'reset',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** How a random lost answer shows to the client (`error` is a 500 `InternalFailure`). */
export const LOST_ANSWER_SHAPES = ['error', 'reset', 'hang'] as const;
export type LostAnswerShape = (typeof LOST_ANSWER_SHAPES)[number];

const rate = share();

/** A deterministic fault for the next `count` calls that match every field given. */
const targetedFaultSchema = strictObject({
  kind: v.picklist(FAULT_KINDS),
  operation: v.optional(v.picklist(REDSHIFT_OPERATIONS)),
  dataShareArn: v.optional(v.string()),
  /** A consumer key: the consumer namespace ARN, `region:<region>` or `account:<id>`. */
  consumer: v.optional(v.string()),
  count: v.optional(integer(1), 1),
  /**
   * `before` (default): the call fails and nothing changes. `after`: the operation is applied,
   * then the answer is replaced by the fault — the "did my revocation happen?" case.
   */
  when: v.optional(v.picklist(['before', 'after']), 'before'),
  /** Overrides of the error answered (not for `hang`/`reset`), e.g. an `InvalidDataShareFault`. */
  code: v.optional(v.string()),
  message: v.optional(v.string()),
  httpStatus: v.optional(integer(400, 599)),
});
export type TargetedFault = v.InferOutput<typeof targetedFaultSchema>;

const faultsShape = {
  /** Token-bucket rate limit in calls per second over all operations; 0 turns it off. */
  throttleRps: atLeast(0),
  /** Bucket size; defaults to max(1, throttleRps). */
  burst: v.optional(atLeast(1)),
  /**
   * Rate limits of single accounts (the caller's, from its SigV4 key), e.g.
   * `{ '222233334444': 20 }`: each listed account has its own bucket of that rate (size `burst`,
   * else max(1, its rate)), as AWS limits each account's control plane on its own; calls of the
   * accounts not listed share the `throttleRps` bucket. 0 turns an account's limit off.
   */
  throttleRpsByAccount: record(
    v.pipe(v.string(), v.regex(/^\d{12}$/, expecting('a 12-digit account id', 'key'))),
    atLeast(0),
  ),
  /** Added to every answered call. */
  latencyMs: atLeast(0),
  /** Share of calls answered 500 `InternalFailure` or 503 `ServiceUnavailable` (half each). */
  errorRate: rate,
  /** Share of calls never answered. */
  hangRate: rate,
  /** Share of calls whose connection is reset. */
  resetRate: rate,
  /**
   * Share of calls that are applied (a disassociation happens) and then answered as `lostAs`
   * says: the random form of a `failNext` fault `when: 'after'`.
   */
  lostAnswerRate: rate,
  /** What a random lost answer looks like to the client (default `error`: a 500). */
  lostAs: v.picklist(LOST_ANSWER_SHAPES),
  /** Deterministic faults, consumed in order; replaced as a whole by `setFaults`. */
  failNext: v.array(targetedFaultSchema),
};

export const redshiftFaultsSchema = strictObject(faultsShape);
export const redshiftFaultsPatchSchema = partialStrictObject(faultsShape);

export type RedshiftFaults = v.InferOutput<typeof redshiftFaultsSchema>;
/** What `setFaults` and `POST /__emulator/faults` take: any subset, defaults may be left out. */
export type RedshiftFaultsPatch = v.InferInput<typeof redshiftFaultsPatchSchema>;

/** No fault at all: the emulator behaves like a healthy endpoint. */
export const noFaults = (): RedshiftFaults => ({
  throttleRps: 0,
  throttleRpsByAccount: {},
  latencyMs: 0,
  errorRate: 0,
  hangRate: 0,
  resetRate: 0,
  lostAnswerRate: 0,
  lostAs: 'error',
  failNext: [],
});

/** The call a fault decision is made for. */
export interface CallSubject {
  operation: string;
  /** The account of the key that signed the call (absent when it was not resolved). */
  callerAccountId?: string;
  dataShareArn?: string;
  consumer?: string;
}

/** A fault chosen for one call. */
export interface InjectedFault {
  kind: FaultKind;
  when: 'before' | 'after';
  source: 'failNext' | 'throttle' | 'random';
  code?: string;
  message?: string;
  httpStatus?: number;
}

/**
 * Decides, call by call, which fault (if any) to inject: first a matching `failNext` rule, then
 * the token bucket, then the random rates. Every decision draws the same two random numbers
 * whatever happens, so a seeded run replays identically even when rules or the bucket fire.
 */
export class FaultPlan {
  private config: RedshiftFaults = noFaults();
  private bucket: TokenBucket | undefined;
  /** One bucket per account of `throttleRpsByAccount` (undefined: that account is unlimited). */
  private accountBuckets = new Map<string, TokenBucket | undefined>();
  private random: RandomSource;

  constructor(
    initial: RedshiftFaultsPatch,
    private readonly seed: number,
    private readonly clock?: Clock,
  ) {
    this.random = createRandom(seed);
    this.update(initial);
  }

  /** The current faults, `failNext` showing what is left to fire. */
  get current(): RedshiftFaults {
    return structuredClone(this.config);
  }

  /**
   * Merges a patch into the current faults (a given `failNext` replaces the list).
   *
   * @throws {TypeError} naming the offending field when the patch is invalid.
   */
  update(patch: unknown): RedshiftFaults {
    const parsed = parseOrThrow(redshiftFaultsPatchSchema, patch, 'Redshift emulator faults');
    const next = { ...this.config, ...parsed };
    const sum = next.errorRate + next.hangRate + next.resetRate + next.lostAnswerRate;
    if (sum > 1) {
      throw new TypeError(
        `Invalid Redshift emulator faults: errorRate + hangRate + resetRate + lostAnswerRate must be <= 1, ${sum} given`,
      );
    }
    const bucketChanged =
      next.throttleRps !== this.config.throttleRps || next.burst !== this.config.burst;
    const accountBucketsChanged =
      next.burst !== this.config.burst ||
      JSON.stringify(next.throttleRpsByAccount) !==
        JSON.stringify(this.config.throttleRpsByAccount);
    this.config = next;
    if (bucketChanged || this.bucket === undefined) this.bucket = this.newBucket();
    if (accountBucketsChanged) {
      this.accountBuckets = new Map(
        Object.entries(next.throttleRpsByAccount).map(([account, rps]) => [
          account,
          this.newBucket(rps),
        ]),
      );
    }
    return this.current;
  }

  /** Back to the given faults, a full bucket and the PRNG at its seed. */
  reset(initial: RedshiftFaultsPatch): void {
    this.config = noFaults();
    this.bucket = undefined;
    this.accountBuckets = new Map();
    this.random = createRandom(this.seed);
    this.update(initial);
  }

  decide(call: CallSubject): InjectedFault | undefined {
    const roll = this.random.next();
    const pick = this.random.next();
    const rule = this.takeRule(call);
    if (rule) return rule;
    const bucket =
      call.callerAccountId !== undefined && this.accountBuckets.has(call.callerAccountId)
        ? this.accountBuckets.get(call.callerAccountId)
        : this.bucket;
    if (bucket && !bucket.tryTake()) {
      return { kind: 'throttle', when: 'before', source: 'throttle' };
    }
    const { resetRate, hangRate, errorRate, lostAnswerRate, lostAs } = this.config;
    if (roll < resetRate) return { kind: 'reset', when: 'before', source: 'random' };
    if (roll < resetRate + hangRate) return { kind: 'hang', when: 'before', source: 'random' };
    if (roll < resetRate + hangRate + errorRate) {
      return { kind: pick < 0.5 ? 'error' : 'unavailable', when: 'before', source: 'random' };
    }
    if (roll < resetRate + hangRate + errorRate + lostAnswerRate) {
      return { kind: lostAs, when: 'after', source: 'random' };
    }
    return undefined;
  }

  private takeRule(call: CallSubject): InjectedFault | undefined {
    const index = this.config.failNext.findIndex(
      (r) =>
        (r.operation === undefined || r.operation === call.operation) &&
        (r.dataShareArn === undefined || r.dataShareArn === call.dataShareArn) &&
        (r.consumer === undefined || r.consumer === call.consumer),
    );
    const rule = this.config.failNext[index];
    if (!rule) return undefined;
    if (rule.count <= 1) this.config.failNext.splice(index, 1);
    else rule.count -= 1;
    const { kind, when, code, message, httpStatus } = rule;
    return {
      kind,
      when,
      source: 'failNext',
      ...(code === undefined ? {} : { code }),
      ...(message === undefined ? {} : { message }),
      ...(httpStatus === undefined ? {} : { httpStatus }),
    };
  }

  private newBucket(rps = this.config.throttleRps): TokenBucket | undefined {
    const { burst } = this.config;
    if (rps <= 0) return undefined;
    return new TokenBucket(rps, burst ?? Math.max(1, rps), this.clock);
  }
}
