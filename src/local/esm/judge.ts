import { readBatchResponse } from './batch-response.js';
import { BATCH_FAILURE_REASONS, BatchFailedError } from './errors.js';
import type { InvocationOutcome } from './invoke.js';
import { BATCH_OUTCOMES, type BatchOutcome } from './types.js';

export interface BatchJudgement {
  outcome: BatchOutcome;
  /** Set when Lambda would fail the whole batch. */
  failure: BatchFailedError | undefined;
  /** Messages to leave for SQS to redeliver: the reported ones, or all on a whole-batch failure. */
  failedMessageIds: ReadonlySet<string>;
}

/**
 * Turns an invocation's outcome into what Lambda does with the batch: a throw, a timeout or an
 * invalid response fails every message; otherwise only the reported ones fail.
 *
 * @example
 * judgeInvocation({ kind: 'returned', response: undefined }, ['id-1'], meta);
 * // → { outcome: 'succeeded', failure: undefined, failedMessageIds: Set {} }
 */
export function judgeInvocation(
  invocation: InvocationOutcome,
  messageIds: readonly string[],
  meta: { awsRequestId: string; timeoutMs: number },
): BatchJudgement {
  const failWhole = (failure: BatchFailedError): BatchJudgement => ({
    outcome: BATCH_OUTCOMES.failed,
    failure,
    failedMessageIds: new Set(messageIds),
  });
  const ids = { awsRequestId: meta.awsRequestId, messageIds };

  switch (invocation.kind) {
    case 'threw': {
      const { error } = invocation;
      const text = error instanceof Error ? error.message : String(error);
      return failWhole(
        new BatchFailedError(
          BATCH_FAILURE_REASONS.handlerError,
          `the handler failed: ${text}`,
          ids,
          {
            cause: error,
          },
        ),
      );
    }
    case 'timed-out':
      return failWhole(
        new BatchFailedError(
          BATCH_FAILURE_REASONS.timeout,
          `the handler did not settle within the function timeout (${meta.timeoutMs} ms)`,
          ids,
        ),
      );
    case 'returned': {
      const verdict = readBatchResponse(invocation.response, new Set(messageIds));
      if (verdict.kind === 'invalid') {
        return failWhole(
          new BatchFailedError(
            BATCH_FAILURE_REASONS.invalidResponse,
            `Lambda would fail the whole batch: ${verdict.problem}`,
            ids,
          ),
        );
      }
      return {
        outcome:
          verdict.failedMessageIds.size > 0
            ? BATCH_OUTCOMES.partiallyFailed
            : BATCH_OUTCOMES.succeeded,
        failure: undefined,
        failedMessageIds: verdict.failedMessageIds,
      };
    }
  }
}
