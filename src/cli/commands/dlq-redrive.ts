import {
  CancelMessageMoveTaskCommand,
  ListMessageMoveTasksCommand,
  type ListMessageMoveTasksResultEntry,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { printJson } from '../output.js';
import { getQueueAttributes, sqsCall } from '../sqs.js';
import { type CommandRunner, commonOptions, fromStage, parseCount } from './common.js';

/** StartMessageMoveTask's ceiling for MaxNumberOfMessagesPerSecond. */
export const MAX_MOVE_RATE = 500;

export interface RedriveOptions {
  dlqUrl: string;
  ratePerSecond?: number;
  /** Move to this queue instead of each message's original source queue. */
  toQueueUrl?: string;
  cancel: boolean;
  /** How often progress is read from ListMessageMoveTasks. */
  pollIntervalMs?: number;
}

export interface RedriveResult {
  exitCode: number;
  status: string;
  moved: number;
  toMove: number | null;
  failureReason?: string;
}

/** A move task as ListMessageMoveTasks reports it. */
const describeTask = (task: ListMessageMoveTasksResultEntry) => ({
  status: task.Status ?? 'UNKNOWN',
  moved: task.ApproximateNumberOfMessagesMoved ?? 0,
  toMove: task.ApproximateNumberOfMessagesToMove ?? null,
  ...(task.FailureReason && { failureReason: task.FailureReason }),
});

const listTasks = async (context: CommandContext, dlqUrl: string, sourceArn: string) => {
  const output = await sqsCall('ListMessageMoveTasks', dlqUrl, () =>
    context.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 10 })),
  );
  // Most recent first; only one task per queue can be RUNNING.
  return output.Results ?? [];
};

const finish = (context: CommandContext, result: RedriveResult, headline: string) => {
  if (context.output.json) printJson(context.output, result);
  else context.output.result(headline);
  return result;
};

const cancelRunningTask = async (
  context: CommandContext,
  options: RedriveOptions,
  sourceArn: string,
): Promise<RedriveResult> => {
  const running = (await listTasks(context, options.dlqUrl, sourceArn)).find(
    (task) => task.Status === 'RUNNING' && task.TaskHandle,
  );
  if (!running?.TaskHandle) {
    return finish(
      context,
      { exitCode: ExitCode.Ok, status: 'NONE', moved: 0, toMove: null },
      `no running move task on ${sourceArn}: nothing to cancel`,
    );
  }
  const handle = running.TaskHandle;
  const output = await sqsCall('CancelMessageMoveTask', options.dlqUrl, () =>
    context.sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle: handle })),
  );
  const moved = output.ApproximateNumberOfMessagesMoved ?? 0;
  return finish(
    context,
    {
      exitCode: ExitCode.Ok,
      status: 'CANCELLING',
      moved,
      toMove: running.ApproximateNumberOfMessagesToMove ?? null,
    },
    `cancelled the move task on ${sourceArn}: about ${moved} message(s) had moved (they stay moved)`,
  );
};

/**
 * `revoker dlq redrive`: AWS's own bulk redrive (StartMessageMoveTask), followed through
 * ListMessageMoveTasks until it ends; `--cancel` stops the running one. It moves every message,
 * unfiltered and unmodified: the `revoker.*` failure attributes travel along, and the replay count
 * — hence the loop guard — is not updated. `revoker dlq replay` is the careful tool.
 */
