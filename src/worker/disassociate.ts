import pRetry, { AbortError } from 'p-retry';
import {
  type BackoffPolicy,
  DEFAULT_BACKOFF,
  fullJitterDelay,
  type Random,
} from '../core/backoff.js';
import type { Deadline } from '../core/deadline.js';
import {
  ConsumerRoleError,
  DeadlineExceededError,
  FailureKind,
  RedshiftCallError,
} from '../core/errors.js';
import { Outcome } from '../core/outcome.js';
import type { DisassociationTarget } from '../core/target.js';
import type { DataShareRevoker, DisassociationResult } from './ports.js';
import {
  type ControlPlaneGate,
  NOT_STARTED,
  sleep as realSleep,
  type Sleep,
} from './redshift-gate.js';

export interface RetryOptions {
  revoker: DataShareRevoker;
  gate: ControlPlaneGate;
  region: string;
  /** Act as the consumer role in the target's account (hub mode) rather than as the function. */
  assumeRole: boolean;
  deadline: Deadline;
  maxAttempts: number;
  requestTimeoutMs: number;
  /** An attempt is not started with less time than this before the deadline. */
  minAttemptMs: number;
  random?: Random;
  sleep?: Sleep;
  /** Epoch ms; default `Date.now`. */
  clock?: () => number;
  onAttempt?: (attempt: number) => void;
  onRetryableFailure?: (error: RedshiftCallError) => void;
  /**
   * Asked just before each attempt, after the gate made it wait `waitedMs`: meanwhile another
   * container may have confirmed the target revoked. Returning the eventId that did skips the call.
   */
  satisfiedMeanwhile?: (waitedMs: number) => Promise<string | undefined>;
}

export interface RetryOutcome {
  result: DisassociationResult;
  attempts: number;
  /**
   * Epoch ms at which the successful call was sent (rule 5's confirmation time: a re-association
   * after this instant may not be covered by the call, whatever it answered later).
   */
  sentAt: number;
  /** Set when no call was needed after all: the eventId whose call confirmed the target. */
  satisfiedBy?: string;
}

/**
 * A target's Redshift call (the disassociation, or the read of its associations before it) failed
 * for good or ran out of attempts or time; `attempts` says how many were made.
 */
export class DisassociationFailedError extends Error {
  readonly attempts: number;
  constructor(cause: RedshiftCallError | DeadlineExceededError, attempts: number) {
    super(cause.message, { cause });
    this.name = 'DisassociationFailedError';
    this.attempts = attempts;
  }

  override get cause(): RedshiftCallError | DeadlineExceededError {
    return super.cause as RedshiftCallError | DeadlineExceededError;
  }

  /** Whether a later try (after a visibility timeout) could succeed. */
  get retryable(): boolean {
    return this.cause instanceof DeadlineExceededError || this.cause.retryable;
  }
}

/** A shared-pace request waits at most this long, then the container paces alone. */
const PACE_REQUEST_CAP_MS = 1000;

/**
 * Disassociates one target, retrying throttles and transient faults (see `withRedshiftRetry`).
 * Just before each attempt, `satisfiedMeanwhile` may say another container confirmed the target:
 * then no call is made.
 *
 * @throws {DisassociationFailedError} wrapping a permanent error, the last retryable one, or a
 * `DeadlineExceededError` when no time was left to try.
 */
export const disassociateWithRetry = async (
  target: DisassociationTarget,
  options: RetryOptions,
): Promise<RetryOutcome> => {
  let satisfiedBy: string | undefined;
  const { result, attempts, sentAt } = await withRedshiftRetry(
    target,
    options,
    (signal) =>
      options.revoker.disassociate(target, {
        region: options.region,
        assumeRole: options.assumeRole,
        signal,
      }),
    async (waitedMs) => {
      satisfiedBy = await options.satisfiedMeanwhile?.(waitedMs);
      return satisfiedBy === undefined
        ? undefined
        : { outcome: Outcome.AlreadyRevoked, associations: [] };
    },
  );
  return satisfiedBy === undefined
    ? { result, attempts, sentAt }
    : { result, attempts, sentAt: (options.clock ?? Date.now)(), satisfiedBy };
};

