import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { chunk } from './batching.js';
import { type DescribedMessage, describeMessage, type ReceivedMessage } from './dlq-entry.js';
import { ExitCode, toCliError } from './errors.js';
import { sqsCall } from './sqs.js';

export interface DlqReaderOptions {
  sqs: SQSClient;
  queueUrl: string;
  /**
   * How long a received message stays invisible while the scan runs. Everything still held is
   * made visible again at the end (`releaseAll`), so this only matters if the CLI dies.
   */
  holdSeconds: number;
  /**
   * Long-poll wait per receive. With 0, SQS samples only some of its servers and may answer
   * "empty" while messages remain; 1 s makes it ask them all (the CLI's default).
   */
  waitTimeSeconds: number;
  now?: () => number;
}

export interface EntryFailure {
  messageId: string;
  code: string;
  message: string;
  /** The whole call failed in a way that will not heal (queue gone, access denied). */
  fatal: boolean;
}

/** Receives that bring nothing new before the scan gives up (held messages whose hold expired). */
const MAX_STALE_RECEIVES = 3;

/**
 * Reads a DLQ without consuming it. Every message received is held (invisible) and remembered by
 * messageId until it is deleted or released; a message seen again (its hold expired during a
 * long scan) is not handed out twice, but its newest receipt handle is kept. The scan ends when a
 * receive returns nothing, or only messages already seen.
 */
export class DlqReader {
  readonly #options: DlqReaderOptions;
  /** messageId → newest receipt handle, for every message held and not yet deleted. */
  readonly #held = new Map<string, string>();
  readonly #seen = new Set<string>();

  constructor(options: DlqReaderOptions) {
    this.#options = options;
  }

  get heldCount(): number {
    return this.#held.size;
  }

  /** Yields each receive's new messages, described. Stops early when `signal` aborts. */
  async *scan(signal?: AbortSignal): AsyncGenerator<DescribedMessage[]> {
    const { sqs, queueUrl, holdSeconds, waitTimeSeconds } = this.#options;
    const now = this.#options.now ?? Date.now;
    let staleReceives = 0;
    while (!signal?.aborted && staleReceives < MAX_STALE_RECEIVES) {
      const output = await sqsCall('ReceiveMessage', queueUrl, () =>
        sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: holdSeconds,
            WaitTimeSeconds: waitTimeSeconds,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
          }),
        ),
      );
      const received = output.Messages ?? [];
      if (received.length === 0) return;
      const fresh: DescribedMessage[] = [];
      for (const raw of received) {
        if (!raw.MessageId || !raw.ReceiptHandle) continue;
        this.#held.set(raw.MessageId, raw.ReceiptHandle);
        if (this.#seen.has(raw.MessageId)) continue;
        this.#seen.add(raw.MessageId);
        const message: ReceivedMessage = {
          messageId: raw.MessageId,
          receiptHandle: raw.ReceiptHandle,
          body: raw.Body ?? '',
          attributes: raw.MessageAttributes ?? {},
          system: raw.Attributes ?? {},
        };
        fresh.push(describeMessage(message, now()));
      }
      staleReceives = fresh.length === 0 ? staleReceives + 1 : 0;
      if (fresh.length > 0) yield fresh;
    }
  }

  /**
   * Deletes messages by id (with their newest receipt handle). Never throws: returns what was not
   * deleted, so a caller that already copied them elsewhere can account for every one.
   */
  async delete(messageIds: readonly string[]): Promise<EntryFailure[]> {
    const failures = await this.#batch('DeleteMessageBatch', messageIds, (QueueUrl, Entries) =>
      this.#options.sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries })),
    );
    const failed = new Set(failures.map((f) => f.messageId));
    for (const id of messageIds) if (!failed.has(id)) this.#held.delete(id);
    return failures;
  }

  /** Stops holding a message without making it visible (its hold simply runs out). */
  forget(messageId: string): void {
    this.#held.delete(messageId);
  }

  /**
   * Makes every held message visible again at once (visibility timeout 0), so the DLQ is left
   * as it was found. Returns what could not be released: those reappear when their hold ends.
   */
  async releaseAll(): Promise<EntryFailure[]> {
    const ids = [...this.#held.keys()];
    const failures = await this.#batch('ChangeMessageVisibilityBatch', ids, (QueueUrl, Entries) =>
      this.#options.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl,
          Entries: Entries.map((entry) => ({ ...entry, VisibilityTimeout: 0 })),
        }),
      ),
    );
    this.#held.clear();
    return failures;
  }

  /** Runs a batch call over message ids in groups of 10; a call that throws fails its group. */
  async #batch(
    operation: string,
    messageIds: readonly string[],
    call: (
      queueUrl: string,
      entries: { Id: string; ReceiptHandle: string }[],
    ) => Promise<{ Failed?: { Id?: string; Code?: string; Message?: string }[] }>,
  ): Promise<EntryFailure[]> {
    const { queueUrl } = this.#options;
    const failures: EntryFailure[] = [];
    for (const group of chunk(messageIds, 10)) {
      const entries = group.map((messageId, index) => ({
        Id: `m${index}`,
        ReceiptHandle: this.#held.get(messageId) ?? '',
      }));
      try {
        const output = await sqsCall(operation, queueUrl, () => call(queueUrl, entries));
        for (const failed of output.Failed ?? []) {
          const index = Number(failed.Id?.slice(1));
          failures.push({
            messageId: group[index] ?? String(failed.Id),
            code: failed.Code ?? 'Unknown',
            message: failed.Message ?? '',
            fatal: false,
          });
        }
      } catch (error) {
        const cliError = toCliError(error, operation, queueUrl);
        const code = 'code' in cliError ? String(cliError.code) : cliError.name;
        const fatal = cliError.exitCode === ExitCode.Unusable;
        for (const messageId of group) {
          failures.push({ messageId, code, message: cliError.message, fatal });
        }
      }
    }
    return failures;
  }
}

export interface MatchOptions {
  select: (described: DescribedMessage) => boolean;
  /** Stop once this many messages matched. */
  limit?: number;
  signal?: AbortSignal;
}

/**
 * Scans the DLQ and hands `handle` each receive's matching messages (up to `limit` in all).
 * Messages that do not match stay held until the caller's `releaseAll()`: releasing them at once
 * would only have the next receive return them again. Returns how many matched.
 */
export const forEachMatchingBatch = async (
  reader: DlqReader,
  options: MatchOptions,
  handle: (batch: DescribedMessage[]) => Promise<void>,
): Promise<number> => {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  let matched = 0;
  if (limit <= 0) return 0;
  for await (const batch of reader.scan(options.signal)) {
    const selected = batch.filter(options.select).slice(0, limit - matched);
    matched += selected.length;
    if (selected.length > 0) await handle(selected);
    if (matched >= limit || options.signal?.aborted) break;
  }
  return matched;
};
