import * as v from 'valibot';
import { createRandom, type RandomSource } from '../random.js';
import { type Clock, TokenBucket } from '../redshift-emulator/token-bucket.js';
import {
  atLeast,
  integer,
  parseOrThrow,
  partialStrictObject,
  share,
  strictObject,
} from '../validation.js';
import { STS_OPERATIONS } from './types.js';

/**
 * What an injected fault does to a call:
 * - `throttle`: 400 `Throttling` "Rate exceeded" (STS limits cannot be raised: callers must cache);
 * - `error`: 500 `InternalFailure`; `unavailable`: 503 `ServiceUnavailable`;
 * - `accessDenied`: 403 `AccessDenied` in AssumeRole's words (a trust policy changed under us);
 * - `hang`: no answer until the client gives up or the emulator stops;
 * - `reset`: the connection is reset without an answer (`ECONNRESET`).
 */
export const STS_FAULT_KINDS = [
  'throttle',
  'error',
  'unavailable',
  'accessDenied',
  'hang',
  'reset',
] as const;
export type StsFaultKind = (typeof STS_FAULT_KINDS)[number];

/** How a random lost answer shows to the client (`error` is a 500 `InternalFailure`). */
export const STS_LOST_ANSWER_SHAPES = ['error', 'reset', 'hang'] as const;

const rate = share();

/** A deterministic fault for the next `count` calls that match every field given. */
const targetedFaultSchema = strictObject({
  kind: v.picklist(STS_FAULT_KINDS),
  operation: v.optional(v.picklist(STS_OPERATIONS)),
  /** Only `AssumeRole` calls for this role ARN. */
  roleArn: v.optional(v.string()),
  count: v.optional(integer(1), 1),
  /**
   * `before` (default): the call fails and nothing is issued. `after`: credentials are issued
   * (and counted), then the answer is replaced by the fault — the caller never sees them.
   */
  when: v.optional(v.picklist(['before', 'after']), 'before'),
  /** Overrides of the error answered (not for `hang`/`reset`). */
  code: v.optional(v.string()),
  message: v.optional(v.string()),
  httpStatus: v.optional(integer(400, 599)),
});
export type StsTargetedFault = v.InferOutput<typeof targetedFaultSchema>;

const faultsShape = {
  /** Token-bucket rate limit in calls per second over all operations; 0 turns it off. */
  throttleRps: atLeast(0),
  /** Bucket size; defaults to max(1, throttleRps). */
  burst: v.optional(atLeast(1)),
  /** Share of calls answered `Throttling` at random (besides the bucket). */
  throttleRate: rate,
  /** Added to every answered call. */
  latencyMs: atLeast(0),
  /** Share of calls answered 500 `InternalFailure` or 503 `ServiceUnavailable` (half each). */
  errorRate: rate,
  /** Share of calls never answered. */
  hangRate: rate,
  /** Share of calls whose connection is reset. */
  resetRate: rate,
  /** Share of calls that issue credentials and then answer as `lostAs` says. */
  lostAnswerRate: rate,
  lostAs: v.picklist(STS_LOST_ANSWER_SHAPES),
  /** Deterministic faults, consumed in order; replaced as a whole by `setFaults`. */
  failNext: v.array(targetedFaultSchema),
  /**
   * Not a failure but a test knob: issue every credential for this many seconds, whatever
   * `DurationSeconds` asked (the `Expiration` says so). `null` (default): honour the request.
   */
  credentialLifetimeSeconds: v.nullable(integer(1, 43200)),
};

export const stsFaultsSchema = strictObject(faultsShape);
export const stsFaultsPatchSchema = partialStrictObject(faultsShape);
export type StsFaults = v.InferOutput<typeof stsFaultsSchema>;
/** What `setFaults` and `POST /__emulator/faults` take: any subset. */
export type StsFaultsPatch = v.InferInput<typeof stsFaultsPatchSchema>;

export const noStsFaults = (): StsFaults => ({
  throttleRps: 0,
  throttleRate: 0,
  latencyMs: 0,
  errorRate: 0,
  hangRate: 0,
  resetRate: 0,
  lostAnswerRate: 0,
  lostAs: 'error',
  failNext: [],
  credentialLifetimeSeconds: null,
});