/**
 * The retry backoff of Redshift calls: the SDK's numbers, except that a throttle draws from the
 * same 100 ms base as a transient fault, not the SDK's 500 ms. The control plane's gate is what
 * answers a throttle here: it cuts the rate and re-spaces the retry (and every other call to that
 * control plane) at the new rate, which the SDK's standard mode, with no such gate, cannot do. A
 * second, longer wait on top of it held the throttled call's batch, and every other account's
 * messages in it, for nothing Redshift needed (stormMultiAccount: drain 1.07–1.31 × its floor
 * with the 500 ms base, 1.08–1.15 with this one; docs/performance.md).
 */
export const REDSHIFT_BACKOFF: BackoffPolicy = {
  ...DEFAULT_BACKOFF,
  throttleBaseMs: DEFAULT_BACKOFF.baseMs,
};

/**
 * Runs one Redshift operation for a target with the worker's retry rules: throttles and transient
 * faults are retried with full-jitter exponential backoff (p-retry drives the loop; the delay is
 * ours because p-retry's `randomize` is not full jitter), every attempt goes through the control
 * plane's gate, no attempt starts unless it can finish before the deadline, and each attempt is
 * aborted when its time is up, so the invocation always returns in time. `skip`, asked inside the
 * gate before each attempt, may answer instead of a call.
 *
 * @throws {DisassociationFailedError} wrapping a permanent error, the last retryable one, or a
 * `DeadlineExceededError` when no time was left to try.
 */
export const withRedshiftRetry = async <T>(
  target: DisassociationTarget,
  options: Omit<RetryOptions, 'revoker' | 'satisfiedMeanwhile'>,
  call: (signal: AbortSignal) => Promise<T>,
  skip?: (waitedMs: number) => Promise<T | undefined>,
): Promise<{ result: T; attempts: number; sentAt: number }> => {
  const { deadline, gate } = options;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? realSleep;
  const clock = options.clock ?? Date.now;
  let attempts = 0;
  let nextDelayMs = 0;
  let sentAt = 0;

  const attempt = async (): Promise<T> => {
    if (nextDelayMs > 0) await sleep(nextDelayMs);
    const outcome = await gate
      .run(
        async (waitedMs): Promise<T> => {
          const instead = await skip?.(waitedMs);
          if (instead !== undefined) return instead;
          attempts += 1;
          sentAt = clock();
          try {
            const answer = await call(deadline.signal(options.requestTimeoutMs));
            options.onAttempt?.(attempts);
            return answer;
          } catch (error) {
            // `attempts` counts Redshift calls: a role that could not be assumed made none.
            if (error instanceof ConsumerRoleError) attempts -= 1;
            else options.onAttempt?.(attempts);
            throw error;
          }
        },
        {
          canStart: (waitMs) => deadline.allows(waitMs + options.minAttemptMs),
          // The shared pace's store requests end with the Redshift phase, and soon.
          signal: () => deadline.signal(PACE_REQUEST_CAP_MS),
          isThrottle: (error) =>
            error instanceof RedshiftCallError && error.kind === FailureKind.Throttled,
        },
      )
      .catch((error: unknown) => {
        if (error instanceof RedshiftCallError) {
          if (error.retryable) options.onRetryableFailure?.(error);
          else throw new AbortError(error);
        }
        throw error;
      });
    if (outcome === NOT_STARTED) {
      throw new AbortError(
        new DeadlineExceededError('No time left before the Lambda deadline to call Redshift', {
          dataShareArn: target.dataShareArn,
        }),
      );
    }
    return outcome;
  };

  try {
    const result = await pRetry(attempt, {
      retries: options.maxAttempts - 1,
      minTimeout: 0,
      shouldRetry: ({ error, retriesConsumed }) => {
        if (!(error instanceof RedshiftCallError) || !error.retryable) return false;
        nextDelayMs = fullJitterDelay(
          retriesConsumed,
          error.kind === FailureKind.Throttled,
          REDSHIFT_BACKOFF,
          random,
        );
        return deadline.allows(nextDelayMs + options.minAttemptMs);
      },
    });
    return { result, attempts, sentAt };
  } catch (error) {
    if (error instanceof RedshiftCallError || error instanceof DeadlineExceededError) {
      throw new DisassociationFailedError(error, attempts);
    }
    throw error;
  }
};
