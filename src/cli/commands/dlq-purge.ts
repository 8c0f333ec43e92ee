import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import { type CommandContext, DEFAULT_WAIT_TIME_SECONDS, HOLD_SECONDS } from '../context.js';
import type { DlqEntry } from '../dlq-entry.js';
import { ConfirmationRefusedError, ExitCode } from '../errors.js';
import {
  describeFilter,
  filterFromFlags,
  isEmptyFilter,
  type MessageFilter,
  matchesFilter,
} from '../filters.js';
import { printJson, renderTable, startProgress } from '../output.js';
import { collectDlq, scanDlq } from '../selection.js';
import { getQueueAttributes, sqsCall } from '../sqs.js';
import {
  type CommandRunner,
  commonOptions,
  filterOptions,
  fromStage,
  parseCount,
} from './common.js';
import { LIST_COLUMNS } from './dlq-list.js';

export interface PurgeOptions {
  dlqUrl: string;
  filter: MessageFilter;
  max?: number;
  dryRun: boolean;
  yes: boolean;
  waitTimeSeconds?: number;
}

export interface PurgeSummary {
  matched: number;
  deleted: number;
  failedToDelete: number;
  /** PurgeQueue was used: SQS deletes everything within 60 s; counts are its estimate. */
  purgedWholeQueue: boolean;
}

export interface PurgeResult {
  exitCode: number;
  summary: PurgeSummary;
  /** What was (or, with --dry-run, would be) deleted. */
  entries: DlqEntry[];
}

const confirmOrRefuse = async (context: CommandContext, yes: boolean, question: string) => {
  if (yes) return;
  if (!(await context.confirm(question))) {
    throw new ConfirmationRefusedError('purge cancelled: nothing was deleted');
  }
};

const report = (context: CommandContext, options: PurgeOptions, result: PurgeResult) => {
  const { output } = context;
  if (output.json) {
    printJson(output, {
      dryRun: options.dryRun,
      dlqUrl: options.dlqUrl,
      filter: options.filter,
      summary: result.summary,
      messages: result.entries,
    });
  } else {
    const s = result.summary;
    output.result(
      `matched ${s.matched}, deleted ${s.deleted}, failed to delete ${s.failedToDelete}${options.dryRun ? ' (dry run)' : ''}`,
    );
  }
  return result;
};

/** No filter: the whole queue goes, with one PurgeQueue call, after showing its size. */
const purgeWholeQueue = async (
  context: CommandContext,
  options: PurgeOptions,
): Promise<PurgeResult> => {
  const attributes = await getQueueAttributes(context.sqs, options.dlqUrl, [
    'ApproximateNumberOfMessages',
    'ApproximateNumberOfMessagesNotVisible',
    'ApproximateNumberOfMessagesDelayed',
  ]);
  const visible = Number(attributes.ApproximateNumberOfMessages ?? 0);
  const inFlight = Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
  const delayed = Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0);
  const total = visible + inFlight + delayed;
  context.output.note(
    `PurgeQueue deletes EVERY message of ${options.dlqUrl}: about ${visible} visible, ${inFlight} in flight, ${delayed} delayed. Run 'revoker dlq list' first to see them.`,
  );
  const summary = { matched: total, deleted: 0, failedToDelete: 0, purgedWholeQueue: true };
  if (options.dryRun) return { exitCode: ExitCode.Ok, summary, entries: [] };
  await confirmOrRefuse(
    context,
    options.yes,
    `Purge all ~${total} message(s) of ${options.dlqUrl}?`,
  );
  await sqsCall('PurgeQueue', options.dlqUrl, () =>
    context.sqs.send(new PurgeQueueCommand({ QueueUrl: options.dlqUrl })),
  );
  context.output.note('purge started: SQS deletes the messages within 60 seconds');
  return { exitCode: ExitCode.Ok, summary: { ...summary, deleted: total }, entries: [] };
};

/**
 * `revoker dlq purge`: deletes the matching DLQ messages after showing them (and asking, unless
 * `--yes`). Without a filter or `--max` the whole queue is purged with `PurgeQueue`.
 *
 * @throws {ConfirmationRefusedError} without `--yes` when nobody can (or did) confirm.
 */
