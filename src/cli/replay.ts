import {
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
} from '@aws-sdk/client-sqs';
import { chunkBySize, SEND_BATCH_MAX_ENTRIES } from './batching.js';
import type { CommandContext } from './context.js';
import type { DescribedMessage, DlqEntry } from './dlq-entry.js';
import type { DlqReader, EntryFailure } from './dlq-reader.js';
import { CliError, ExitCode } from './errors.js';
import { originalAttributesOf, replayAttributes } from './message-attributes.js';
import type { Progress } from './output.js';
import { Pacer } from './rate.js';
import { scanDlq } from './selection.js';
import { sqsCall } from './sqs.js';

/** The loop guard's default: a message replayed this many times is refused without `--force`. */
export const DEFAULT_MAX_REPLAYS = 3;

export interface ReplayPolicy {
  maxReplays: number;
  force: boolean;
}

export type ReplayDecision = { action: 'replay' } | { action: 'skip'; reason: string };

/**
 * Whether a message may go back. Refused without `--force`: a message replayed `maxReplays` times
 * already (the loop guard: the cause is evidently not fixed), and a body the worker would reject
 * again (replaying it cannot help; the producer must send a corrected decision).
 */
export const decideReplay = (entry: DlqEntry, policy: ReplayPolicy): ReplayDecision => {
  if (policy.force) return { action: 'replay' };
  if (entry.replayCount >= policy.maxReplays) {
    return {
      action: 'skip',
      reason: `replayed ${entry.replayCount} time(s) already (--max-replays ${policy.maxReplays}); fix the cause, or --force`,
    };
  }
  if (entry.bodyProblem !== null) {
    return {
      action: 'skip',
      reason: `the worker would reject the body again (${entry.bodyProblem}); --force to replay anyway`,
    };
  }
  return { action: 'replay' };
};

export const ReplayStatus = {
  Replayed: 'replayed',
  SentButNotDeleted: 'sentButNotDeleted',
  FailedToSend: 'failedToSend',
  Skipped: 'skipped',
} as const;
export type ReplayStatus = (typeof ReplayStatus)[keyof typeof ReplayStatus];

export interface MessageResult {
  messageId: string;
  eventId: string | null;
  dataShareArn: string | null;
  status: ReplayStatus;
  /** The copy's messageId on the source queue. */
  newMessageId?: string;
  detail?: string;
}

export interface ReplaySummary {
  matched: number;
  replayed: number;
  sentButNotDeleted: number;
  failedToSend: number;
  skipped: number;
}

export interface ReplayRun {
  dlqUrl: string;
  queueUrl: string;
  select: (described: DescribedMessage) => boolean;
  limit?: number;
  policy: ReplayPolicy;
  ratePerSecond?: number;
  reason?: string;
  holdSeconds: number;
  waitTimeSeconds: number;
  progress: Progress;
}

export interface ReplayOutcome {
  summary: ReplaySummary;
  results: MessageResult[];
  /** Set when the run stopped early because SQS refused in a way that will not heal. */
  stoppedBy?: CliError;
}

const bytesOf = (body: string, attributes: Record<string, MessageAttributeValue>): number =>
  Buffer.byteLength(body) +
  Object.entries(attributes).reduce(
    (sum, [name, value]) =>
      sum +
      Buffer.byteLength(name) +
      Buffer.byteLength(value.DataType ?? '') +
      Buffer.byteLength(value.StringValue ?? '') +
      (value.BinaryValue?.byteLength ?? 0),
    0,
  );

const resultOf = (
  described: DescribedMessage,
  status: ReplayStatus,
  extra: { newMessageId?: string; detail?: string } = {},
): MessageResult => ({
  messageId: described.entry.messageId,
  eventId: described.entry.eventId,
  dataShareArn: described.entry.dataShareArn,
  status,
  ...extra,
});

/**
 * Moves the selected DLQ messages back to the source queue: `SendMessageBatch` (original body,
 * original attributes unfolded, the replay stamp), then `DeleteMessageBatch` on the DLQ for exactly
 * the entries SQS accepted. A message whose send failed stays in the DLQ and is made visible again;
 * one sent but not deleted is reported (the worker deduplicates it by eventId). Nothing is deleted
 * that was not sent, and nothing is sent twice by one run.
 */
