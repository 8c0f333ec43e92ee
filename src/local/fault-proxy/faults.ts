import * as v from 'valibot';
import { createRandom, type RandomSource } from '../random.js';
import {
  atLeast,
  expecting,
  integer,
  parseOrThrow,
  partialStrictObject,
  share,
  strictObject,
} from '../validation.js';

/**
 * What an injected fault does to a call:
 * - `throttle`: the service's own throttling error (DynamoDB `ThrottlingException`, SQS
 *   `RequestThrottled`), which the SDK classifies as a throttle;
 * - `error`: 500 (DynamoDB `InternalServerError`, SQS `InternalError`);
 *   `unavailable`: 503 `ServiceUnavailable`;
 * - `hang`: no answer until the client gives up or the proxy stops;
 * - `reset`: the connection is reset without an answer (`ECONNRESET`).
 */
export const PROXY_FAULT_KINDS = ['throttle', 'error', 'unavailable', 'hang', 'reset'] as const;
export type ProxyFaultKind = (typeof PROXY_FAULT_KINDS)[number];

/** How a random lost answer shows to the client (`error` is the service's 500). */
export const LOST_ANSWER_SHAPES = ['error', 'reset', 'hang'] as const;
export type LostAnswerShape = (typeof LOST_ANSWER_SHAPES)[number];

const rate = share();
/** Operation names as the SDK sends them (`PutItem`, `SendMessageBatch`); absent = every one. */
const operations = v.optional(v.pipe(v.array(v.pipe(v.string(), v.minLength(1))), v.minLength(1)));

/**
 * A share of calls: a number for every operation, or `{ rate, operations }` for some. (An object
 * given with a wrong field is told by that field; anything else by this message.)
 */
const scopedRate = v.union(
  [rate, strictObject({ rate, operations })],
  expecting('a number from 0 to 1, or { rate, operations? }', 'type'),
);
export type ScopedRate = v.InferOutput<typeof scopedRate>;

const scopedLatency = v.union(
  [atLeast(0), strictObject({ ms: atLeast(0), operations })],
  expecting('a number of ms >= 0, or { ms, operations? }', 'type'),
);

/** A deterministic fault for the next `count` calls of the given operations. */
const targetedFaultSchema = strictObject({
  kind: v.picklist(PROXY_FAULT_KINDS),
  operations,
  count: v.optional(integer(1), 1),
  /**
   * `before` (default): the call is not forwarded, nothing changes. `after`: the call is forwarded
   * and takes effect upstream, then the client gets the fault instead of the answer.
   */
  when: v.optional(v.picklist(['before', 'after']), 'before'),
  /** Overrides of the error answered (not for `hang`/`reset`), e.g. `ProvisionedThroughputExceededException`. */
  code: v.optional(v.pipe(v.string(), v.minLength(1))),
  message: v.optional(v.string()),
  httpStatus: v.optional(integer(400, 599)),
});
export type ProxyTargetedFault = v.InferOutput<typeof targetedFaultSchema>;

const faultsShape = {
  /** Added before every answer (after the upstream has answered, for forwarded calls). */
  latencyMs: scopedLatency,
  /** Share of calls answered with the service's throttling error. */
  throttleRate: scopedRate,
  /** Share of calls answered 500 or 503 (half each). */
  errorRate: scopedRate,
  /** Share of calls never answered. */
  hangRate: scopedRate,
  /** Share of calls whose connection is reset. */
  resetRate: scopedRate,
  /** Share of calls forwarded and applied upstream whose answer is then lost (see `lostAs`). */
  lostAnswerRate: scopedRate,
  /** What a random lost answer looks like to the client (default `error`: a 500). */
  lostAs: v.picklist(LOST_ANSWER_SHAPES),
  /** Deterministic faults, consumed in order; replaced as a whole by `setFaults`. */
  failNext: v.array(targetedFaultSchema),
};

export const proxyFaultsSchema = strictObject(faultsShape);
export const proxyFaultsPatchSchema = partialStrictObject(faultsShape);
export type ProxyFaults = v.InferOutput<typeof proxyFaultsSchema>;
/** What `setFaults` and `POST /__proxy/faults` take: any subset of the fields. */
export type ProxyFaultsPatch = v.InferInput<typeof proxyFaultsPatchSchema>;

