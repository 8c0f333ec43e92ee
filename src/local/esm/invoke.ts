import type { Context, SQSEvent } from 'aws-lambda';
import type { SqsBatchHandler } from './types.js';

export type InvocationOutcome =
  | { kind: 'returned'; response: unknown }
  | { kind: 'threw'; error: unknown }
  /** `settled` resolves when the abandoned handler finally returns or throws (it may never). */
  | { kind: 'timed-out'; settled: Promise<void> };

/**
 * Runs the handler once and waits for it at most `timeoutMs`.
 *
 * Lambda stops a timed-out invocation by freezing or killing its environment. In-process there is
 * no way to stop a promise: the handler keeps running after its batch has been declared failed,
 * and may still perform side effects. `settled` lets the caller account for it.
 */
export async function invokeWithTimeout(
  handler: SqsBatchHandler,
  event: SQSEvent,
  context: Context,
  timeoutMs: number,
): Promise<InvocationOutcome> {
  // The async wrapper turns a synchronous throw into a rejection.
  const run = (async () => handler(event, context))();
  const finished = run.then(
    (response): InvocationOutcome => ({ kind: 'returned', response }),
    (error: unknown): InvocationOutcome => ({ kind: 'threw', error }),
  );
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<InvocationOutcome>((resolve) => {
    timer = setTimeout(
      () => resolve({ kind: 'timed-out', settled: finished.then(() => undefined) }),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([finished, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