/** The call a fault decision is made for. */
export interface StsCallSubject {
  operation: string;
  roleArn?: string;
}

/** A fault chosen for one call. */
export interface InjectedStsFault {
  kind: StsFaultKind;
  when: 'before' | 'after';
  source: 'failNext' | 'throttle' | 'random';
  code?: string;
  message?: string;
  httpStatus?: number;
}

/**
 * Decides, call by call, which fault (if any) to inject: a matching `failNext` rule, then the
 * token bucket, then the random rates. Every decision draws the same two random numbers, so a
 * seeded run replays identically.
 */
export class StsFaultPlan {
  private config: StsFaults = noStsFaults();
  private bucket: TokenBucket | undefined;
  private random: RandomSource;

  constructor(
    initial: StsFaultsPatch,
    private readonly seed: number,
    private readonly clock?: Clock,
  ) {
    this.random = createRandom(seed);
    this.update(initial);
  }

  get current(): StsFaults {
    return structuredClone(this.config);
  }

  /**
   * Merges a patch into the current faults (a given `failNext` replaces the list).
   *
   * @throws {TypeError} naming the offending field when the patch is invalid.
   */
  update(patch: unknown): StsFaults {
    const parsed = parseOrThrow(stsFaultsPatchSchema, patch, 'STS emulator faults');
    const next = { ...this.config, ...parsed };
    const sum =
      next.throttleRate + next.errorRate + next.hangRate + next.resetRate + next.lostAnswerRate;
    if (sum > 1) {
      throw new TypeError(
        `Invalid STS emulator faults: throttleRate + errorRate + hangRate + resetRate + lostAnswerRate must be <= 1, ${sum} given`,
      );
    }
    const bucketChanged =
      next.throttleRps !== this.config.throttleRps || next.burst !== this.config.burst;
    this.config = next;
    if (bucketChanged || this.bucket === undefined) this.bucket = this.newBucket();
    return this.current;
  }

  /** Back to the given faults, a full bucket and the PRNG at its seed. */
  reset(initial: StsFaultsPatch): void {
    this.config = noStsFaults();
    this.bucket = undefined;
    this.random = createRandom(this.seed);
    this.update(initial);
  }

  decide(call: StsCallSubject): InjectedStsFault | undefined {
    const roll = this.random.next();
    const pick = this.random.next();
    const rule = this.takeRule(call);
    if (rule) return rule;
    if (this.bucket && !this.bucket.tryTake()) {
      return { kind: 'throttle', when: 'before', source: 'throttle' };
    }
    const { throttleRate, resetRate, hangRate, errorRate, lostAnswerRate, lostAs } = this.config;
    // Consecutive slices of [0, 1): one roll picks at most one random fault.
    const slices = [
      { upTo: throttleRate, kind: 'throttle' },
      { upTo: throttleRate + resetRate, kind: 'reset' },
      { upTo: throttleRate + resetRate + hangRate, kind: 'hang' },
      {
        upTo: throttleRate + resetRate + hangRate + errorRate,
        kind: pick < 0.5 ? 'error' : 'unavailable',
      },
    ] as const;
    const slice = slices.find((s) => roll < s.upTo);
    if (slice) return { kind: slice.kind, when: 'before', source: 'random' };
    if (roll < throttleRate + resetRate + hangRate + errorRate + lostAnswerRate) {
      return { kind: lostAs, when: 'after', source: 'random' };
    }
    return undefined;
  }

  private takeRule(call: StsCallSubject): InjectedStsFault | undefined {
    const index = this.config.failNext.findIndex(
      (r) =>
        (r.operation === undefined || r.operation === call.operation) &&
        (r.roleArn === undefined || r.roleArn === call.roleArn),
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

  private newBucket(): TokenBucket | undefined {
    const { throttleRps, burst } = this.config;
    if (throttleRps <= 0) return undefined;
    return new TokenBucket(throttleRps, burst ?? Math.max(1, throttleRps), this.clock);
  }
}