export const purgeDlq = async (
  context: CommandContext,
  options: PurgeOptions,
): Promise<PurgeResult> => {
  if (isEmptyFilter(options.filter) && options.max === undefined) {
    return report(context, options, await purgeWholeQueue(context, options));
  }
  const { output } = context;
  const waitTimeSeconds = options.waitTimeSeconds ?? DEFAULT_WAIT_TIME_SECONDS;
  const { found } = await collectDlq(context, {
    dlqUrl: options.dlqUrl,
    holdSeconds: HOLD_SECONDS.list,
    waitTimeSeconds,
    select: (d) => matchesFilter(options.filter, d.entry),
    ...(options.max !== undefined && { limit: options.max }),
  });
  const entries = found.map((d) => d.entry);
  const headline = `${describeFilter(options.filter)} in ${options.dlqUrl}: ${entries.length} to delete`;
  if (!output.json && entries.length > 0) output.result(renderTable(LIST_COLUMNS, entries));
  output.note(headline);
  const none = { matched: entries.length, deleted: 0, failedToDelete: 0, purgedWholeQueue: false };
  if (options.dryRun || entries.length === 0) {
    return report(context, options, { exitCode: ExitCode.Ok, summary: none, entries });
  }
  await confirmOrRefuse(
    context,
    options.yes,
    `Delete ${entries.length} message(s) from ${options.dlqUrl} for good?`,
  );

  const planned = new Set(entries.map((e) => e.messageId));
  const progress = startProgress(output, 'purge', planned.size);
  let deleted = 0;
  let failedToDelete = 0;
  const { matched } = await scanDlq(
    context,
    {
      dlqUrl: options.dlqUrl,
      holdSeconds: HOLD_SECONDS.act,
      waitTimeSeconds,
      select: (d) => planned.has(d.entry.messageId) && matchesFilter(options.filter, d.entry),
      limit: planned.size,
    },
    async (batch, reader) => {
      const failures = await reader.delete(batch.map((d) => d.entry.messageId));
      for (const failure of failures) {
        output.note(`not deleted: ${failure.messageId}: ${failure.code}: ${failure.message}`);
      }
      deleted += batch.length - failures.length;
      failedToDelete += failures.length;
      progress.advance(batch.length, `${deleted} deleted`);
    },
  ).finally(() => progress.stop());
  if (matched < planned.size) {
    output.note(`warning: ${planned.size - matched} planned message(s) were not found again`);
  }
  return report(context, options, {
    exitCode: failedToDelete > 0 ? ExitCode.Failed : ExitCode.Ok,
    summary: { matched, deleted, failedToDelete, purgedWholeQueue: false },
    entries,
  });
};

interface PurgeFlags {
  dlqUrl: string;
  error?: string;
  datashare?: string;
  eventId?: string;
  max?: number;
  dryRun?: boolean;
  yes?: boolean;
}

export const registerDlqPurge = (dlq: Command, run: CommandRunner): void => {
  commonOptions(
    filterOptions(
      dlq
        .command('purge')
        .summary('delete matching DLQ messages for good (all of them without a filter)')
        .usage(
          '(--stage NAME | --dlq-url URL) [--error CODE] [--datashare ARN] [--event-id ID] [--max N] [--dry-run] [--yes]',
        )
        .option('--dlq-url <url>', `the dead-letter queue URL ${fromStage('--dlq-url')}`),
    )
      .option('--max <n>', 'delete at most N matching messages', (v) => parseCount('--max', v))
      .option('--dry-run', 'show what would be deleted; change nothing')
      .option('--yes', 'do not ask for confirmation (required when stdin is not a terminal)'),
  )
    .addHelpText(
      'after',
      `
With a filter, the matching messages are shown, then deleted one batch at a time. Without one,
the whole queue is purged with PurgeQueue (SQS allows one purge per queue every 60 seconds).
Purged messages are gone: their audit events (FAILED/REJECTED) remain the only record.

Examples:
  $ revoker dlq purge --dlq-url $DLQ_URL --event-id pol-7/decision/0001 --dry-run
  $ revoker dlq purge --dlq-url $DLQ_URL --error SchemaViolation --yes
  $ revoker dlq purge --dlq-url $DLQ_URL`,
    )
    .action(
      run(async (context, flags: PurgeFlags) => {
        const result = await purgeDlq(context, {
          dlqUrl: flags.dlqUrl,
          filter: filterFromFlags(flags),
          ...(flags.max !== undefined && { max: flags.max }),
          dryRun: flags.dryRun === true,
          yes: flags.yes === true,
        });
        return result.exitCode;
      }),
    );
};
