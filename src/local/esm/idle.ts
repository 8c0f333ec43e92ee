import { sleep } from './backoff.js';
import {
  type EventSourceMappingError,
  EventSourceMappingStateError,
  type QueueDepth,
  SqsOperationError,
  WaitForIdleTimeoutError,
} from './errors.js';
import { isAbortError, type SourceQueue } from './source-queue.js';

export interface WaitForIdleOptions {
  /** How long the queue must stay drained before resolving. Default 250 ms. */
  quietMs?: number;
  /** Give up after this long. Default 60000; `Infinity` waits for ever. */
  timeoutMs?: number;
  /** Time between `GetQueueAttributes` calls. Default 100 ms. */
  pollIntervalMs?: number;
  signal?: AbortSignal;
}

export const IDLE_DEFAULTS = { quietMs: 250, timeoutMs: 60_000, pollIntervalMs: 100 } as const;

const isDrained = (depth: QueueDepth): boolean =>
  depth.visible === 0 && depth.notVisible === 0 && depth.delayed === 0;

/**
 * Resolves once the queue reports no visible, in-flight or delayed message and no batch is
 * between invocation and delete, continuously for `quietMs`.
 *
 * Delayed messages count because they are work still to come. On real SQS the approximate counts
 * lag (AWS: up to a minute after producers stop): use a larger `quietMs` there. fauxqs only
 * returns an expired in-flight message to the queue on the next receive, which is one reason this
 * needs the mapping running.
 *
 * @throws WaitForIdleTimeoutError after `timeoutMs`, with the last depth seen.
 * @throws SqsOperationError at once when `GetQueueAttributes` fails for a non-transient reason.
 * @throws EventSourceMappingStateError when `signal` aborts (the mapping stopped).
 */
export async function waitForQueueIdle(
  queue: SourceQueue,
  inFlightBatches: () => number,
  report: (error: EventSourceMappingError) => void,
  options: WaitForIdleOptions = {},
): Promise<void> {
  const quietMs = options.quietMs ?? IDLE_DEFAULTS.quietMs;
  const timeoutMs = options.timeoutMs ?? IDLE_DEFAULTS.timeoutMs;
  const pollIntervalMs = options.pollIntervalMs ?? IDLE_DEFAULTS.pollIntervalMs;
  const { signal } = options;
  const giveUpAt = Date.now() + timeoutMs;
  let idleSince: number | undefined;
  let lastDepth: QueueDepth | undefined;

  for (;;) {
    if (signal?.aborted) {
      throw new EventSourceMappingStateError(
        `stopped waiting for ${queue.queueUrl} to drain: ${String(signal.reason ?? 'aborted')}`,
      );
    }
    try {
      lastDepth = await queue.depth(signal);
      // A batch counts until its deletes and onBatch are done, even once SQS shows it gone.
      const idle = inFlightBatches() === 0 && isDrained(lastDepth);
      idleSince = idle ? (idleSince ?? Date.now()) : undefined;
      if (idleSince !== undefined && Date.now() - idleSince >= quietMs) return;
    } catch (error) {
      if (!isAbortError(error)) {
        if (!(error instanceof SqsOperationError) || !error.retryable) throw error;
        report(error);
        idleSince = undefined;
      }
    }
    if (Date.now() >= giveUpAt) {
      throw new WaitForIdleTimeoutError(queue.queueUrl, timeoutMs, {
        lastDepth,
        inFlightBatches: inFlightBatches(),
      });
    }
    await sleep(Math.min(pollIntervalMs, Math.max(0, giveUpAt - Date.now())), signal);
  }
}
