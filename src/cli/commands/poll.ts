import type { Command } from 'commander';
// Types only: the mapping and the worker are loaded when `poll` runs, so that the other commands
// neither pay for them nor need the worker's environment variables.
import type {
  BatchReport,
  EventSourceMappingError,
  EventSourceMappingStats,
  SqsBatchHandler,
} from '../../local/event-source-mapping.js';
import type { CommandContext } from '../context.js';
import { ExitCode, toCliError, UsageError } from '../errors.js';
import { type CommandRunner, commonOptions, fromStage, parseCount } from './common.js';

export interface PollOptions {
  queueUrl: string;
  batchSize?: number;
  concurrency?: number;
  functionTimeoutSeconds?: number;
  /** Long-poll wait of each receive (default 20 s; `stop()` cuts it short). */
  waitTimeSeconds?: number;
  /** The account the worker runs as (its own account); default: the queue's. */
  accountId?: string;
}

export interface PollResult {
  exitCode: number;
  stats: EventSourceMappingStats;
}

/** Builds the worker's handler exactly as `src/handler.ts` does, from the worker's environment. */
export const loadWorkerHandler = async (
  env: Readonly<Record<string, string | undefined>>,
): Promise<SqsBatchHandler> => {
  const [{ loadConfig }, { createWorkerDependencies }, { processBatch }, { ConfigurationError }] =
    await Promise.all([
      import('../../config.js'),
      import('../../wiring.js'),
      import('../../worker/process-batch.js'),
      import('../../core/errors.js'),
    ]);
  try {
    const dependencies = await createWorkerDependencies(loadConfig(env));
    return (event, context) => processBatch(event, context, dependencies);
  } catch (error) {
    if (error instanceof ConfigurationError) {
      throw new UsageError(`the worker cannot start: ${error.message}`, { cause: error });
    }
    throw error;
  }
};

const untilAborted = (signal: AbortSignal | undefined): Promise<void> =>
  new Promise((resolve) => {
    if (!signal) return; // Nothing can stop it: runs until the process is killed.
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });

const batchLine = (report: BatchReport): string =>
  `batch ${report.awsRequestId}: ${report.outcome}, ${report.messageIds.length} record(s), ${report.deletedMessageIds.length} deleted, ${report.failedMessageIds.length} back to the queue (${report.durationMs} ms)`;

/**
 * `revoker poll`: runs the worker's handler as a long-running poller through the local event
 * source mapping (the same `SQSEvent`/`Context`/batch-item-failure contract as Lambda). Stops
 * when `context.signal` aborts: receives nothing new, finishes the batches in flight and their
 * deletes, then returns.
 *
 * @throws {CliError} exit 2 when the queue cannot be read or the options do not fit the queue.
 */
export const pollQueue = async (
  context: CommandContext,
  options: PollOptions,
  handler: SqsBatchHandler,
): Promise<PollResult> => {
  const { output } = context;
  const { createEventSourceMapping, InvalidEventSourceMappingOptionError, SqsOperationError } =
    await import('../../local/event-source-mapping.js');
  const toPollError = (error: unknown): unknown => {
    if (error instanceof InvalidEventSourceMappingOptionError) {
      return new UsageError(error.message, { cause: error });
    }
    if (error instanceof SqsOperationError) {
      return toCliError(error.cause ?? error, error.operation, options.queueUrl);
    }
    return error;
  };
  let mapping: ReturnType<typeof createEventSourceMapping>;
  try {
    mapping = createEventSourceMapping({
      sqs: context.sqs,
      queueUrl: options.queueUrl,
      handler,
      ...(options.batchSize !== undefined && { batchSize: options.batchSize }),
      ...(options.concurrency !== undefined && { maximumConcurrency: options.concurrency }),
      ...(options.functionTimeoutSeconds !== undefined && {
        functionTimeoutMs: options.functionTimeoutSeconds * 1000,
      }),
      ...(options.waitTimeSeconds !== undefined && { waitTimeSeconds: options.waitTimeSeconds }),
      ...(options.accountId !== undefined && { accountId: options.accountId }),
      onBatch: (report) => output.note(batchLine(report)),
      onError: (error: EventSourceMappingError) => output.note(`warning: ${error.message}`),
    });
    await mapping.start();
  } catch (error) {
    throw toPollError(error);
  }
  output.note(
    `polling ${options.queueUrl}; SIGINT (Ctrl-C) or SIGTERM stops after the batches in flight`,
  );
  await untilAborted(context.signal);
  output.note('stopping: receiving nothing new, finishing the batches in flight');
  await mapping.stop();
  const stats = mapping.stats;
  // One line: stdout also carries the worker's JSON log lines, so keep it JSON Lines.
  if (output.json) output.result(JSON.stringify({ queueUrl: options.queueUrl, stats }));
  else {
    output.result(
      `stopped: ${stats.batchesInvoked} batch(es), ${stats.recordsInvoked} record(s), ${stats.messagesDeleted} deleted, ${stats.itemFailuresReported} back to the queue`,
    );
  }
  const runaway = stats.runawayInvocations > 0;
  if (runaway) {
    output.note(`warning: ${stats.runawayInvocations} timed-out invocation(s) still running`);
  }
  return { exitCode: runaway ? ExitCode.Failed : ExitCode.Ok, stats };
};