/** No fault at all: the proxy is transparent. */
export const noProxyFaults = (): ProxyFaults => ({
  latencyMs: 0,
  throttleRate: 0,
  errorRate: 0,
  hangRate: 0,
  resetRate: 0,
  lostAnswerRate: 0,
  lostAs: 'error',
  failNext: [],
});

/** A fault chosen for one call. */
export interface InjectedProxyFault {
  kind: ProxyFaultKind;
  when: 'before' | 'after';
  source: 'failNext' | 'random';
  code?: string;
  message?: string;
  httpStatus?: number;
}

const applies = (list: readonly string[] | undefined, operation: string): boolean =>
  list === undefined || list.includes(operation);

/** The rate for `operation`: 0 when the rate is scoped to other operations. */
const rateFor = (value: ScopedRate, operation: string): number =>
  typeof value === 'number' ? value : applies(value.operations, operation) ? value.rate : 0;

const rateValue = (value: ScopedRate): number => (typeof value === 'number' ? value : value.rate);

const LOST_AS_KIND: Record<LostAnswerShape, ProxyFaultKind> = {
  error: 'error',
  reset: 'reset',
  hang: 'hang',
};

/**
 * Decides, call by call, which fault (if any) to inject: first a matching `failNext` rule, then
 * the random rates. Every decision draws the same two random numbers whatever happens, so a
 * seeded run replays identically even when a rule fires.
 */
export class ProxyFaultPlan {
  private config: ProxyFaults = noProxyFaults();
  private random: RandomSource;

  constructor(
    initial: ProxyFaultsPatch,
    private readonly seed: number,
    private readonly label: string,
  ) {
    this.random = createRandom(seed);
    this.update(initial);
  }

  /** The current faults, `failNext` showing what is left to fire. */
  get current(): ProxyFaults {
    return structuredClone(this.config);
  }

  /**
   * Merges a patch into the current faults (a given `failNext` replaces the list).
   *
   * @throws {TypeError} naming the proxy and the offending field when the patch is invalid.
   */
  update(patch: unknown): ProxyFaults {
    const parsed = parseOrThrow(proxyFaultsPatchSchema, patch, `${this.label} faults`);
    const next = { ...this.config, ...parsed };
    const { throttleRate, errorRate, hangRate, resetRate, lostAnswerRate } = next;
    // Checked without the operation filters: one roll decides, so the shares must fit in [0, 1).
    const sum = [throttleRate, errorRate, hangRate, resetRate, lostAnswerRate]
      .map(rateValue)
      .reduce((a, b) => a + b, 0);
    if (sum > 1) {
      throw new TypeError(
        `Invalid ${this.label} faults: throttleRate + errorRate + hangRate + resetRate + lostAnswerRate must be <= 1, ${sum} given`,
      );
    }
    this.config = next;
    return this.current;
  }

  /** Back to the given faults and the PRNG at its seed. */
  reset(initial: ProxyFaultsPatch): void {
    this.config = noProxyFaults();
    this.random = createRandom(this.seed);
    this.update(initial);
  }

  latencyFor(operation: string): number {
    const { latencyMs } = this.config;
    if (typeof latencyMs === 'number') return latencyMs;
    return applies(latencyMs.operations, operation) ? latencyMs.ms : 0;
  }

  decide(operation: string): InjectedProxyFault | undefined {
    const roll = this.random.next();
    const pick = this.random.next();
    const rule = this.takeRule(operation);
    if (rule) return rule;
    const { resetRate, hangRate, throttleRate, errorRate, lostAnswerRate, lostAs } = this.config;
    let threshold = 0;
    const below = (value: ScopedRate): boolean => {
      threshold += rateFor(value, operation);
      return roll < threshold;
    };
    if (below(resetRate)) return { kind: 'reset', when: 'before', source: 'random' };
    if (below(hangRate)) return { kind: 'hang', when: 'before', source: 'random' };
    if (below(throttleRate)) return { kind: 'throttle', when: 'before', source: 'random' };
    if (below(errorRate)) {
      return { kind: pick < 0.5 ? 'error' : 'unavailable', when: 'before', source: 'random' };
    }
    if (below(lostAnswerRate))
      return { kind: LOST_AS_KIND[lostAs], when: 'after', source: 'random' };
    return undefined;
  }

  private takeRule(operation: string): InjectedProxyFault | undefined {
    const index = this.config.failNext.findIndex((r) => applies(r.operations, operation));
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
}