export const redriveDlq = async (
  context: CommandContext,
  options: RedriveOptions,
): Promise<RedriveResult> => {
  const { output } = context;
  const attributes = await getQueueAttributes(context.sqs, options.dlqUrl, [
    'QueueArn',
    'ApproximateNumberOfMessages',
  ]);
  const sourceArn = attributes.QueueArn;
  if (!sourceArn) {
    throw new CliError(`${options.dlqUrl} did not report its QueueArn`, ExitCode.Failed);
  }
  if (options.cancel) return cancelRunningTask(context, options, sourceArn);

  const destinationArn = options.toQueueUrl
    ? (await getQueueAttributes(context.sqs, options.toQueueUrl, ['QueueArn'])).QueueArn
    : undefined;
  output.note(
    'note: a native redrive moves every message as it is: no filter, revoker.* failure attributes kept, replay count (loop guard) not updated. Use `revoker dlq replay` to choose and stamp messages.',
  );
  const started = await sqsCall('StartMessageMoveTask', options.dlqUrl, () =>
    context.sqs.send(
      new StartMessageMoveTaskCommand({
        SourceArn: sourceArn,
        ...(destinationArn && { DestinationArn: destinationArn }),
        ...(options.ratePerSecond !== undefined && {
          MaxNumberOfMessagesPerSecond: options.ratePerSecond,
        }),
      }),
    ),
  );
  output.note(
    `move task started on ${sourceArn} (about ${attributes.ApproximateNumberOfMessages ?? '?'} message(s)) → ${destinationArn ?? 'their original source queues'}; task handle ${started.TaskHandle ?? '?'}`,
  );

  const interval = options.pollIntervalMs ?? 2000;
  let last = { status: 'RUNNING', moved: 0, toMove: null as number | null } as ReturnType<
    typeof describeTask
  >;
  while (!context.signal?.aborted) {
    const [latest] = await listTasks(context, options.dlqUrl, sourceArn);
    if (latest) last = describeTask(latest);
    output.note(`redrive: ${last.status} ${last.moved}/${last.toMove ?? '?'} moved`);
    if (last.status !== 'RUNNING') break;
    await context.sleep(interval, context.signal).catch(() => undefined);
  }
  if (context.signal?.aborted && last.status === 'RUNNING') {
    output.note(
      `stopped following: the task keeps running on AWS; stop it with 'revoker dlq redrive --dlq-url ${options.dlqUrl} --cancel'`,
    );
  }
  const ok = last.status === 'COMPLETED' || last.status === 'RUNNING';
  return finish(
    context,
    { exitCode: ok ? ExitCode.Ok : ExitCode.Failed, ...last },
    `redrive ${last.status}: ${last.moved}/${last.toMove ?? '?'} moved${last.failureReason ? ` — ${last.failureReason}` : ''}`,
  );
};

interface RedriveFlags {
  dlqUrl: string;
  rate?: number;
  toQueueUrl?: string;
  cancel?: boolean;
}

export const registerDlqRedrive = (dlq: Command, run: CommandRunner): void => {
  commonOptions(
    dlq
      .command('redrive')
      .summary("AWS's native bulk redrive (StartMessageMoveTask), with progress; --cancel stops it")
      .usage('(--stage NAME | --dlq-url URL) [--rate N] [--to-queue-url URL] [--cancel]')
      .option('--dlq-url <url>', `the dead-letter queue URL ${fromStage('--dlq-url')}`)
      .option(
        '--rate <n>',
        `messages per second, 1 to ${MAX_MOVE_RATE} (default: AWS decides)`,
        (v) => parseCount('--rate', v, MAX_MOVE_RATE),
      )
      .option(
        '--to-queue-url <url>',
        "move to this queue instead of the messages' original source queues",
      )
      .option('--cancel', 'cancel the running move task of this DLQ'),
  )
    .addHelpText(
      'after',
      `
A native redrive cannot filter or modify messages: every message moves, keeping the revoker.*
failure attributes, and the replay count (the loop guard of 'dlq replay') is not updated.
Messages the worker copied here itself were not moved by SQS: AWS may not know their source
queue, so give --to-queue-url. Prefer 'revoker dlq replay' unless the DLQ is very large.

Examples:
  $ revoker dlq redrive --dlq-url $DLQ_URL --to-queue-url $QUEUE_URL --rate 50
  $ revoker dlq redrive --dlq-url $DLQ_URL --cancel`,
    )
    .action(
      run(async (context, flags: RedriveFlags) => {
        const result = await redriveDlq(context, {
          dlqUrl: flags.dlqUrl,
          ...(flags.rate !== undefined && { ratePerSecond: flags.rate }),
          ...(flags.toQueueUrl !== undefined && { toQueueUrl: flags.toQueueUrl }),
          cancel: flags.cancel === true,
        });
        return result.exitCode;
      }),
    );
};
