import type { Command } from 'commander';
import { type CommandContext, DEFAULT_WAIT_TIME_SECONDS, HOLD_SECONDS } from '../context.js';
import type { DlqEntry } from '../dlq-entry.js';
import { ConfirmationRefusedError, ExitCode, UsageError } from '../errors.js';
import { describeFilter, filterFromFlags, type MessageFilter, matchesFilter } from '../filters.js';
import { type Column, printJson, renderTable, startProgress } from '../output.js';
import { parseRate } from '../rate.js';
import {
  DEFAULT_MAX_REPLAYS,
  decideReplay,
  executeReplay,
  type MessageResult,
  type ReplayDecision,
  type ReplayPolicy,
  type ReplaySummary,
} from '../replay.js';
import { collectDlq } from '../selection.js';
import { getQueueAttributes } from '../sqs.js';
import {
  type CommandRunner,
  commonOptions,
  filterOptions,
  fromStage,
  parseCount,
  parseNonNegative,
  parseReason,
} from './common.js';

export interface ReplayOptions {
  dlqUrl: string;
  queueUrl: string;
  filter: MessageFilter;
  max?: number;
  ratePerSecond?: number;
  dryRun: boolean;
  yes: boolean;
  reason?: string;
  policy: ReplayPolicy;
  waitTimeSeconds?: number;
}

export interface PlannedReplay {
  entry: DlqEntry;
  decision: ReplayDecision;
}

export interface ReplayCommandResult {
  exitCode: number;
  plan: PlannedReplay[];
  summary: ReplaySummary;
  results: MessageResult[];
}

const PLAN_COLUMNS: readonly Column<PlannedReplay>[] = [
  { header: 'EVENT ID', value: (p) => p.entry.eventId ?? '-', maxWidth: 40 },
  { header: 'DATASHARE', value: (p) => p.entry.dataShareArn ?? '-' },
  { header: 'ERROR', value: (p) => p.entry.errorCode ?? p.entry.why, maxWidth: 40 },
  { header: 'REPLAYS', value: (p) => String(p.entry.replayCount) },
  {
    header: 'ACTION',
    value: (p) => (p.decision.action === 'replay' ? 'replay' : `skip: ${p.decision.reason}`),
    maxWidth: 100,
  },
];

const emptySummary = (plan: readonly PlannedReplay[]): ReplaySummary => ({
  matched: plan.length,
  replayed: 0,
  sentButNotDeleted: 0,
  failedToSend: 0,
  skipped: plan.filter((p) => p.decision.action === 'skip').length,
});

const summaryLine = (s: ReplaySummary): string =>
  `matched ${s.matched}, replayed ${s.replayed}, sent but not deleted ${s.sentButNotDeleted}, failed to send ${s.failedToSend}, skipped ${s.skipped}`;

/** Both queues must exist, and differ: a replay into its own DLQ would loop for ever. */
const preflight = async (context: CommandContext, options: ReplayOptions): Promise<void> => {
  if (options.dlqUrl === options.queueUrl) {
    throw new UsageError(`--queue-url must differ from --dlq-url, both are ${options.dlqUrl}`);
  }
  const [dlq, source] = await Promise.all([
    getQueueAttributes(context.sqs, options.dlqUrl, ['QueueArn']),
    getQueueAttributes(context.sqs, options.queueUrl, ['QueueArn']),
  ]);
  if (dlq.QueueArn !== undefined && dlq.QueueArn === source.QueueArn) {
    throw new UsageError(
      `--queue-url and --dlq-url name the same queue (${dlq.QueueArn}): replay needs the source queue`,
    );
  }
};

