import { fullJitterDelay, type Random } from '../core/backoff.js';
import { packBatches } from '../core/batch-size.js';
import type { Deadline } from '../core/deadline.js';
import { AwsCallError, FailureKind } from '../core/errors.js';
import type { AuditEntry, AuditEntryResult, AuditPublisher } from './ports.js';
import type { Sleep } from './redshift-gate.js';

/** `PutEvents` takes at most 10 entries per call. */
export const PUT_EVENTS_MAX_ENTRIES = 10;

/**
 * The entries of one `PutEvents` call must total less than 256 KB, by EventBridge's own count
 * (`AuditPublisher.entrySize`); a larger request is refused whole, as a permanent error. 250,000
 * stays under 256 KB whether KB means 1,000 or 1,024 bytes. (Newer announcements raise the
 * entry limit to 1 MB; the API reference still says 256 KB, so we keep the lower bound.)
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
 */
export const PUT_EVENTS_MAX_REQUEST_BYTES = 250_000;

export interface PublishOptions {
  publisher: AuditPublisher;
  deadline: Deadline;
  maxRounds: number;
  /** Time one `PutEvents` round needs, kept free before the deadline. */
  roundBudgetMs: number;
  /**
   * Time to keep after the last round for what must follow it (a DLQ copy at the last receive).
   * The first round is not held back by it: publishing is worth more than what follows a failure.
   */
  keepAfterMs?: number;
  sleep: Sleep;
  random?: Random;
}

/**
 * Publishes audit entries in as few `PutEvents` calls as possible — at most 10 entries and
 * `PUT_EVENTS_MAX_REQUEST_BYTES` per call, so that no call is refused for its size — then
 * retries, with backoff while the deadline allows, only the entries that failed with a retryable
 * code. An HTTP 200 can still carry failed entries, so every entry's result is read.
 *
 * @returns each entry's final result, by entry key.
 */
export const publishAuditEntries = async (
  entries: readonly AuditEntry[],
  options: PublishOptions,
): Promise<Map<string, AuditEntryResult>> => {
  const results = new Map<string, AuditEntryResult>();
  let pending = [...entries];
  for (let round = 0; pending.length > 0 && round < options.maxRounds; round += 1) {
    // Never start a round without its budget: an entry sent and then aborted may still have been
    // accepted, and its return would be audited a second time. Unsent, it comes back cleanly.
    if (round === 0 && !options.deadline.allows(options.roundBudgetMs)) break;
    if (round > 0) {
      const throttled = pending.some((entry) => {
        const result = results.get(entry.key);
        return result !== undefined && !result.ok && /Throttl/i.test(result.code);
      });
      const delay = fullJitterDelay(round - 1, throttled, undefined, options.random);
      if (!options.deadline.allows(delay + options.roundBudgetMs + (options.keepAfterMs ?? 0)))
        break;
      await options.sleep(delay);
    }
    // A round may run until the deadline (less what must follow it): a call that is slow but
    // accepted should be heard, since one aborted may still have been accepted and its return
    // would be audited a second time.
    const keepAfter = options.keepAfterMs ?? 0;
    const signal = options.deadline.signal(
      Math.max(options.roundBudgetMs, options.deadline.remainingMs() - keepAfter),
    );
    await Promise.all(
      packBatches(pending, {
        maxCount: PUT_EVENTS_MAX_ENTRIES,
        maxBytes: PUT_EVENTS_MAX_REQUEST_BYTES,
        sizeOf: (entry) => options.publisher.entrySize(entry),
      }).map(async (group) => {
        try {
          const outcomes = await options.publisher.publish(group, signal);
          group.forEach((entry, index) => {
            results.set(
              entry.key,
              outcomes[index] ?? {
                ok: false,
                code: 'MissingEntryResult',
                message: 'PutEvents returned fewer entries than sent',
                retryable: true,
              },
            );
          });
        } catch (error) {
          const failure: AuditEntryResult =
            error instanceof AwsCallError
              ? {
                  ok: false,
                  code: error.code,
                  message: error.message,
                  retryable: error.kind !== FailureKind.Permanent,
                }
              : { ok: false, code: 'UnexpectedError', message: String(error), retryable: true };
          for (const entry of group) results.set(entry.key, failure);
        }
      }),
    );
    pending = pending.filter((entry) => {
      const result = results.get(entry.key);
      return result !== undefined && !result.ok && result.retryable;
    });
  }
  return results;
};
