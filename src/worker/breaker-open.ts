import type { Deadline } from '../core/deadline.js';
import { Outcome } from '../core/outcome.js';
import { queueUrlFromArn } from '../core/sqs-arn.js';
import {
  atLastReceive,
  errorSummary,
  type Invocation,
  type Tracked,
  type WorkerDependencies,
} from './batch-state.js';
import type { RequeueCopy } from './ports.js';
import type { Delivery } from './prepare.js';
import { deadLetterCopy, originalAttributes } from './quarantine.js';

// ── What the breaker does once it is open: read when it first holds a decision ──

/**
 * Gives back the messages of decisions held by the open breaker without burning a receive: each
 * is sent again to its queue as a new message (receive count 0, after a delay of
 * `RETRY_BACKOFF_BASE_SECONDS`), and acknowledged once SQS accepted the copy. With the mapping
 * disabled the copies wait in the queue until `revoker resume`. A copy SQS refuses leaves its
 * message to come back (a receive burned); at the last receive it is dead-lettered with the reason
 * `BreakerOpen` instead of being left to SQS's silent redrive.
 */
export const holdForBreaker = async (
  tracked: readonly Tracked[],
  deps: WorkerDependencies,
  invocation: Invocation,
  fail: (deliveries: readonly Delivery[]) => void,
): Promise<void> => {
  const held = tracked.filter((t) => t.state.kind === 'held');
  if (held.length === 0) return;
  const delaySeconds = Math.min(900, deps.settings.retryBackoffBaseSeconds);
  const copies: { delivery: Delivery; copy: RequeueCopy }[] = [];
  for (const t of held)
    for (const delivery of t.decision.deliveries) {
      const queueArn = delivery.record.eventSourceARN;
      if (!queueArn) {
        fail([delivery]);
        continue;
      }
      copies.push({
        delivery,
        copy: {
          id: delivery.record.messageId,
          queueUrl: queueUrlFromArn(queueArn),
          delaySeconds,
          body: delivery.record.body ?? '',
          attributes: originalAttributes(delivery),
        },
      });
    }
  const { finalDeadline: deadline } = invocation;
  const results = deadline.allows(1)
    ? await deps.queue
        .requeue(
          copies.map(({ copy }) => copy),
          deadline.signal(),
        )
        .catch((error: unknown) =>
          copies.map(() => ({ ok: false as const, ...errorSummary(error) })),
        )
    : copies.map(() => ({ ok: false as const, code: 'DeadlineExceeded', message: 'no time left' }));
  const refused: { delivery: Delivery; code: string; message: string }[] = [];
  copies.forEach(({ delivery }, index) => {
    const result = results[index];
    if (result?.ok) {
      delivery.log.info('breaker open: held; sent back to the queue as a new message');
      return;
    }
    const code = result?.code ?? 'Unknown';
    const message = result?.message ?? 'no answer';
    if (atLastReceive([delivery], deps.settings)) {
      refused.push({ delivery, code, message });
      return;
    }
    fail([delivery]);
    delivery.log.error(
      { code, error: message },
      'breaker open: could not send the held message back as a new one; it comes back as it is',
    );
  });
  await deadLetterRefusedAtLastReceive(refused, deps, deadline, fail);
};

/** Error code of a held decision dead-lettered because its copy was refused at its last receive. */
export const BREAKER_OPEN = 'BreakerOpen';

/**
 * A held message whose copy SQS refused at its last receive would come back once more and be moved
 * to the DLQ by SQS with no reason. It is dead-lettered here instead, saying why (FAILED,
 * `BreakerOpen`), so `revoker dlq replay` can return it after `resume`; if that copy fails too, it
 * comes back and SQS moves it (logged).
 */
const deadLetterRefusedAtLastReceive = async (
  refused: readonly { delivery: Delivery; code: string; message: string }[],
  deps: WorkerDependencies,
  deadline: Deadline,
  fail: (deliveries: readonly Delivery[]) => void,
): Promise<void> => {
  if (refused.length === 0) return;
  const failedAt = new Date(deps.clock()).toISOString();
  const copies = refused.map(({ delivery, code, message }) =>
    deadLetterCopy(
      delivery,
      Outcome.Failed,
      {
        code: BREAKER_OPEN,
        message: `The breaker held this decision (no Redshift call was made) and SQS refused its copy back to the queue at the last receive (${code}: ${message}). Replay it after revoker resume.`,
      },
      failedAt,
    ),
  );
  const results = deadline.allows(1)
    ? await deps.queue
        .sendToDeadLetterQueue(copies, deadline.signal())
        .catch((error: unknown) =>
          copies.map(() => ({ ok: false as const, ...errorSummary(error) })),
        )
    : copies.map(() => ({ ok: false as const, code: 'DeadlineExceeded', message: 'no time left' }));
  refused.forEach(({ delivery }, index) => {
    const result = results[index];
    if (result?.ok) {
      delivery.log.warn(
        { errorCode: BREAKER_OPEN },
        'breaker open: its copy back to the queue was refused at the last receive; dead-lettered with the reason',
      );
      return;
    }
    fail([delivery]);
    delivery.log.error(
      { code: result?.code, error: result?.message },
      'breaker open: neither copy back nor dead-letter copy accepted at the last receive; SQS will move it without a reason',
    );
  });
};
