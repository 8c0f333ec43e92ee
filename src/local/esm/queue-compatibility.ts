import type { Logger } from 'pino';
import { ESM_LIMITS } from './constants.js';
import { InvalidEventSourceMappingOptionError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import type { QueueDescription } from './source-queue.js';

/**
 * The checks `CreateEventSourceMapping` makes against the queue itself, run by `start()`.
 *
 * @throws InvalidEventSourceMappingOptionError when Lambda would refuse the mapping.
 */
export function checkQueueCompatibility(
  options: ResolvedOptions,
  queue: QueueDescription,
  logger: Logger,
): void {
  const { queueUrl, functionTimeoutMs, batchSize, batchingWindowMs } = options;
  const visibilityMs = queue.visibilityTimeoutSeconds * 1000;

  // Lambda refuses: "Queue visibility timeout: 30 seconds is less than Function timeout: 60
  // seconds". Otherwise a message reappears, and is processed twice, while its handler still runs.
  if (functionTimeoutMs > visibilityMs) {
    throw new InvalidEventSourceMappingOptionError(
      'functionTimeoutMs',
      `functionTimeoutMs must not exceed the visibility timeout of ${queueUrl} (${queue.visibilityTimeoutSeconds} s), ${functionTimeoutMs} given`,
      functionTimeoutMs,
    );
  }
  // AWS's advice: "at least six times the timeout that you configure on your function" plus the
  // batching window, so that throttled retries do not redeliver a message still being handled.
  if (visibilityMs < 6 * functionTimeoutMs + batchingWindowMs) {
    logger.warn(
      {
        visibilityTimeoutSeconds: queue.visibilityTimeoutSeconds,
        functionTimeoutMs,
        batchingWindowMs,
      },
      'the queue visibility timeout is below AWS advice (6 × function timeout + batching window)',
    );
  }

  if (queue.fifo) {
    if (batchSize > ESM_LIMITS.fifoBatchSize) {
      throw new InvalidEventSourceMappingOptionError(
        'batchSize',
        `batchSize must be between 1 and ${ESM_LIMITS.fifoBatchSize} for the FIFO queue ${queueUrl}, ${batchSize} given`,
        batchSize,
      );
    }
    if (batchingWindowMs > 0) {
      throw new InvalidEventSourceMappingOptionError(
        'maximumBatchingWindowInSeconds',
        `maximumBatchingWindowInSeconds must be 0 for the FIFO queue ${queueUrl}, ${batchingWindowMs / 1000} given`,
        batchingWindowMs / 1000,
      );
    }
  }
}