const printOutcome = (
  context: CommandContext,
  options: ReplayOptions,
  plan: readonly PlannedReplay[],
  summary: ReplaySummary,
  results: readonly MessageResult[],
): void => {
  const { output } = context;
  if (output.json) {
    printJson(output, {
      dryRun: options.dryRun,
      dlqUrl: options.dlqUrl,
      queueUrl: options.queueUrl,
      filter: options.filter,
      plan: plan.map((p) => ({
        messageId: p.entry.messageId,
        eventId: p.entry.eventId,
        dataShareArn: p.entry.dataShareArn,
        errorCode: p.entry.errorCode,
        replayCount: p.entry.replayCount,
        action: p.decision.action,
        ...(p.decision.action === 'skip' && { reason: p.decision.reason }),
      })),
      summary,
      results,
    });
    return;
  }
  output.result(summaryLine(summary));
  const list = (status: MessageResult['status'], heading: string) => {
    const matching = results.filter((r) => r.status === status);
    if (matching.length === 0) return;
    output.result(heading);
    for (const r of matching) {
      output.result(`  ${r.messageId}  eventId ${r.eventId ?? '-'}  ${r.detail ?? ''}`.trimEnd());
    }
  };
  list(
    'failedToSend',
    'failed to send (still in the DLQ, visible again; replay them again later):',
  );
  list(
    'sentButNotDeleted',
    `sent but not deleted (now on both queues; the worker acts once per eventId; remove the DLQ copies with: revoker dlq purge --dlq-url ${options.dlqUrl} --event-id ID):`,
  );
};

/**
 * `revoker dlq replay`: plans (a read-only pass that shows what would move and what the loop guard
 * refuses), asks for confirmation unless `--yes`, then moves exactly the planned messages.
 * `--dry-run` stops after the plan.
 *
 * @throws {UsageError} when the two queues are the same.
 * @throws {ConfirmationRefusedError} without `--yes` when nobody can (or did) confirm.
 */
export const replayDlq = async (
  context: CommandContext,
  options: ReplayOptions,
): Promise<ReplayCommandResult> => {
  const { output } = context;
  await preflight(context, options);
  const waitTimeSeconds = options.waitTimeSeconds ?? DEFAULT_WAIT_TIME_SECONDS;
  const select = (entry: DlqEntry) => matchesFilter(options.filter, entry);

  const { found } = await collectDlq(context, {
    dlqUrl: options.dlqUrl,
    holdSeconds: HOLD_SECONDS.list,
    waitTimeSeconds,
    select: (d) => select(d.entry),
    ...(options.max !== undefined && { limit: options.max }),
  });
  const plan = found.map((d) => ({
    entry: d.entry,
    decision: decideReplay(d.entry, options.policy),
  }));
  const toReplay = plan.filter((p) => p.decision.action === 'replay').length;
  const done = (exitCode: number): ReplayCommandResult => {
    const summary = emptySummary(plan);
    printOutcome(context, options, plan, summary, []);
    return { exitCode, plan, summary, results: [] };
  };

  const headline = `${describeFilter(options.filter)} in ${options.dlqUrl}: ${plan.length} found, ${toReplay} to replay to ${options.queueUrl}, ${plan.length - toReplay} refused`;
  if (output.json) output.note(headline);
  else if (plan.length > 0) output.result(`${renderTable(PLAN_COLUMNS, plan)}\n\n${headline}`);
  else output.result(headline);
  if (options.dryRun) {
    output.note('dry run: nothing was sent, deleted or changed');
    return done(ExitCode.Ok);
  }
  if (toReplay === 0) return done(ExitCode.Ok);
  if (!options.yes) {
    const question = `Replay ${toReplay} message(s) from ${options.dlqUrl} to ${options.queueUrl}?`;
    if (!(await context.confirm(question))) {
      throw new ConfirmationRefusedError('replay cancelled: nothing was moved');
    }
  }

  // Move exactly what was planned (and still matches): messages that arrived since are left alone.
  const planned = new Set(
    plan.filter((p) => p.decision.action === 'replay').map((p) => p.entry.messageId),
  );
  const refused = plan.filter((p) => p.decision.action === 'skip');
  const progress = startProgress(output, 'replay', toReplay);
  const outcome = await executeReplay(context, {
    dlqUrl: options.dlqUrl,
    queueUrl: options.queueUrl,
    select: (d) => planned.has(d.entry.messageId) && select(d.entry),
    limit: planned.size,
    policy: options.policy,
    ...(options.ratePerSecond !== undefined && { ratePerSecond: options.ratePerSecond }),
    ...(options.reason !== undefined && { reason: options.reason }),
    holdSeconds: HOLD_SECONDS.act,
    waitTimeSeconds,
    progress,
  }).finally(() => progress.stop());

  const missing = planned.size - outcome.summary.matched;
  if (missing > 0) {
    output.note(
      `warning: ${missing} planned message(s) were not found again (moved or deleted by someone else meanwhile, or still held by another reader)`,
    );
  }
  if (context.signal?.aborted) output.note('interrupted: the remaining messages stay in the DLQ');
  // The summary counts the whole plan: refused messages were matched and skipped.
  const summary: ReplaySummary = {
    ...outcome.summary,
    matched: outcome.summary.matched + refused.length,
    skipped: outcome.summary.skipped + refused.length,
  };
  printOutcome(context, options, plan, summary, outcome.results);
  if (outcome.stoppedBy) throw outcome.stoppedBy;
  const failed = summary.failedToSend + summary.sentButNotDeleted > 0;
  return {
    exitCode: failed ? ExitCode.Failed : ExitCode.Ok,
    plan,
    summary,
    results: outcome.results,
  };
};