export const executeReplay = async (
  context: CommandContext,
  run: ReplayRun,
): Promise<ReplayOutcome> => {
  const { sqs, now, sleep, signal } = context;
  const results: MessageResult[] = [];
  const replayedBy = await context.identity();
  const batchSize = run.ratePerSecond
    ? Math.min(SEND_BATCH_MAX_ENTRIES, Math.max(1, Math.floor(run.ratePerSecond)))
    : SEND_BATCH_MAX_ENTRIES;
  const pacer = run.ratePerSecond ? new Pacer(run.ratePerSecond, now, sleep) : undefined;
  let stoppedBy: CliError | undefined;
  let matchedSoFar = 0;

  const sendGroup = async (group: DescribedMessage[], reader: DlqReader): Promise<void> => {
    const replayedAt = new Date(now()).toISOString();
    const entries = group.map((described, index) => ({
      Id: `m${index}`,
      MessageBody: described.message.body,
      MessageAttributes: replayAttributes(originalAttributesOf(described.flat), {
        replayCount: described.entry.replayCount + 1,
        replayedBy,
        replayedAt,
        ...(run.reason !== undefined && { reason: run.reason }),
      }),
    }));
    let output: SendMessageBatchCommandOutput;
    try {
      output = await sqsCall('SendMessageBatch', run.queueUrl, () =>
        // No abortSignal: a send cut off by Ctrl-C could be accepted without our knowing.
        sqs.send(new SendMessageBatchCommand({ QueueUrl: run.queueUrl, Entries: entries })),
      );
    } catch (error) {
      // Nothing of this group is deleted: at worst (a lost response) a copy exists in both queues.
      const detail = error instanceof Error ? error.message : String(error);
      for (const described of group) results.push(resultOf(described, 'failedToSend', { detail }));
      if (error instanceof CliError && error.exitCode === ExitCode.Unusable) stoppedBy = error;
      run.progress.advance(group.length, `${group.length} failed to send`);
      return;
    }
    const sentIds = new Map<number, string>();
    for (const ok of output.Successful ?? []) {
      sentIds.set(Number(ok.Id?.slice(1)), ok.MessageId ?? '');
    }
    const failedById = new Map((output.Failed ?? []).map((f) => [Number(f.Id?.slice(1)), f]));
    const sent: { described: DescribedMessage; newMessageId: string }[] = [];
    group.forEach((described, index) => {
      const newMessageId = sentIds.get(index);
      if (newMessageId !== undefined) {
        sent.push({ described, newMessageId });
        return;
      }
      const failed = failedById.get(index);
      const detail = failed
        ? `${failed.Code ?? 'Unknown'}: ${failed.Message ?? ''}`
        : 'SendMessageBatch returned no result for the entry';
      results.push(resultOf(described, 'failedToSend', { detail }));
    });

    // Delete exactly what SQS accepted; retry a refused delete once before reporting it.
    const ids = sent.map((s) => s.described.entry.messageId);
    let deleteFailures: EntryFailure[] = ids.length > 0 ? await reader.delete(ids) : [];
    const retryable = deleteFailures.filter((f) => !f.fatal).map((f) => f.messageId);
    if (retryable.length > 0) {
      const retried = await reader.delete(retryable);
      deleteFailures = [...deleteFailures.filter((f) => f.fatal), ...retried];
    }
    const notDeleted = new Map(deleteFailures.map((f) => [f.messageId, f]));
    for (const { described, newMessageId } of sent) {
      const failure = notDeleted.get(described.entry.messageId);
      if (failure) {
        // Leave it held rather than visible: it is already on the source queue.
        reader.forget(described.entry.messageId);
        results.push(
          resultOf(described, 'sentButNotDeleted', {
            newMessageId,
            detail: `${failure.code}: ${failure.message}`,
          }),
        );
        if (failure.fatal && !stoppedBy) {
          stoppedBy = new CliError(failure.message, ExitCode.Unusable);
        }
      } else {
        results.push(resultOf(described, 'replayed', { newMessageId }));
      }
    }
    const failedCount = group.length - sent.length;
    run.progress.advance(
      group.length,
      [
        `${sent.length - notDeleted.size} replayed`,
        notDeleted.size > 0 && `${notDeleted.size} sent but not deleted`,
        failedCount > 0 && `${failedCount} failed to send`,
      ]
        .filter(Boolean)
        .join(', '),
    );
  };

  const { matched } = await scanDlq(
    context,
    {
      dlqUrl: run.dlqUrl,
      holdSeconds: run.holdSeconds,
      waitTimeSeconds: run.waitTimeSeconds,
      select: run.select,
      ...(run.limit !== undefined && { limit: run.limit }),
    },
    async (batch, reader) => {
      matchedSoFar += batch.length;
      const toSend: DescribedMessage[] = [];
      for (const described of batch) {
        const decision = decideReplay(described.entry, run.policy);
        if (decision.action === 'skip') {
          results.push(resultOf(described, 'skipped', { detail: decision.reason }));
          run.progress.advance(1, 'skipped');
        } else {
          toSend.push(described);
        }
      }
      const groups = chunkBySize(
        toSend,
        (d) => bytesOf(d.message.body, d.message.attributes) + 512,
        batchSize,
      );
      for (const group of groups) {
        if (stoppedBy || signal?.aborted) break;
        // An aborted wait ends the run quietly: the unsent messages are released with the rest.
        await pacer?.take(group.length, signal).catch(() => undefined);
        if (signal?.aborted) break;
        await sendGroup(group, reader);
      }
      if (stoppedBy) throw stoppedBy;
    },
  ).catch((error: unknown) => {
    // A fatal error mid-run still yields the summary of what was done before it.
    if (error === stoppedBy) return { matched: matchedSoFar };
    throw error;
  });

  const count = (status: ReplayStatus) => results.filter((r) => r.status === status).length;
  return {
    summary: {
      matched,
      replayed: count('replayed'),
      sentButNotDeleted: count('sentButNotDeleted'),
      failedToSend: count('failedToSend'),
      skipped: count('skipped'),
    },
    results,
    ...(stoppedBy && { stoppedBy }),
  };
};