interface PollFlags {
  queueUrl: string;
  batchSize?: number;
  concurrency?: number;
  functionTimeout?: number;
  account?: string;
}

export const registerPoll = (
  program: Command,
  run: CommandRunner,
  loadHandler: () => Promise<SqsBatchHandler>,
): void => {
  commonOptions(
    program
      .command('poll')
      .summary('run the worker as a long-running SQS poller (graceful stop on SIGTERM/SIGINT)')
      .usage(
        '(--stage NAME | --queue-url URL) [--batch-size N] [--concurrency N] [--function-timeout SECONDS] [--account ID]',
      )
      .option('--queue-url <url>', `the source queue the worker reads ${fromStage('--queue-url')}`)
      .option('--batch-size <n>', 'records per invocation, 1 to 10 (default 10)', (v) =>
        parseCount('--batch-size', v, 10),
      )
      .option('--concurrency <n>', 'batches in flight at once (default 1)', (v) =>
        parseCount('--concurrency', v, 1000),
      )
      .option(
        '--function-timeout <seconds>',
        "each invocation's deadline, ≤ the queue's visibility timeout (default 30)",
        (v) => parseCount('--function-timeout', v, 900),
      )
      .option(
        '--account <id>',
        "the worker's own account, which it acts in with its own role (default: the queue's account; the local stack's queues say 000000000000, its worker is 111122223333)",
        (v) => {
          if (!/^\d{12}$/.test(v))
            throw new UsageError(`--account must be a 12-digit AWS account id, '${v}' given`);
          return v;
        },
      ),
  )
    .addHelpText(
      'after',
      `
The worker is configured exactly as in Lambda, from its environment (AUDIT_EVENT_BUS_NAME,
DEAD_LETTER_QUEUE_URL, ... see the README); its own AWS clients follow AWS_ENDPOINT_URL_<SERVICE>,
while --endpoint-url only points the poller. Worker logs go to stdout, batch lines to stderr.

Examples:
  $ revoker poll --queue-url $QUEUE_URL --concurrency 2
  $ AWS_ENDPOINT_URL_SQS=http://127.0.0.1:4566 revoker poll --queue-url $QUEUE_URL --function-timeout 20`,
    )
    .action(
      run(async (context, flags: PollFlags) => {
        const handler = await loadHandler();
        const result = await pollQueue(
          context,
          {
            queueUrl: flags.queueUrl,
            ...(flags.batchSize !== undefined && { batchSize: flags.batchSize }),
            ...(flags.concurrency !== undefined && { concurrency: flags.concurrency }),
            ...(flags.functionTimeout !== undefined && {
              functionTimeoutSeconds: flags.functionTimeout,
            }),
            ...(flags.account !== undefined && { accountId: flags.account }),
          },
          handler,
        );
        return result.exitCode;
      }),
    );
};