interface ReplayFlags {
  dlqUrl: string;
  queueUrl: string;
  error?: string;
  datashare?: string;
  eventId?: string;
  max?: number;
  rate?: number;
  dryRun?: boolean;
  yes?: boolean;
  reason?: string;
  maxReplays: number;
  force?: boolean;
}

export const registerDlqReplay = (dlq: Command, run: CommandRunner): void => {
  commonOptions(
    filterOptions(
      dlq
        .command('replay')
        .summary('move matching DLQ messages back to the source queue, with a trail')
        .usage(
          '(--stage NAME | --dlq-url URL --queue-url URL) [--error CODE] [--datashare ARN] [--event-id ID] [--max N] [--rate N/s] [--dry-run] [--yes] [--reason TEXT] [--max-replays N] [--force]',
        )
        .option('--dlq-url <url>', `the dead-letter queue URL ${fromStage('--dlq-url')}`)
        .option(
          '--queue-url <url>',
          `the source queue the worker reads ${fromStage('--queue-url')}`,
        ),
    )
      .option('--max <n>', 'replay at most N matching messages', (v) => parseCount('--max', v))
      .option('--rate <n/s>', 'send at most N messages per second', (v) => parseRate('--rate', v))
      .option('--dry-run', 'show what would move; change nothing')
      .option('--yes', 'do not ask for confirmation (required when stdin is not a terminal)')
      .option(
        '--reason <text>',
        'why, recorded on each message as revoker.replayReason',
        parseReason,
      )
      .option(
        '--max-replays <n>',
        'refuse messages already replayed N times (loop guard)',
        (v) => parseNonNegative('--max-replays', v),
        DEFAULT_MAX_REPLAYS,
      )
      .option('--force', 'replay despite the loop guard and invalid bodies'),
  )
    .addHelpText(
      'after',
      `
Each message goes back with its original body and attributes (unfolded from
revoker.originalMessageAttributes), without the revoker.* failure attributes, and stamped with
revoker.replayCount (+1), revoker.replayedBy, revoker.replayedAt and revoker.replayReason. It is
deleted from the DLQ only once SQS accepted the copy. Exit code 1 when any message failed.

Examples:
  $ revoker dlq replay --dlq-url $DLQ_URL --queue-url $QUEUE_URL --error ThrottlingException --dry-run
  $ revoker dlq replay --dlq-url $DLQ_URL --queue-url $QUEUE_URL --event-id pol-7/decision/0001 \\
      --reason "INC-1234: namespace permissions fixed"
  $ revoker dlq replay --dlq-url $DLQ_URL --queue-url $QUEUE_URL \\
      --datashare arn:aws:redshift:us-east-1:444455556666:datashare: --rate 5/s --yes --json`,
    )
    .action(
      run(async (context, flags: ReplayFlags) => {
        const result = await replayDlq(context, {
          dlqUrl: flags.dlqUrl,
          queueUrl: flags.queueUrl,
          filter: filterFromFlags(flags),
          ...(flags.max !== undefined && { max: flags.max }),
          ...(flags.rate !== undefined && { ratePerSecond: flags.rate }),
          dryRun: flags.dryRun === true,
          yes: flags.yes === true,
          ...(flags.reason !== undefined && { reason: flags.reason }),
          policy: { maxReplays: flags.maxReplays, force: flags.force === true },
        });
        return result.exitCode;
      }),
    );
};
