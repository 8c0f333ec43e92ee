/**
 * A local stand-in for AWS Lambda's SQS event source mapping (with `ReportBatchItemFailures`):
 * it long-polls a queue, invokes a handler with the `SQSEvent` and `Context` Lambda would pass,
 * and deletes exactly the messages the handler did not report as failed. Everything else — retries,
 * and the move to the DLQ after `maxReceiveCount` — is left to SQS and the queue's redrive policy,
 * as in AWS.
 *
 * Known difference: a handler that times out keeps running in this process (there is no way to
 * kill a promise); its batch is failed and redelivered all the same. See `stats.runawayInvocations`.
 */
import { type Logger, pino } from 'pino';
import { QUEUE_ARN_PATTERN } from './esm/constants.js';
import {
  type EventSourceMappingError,
  EventSourceMappingStateError,
  InvalidEventSourceMappingOptionError,
  MalformedMessageError,
  SqsOperationError,
} from './esm/errors.js';
import { IDLE_DEFAULTS, type WaitForIdleOptions, waitForQueueIdle } from './esm/idle.js';
import { type EventSourceMappingOptions, resolveOptions } from './esm/options.js';
import { type PollerEnvironment, runPoller } from './esm/poller.js';
import { checkQueueCompatibility } from './esm/queue-compatibility.js';
import { createSqsSourceQueue } from './esm/source-queue.js';
import { createStats, type EventSourceMappingStats, snapshotStats } from './esm/stats.js';
import type { BatchReport } from './esm/types.js';

export * from './esm/errors.js';
export type { WaitForIdleOptions } from './esm/idle.js';
export type { EventSourceMappingOptions } from './esm/options.js';
export type { EventSourceMappingStats } from './esm/stats.js';
export * from './esm/types.js';

export const MAPPING_STATES = {
  stopped: 'stopped',
  starting: 'starting',
  running: 'running',
  stopping: 'stopping',
} as const;
export type MappingState = (typeof MAPPING_STATES)[keyof typeof MAPPING_STATES];

export interface EventSourceMapping {
  /**
   * Reads the queue's attributes, checks them as `CreateEventSourceMapping` would, then starts
   * `maximumConcurrency` pollers. Resolves once they run; a no-op when already running.
   *
   * @throws SqsOperationError when the queue cannot be read (e.g. it does not exist).
   * @throws InvalidEventSourceMappingOptionError when Lambda would refuse the mapping for this queue.
   * @throws EventSourceMappingStateError while a `stop()` is still in progress.
   */
  start(): Promise<void>;
  /**
   * Stops receiving (an open long poll is aborted), lets every batch already received be invoked
   * and its deletes finish, then resolves. Bounded by the function timeout plus the delete retries.
   * Can be followed by `start()` again.
   *
   * An aborted long poll only closes the connection: the server may still hand the next messages
   * to it (fauxqs does, until its wait ends). Those stay in flight until their visibility timeout,
   * with one more receive counted, then come back: delayed, never lost.
   */
  stop(): Promise<void>;
  readonly state: MappingState;
  /** A copy of the counters. */
  readonly stats: EventSourceMappingStats;
  /**
   * Resolves once the queue is drained: no visible, in-flight or delayed message and no batch in
   * progress, for `quietMs`. For `npm start` and end-to-end tests.
   *
   * @throws EventSourceMappingStateError when the mapping is not running, or stops meanwhile.
   * @throws WaitForIdleTimeoutError after `timeoutMs` (default 60 s).
   */
  waitForIdle(options?: WaitForIdleOptions): Promise<void>;
}

function parseQueueArn(arn: string) {
  const match = QUEUE_ARN_PATTERN.exec(arn);
  if (!match) {
    throw new InvalidEventSourceMappingOptionError(
      'queueArn',
      `queueArn must look like arn:aws:sqs:<region>:<account>:<name>, '${arn}' given`,
      arn,
    );
  }
  const [, region = '', accountId = ''] = match;
  return { partition: arn.split(':')[1] ?? 'aws', region, accountId };
}

/**
 * Creates a stopped mapping; options are checked at once, the queue when `start()` runs.
 *
 * @example
 * const mapping = createEventSourceMapping({
 *   sqs: new SQSClient({ endpoint, useQueueUrlAsEndpoint: false }),
 *   queueUrl,
 *   handler,
 *   batchSize: 10,
 *   functionTimeoutMs: 30_000,
 * });
 * await mapping.start();
 * await mapping.waitForIdle({ timeoutMs: 10_000 });
 * await mapping.stop();
 * @throws InvalidEventSourceMappingOptionError e.g. "batchSize must be between 1 and 10000, 0 given".
 */
export function createEventSourceMapping(options: EventSourceMappingOptions): EventSourceMapping {
  const settings = resolveOptions(options);
  const logger: Logger = (settings.logger ?? pino({ level: 'silent' })).child({
    component: 'event-source-mapping',
    queueUrl: settings.queueUrl,
  });
  const queue = createSqsSourceQueue(settings.sqs, settings.queueUrl);
  const stats = createStats();

  let state: MappingState = MAPPING_STATES.stopped;
  let controller: AbortController | undefined;
  let pollers: Promise<void>[] = [];
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  /** `start()` was called and `stop()` not since. */
  let wanted = false;

  // Hooks run inside the poll loop: a throwing hook must not end it.
  const callHook = <T>(name: string, hook: ((value: T) => void) | undefined, value: T): void => {
    try {
      hook?.(value);
    } catch (error) {
      logger.error({ err: error }, `${name} hook threw; ignored`);
    }
  };

  const emitError = (error: EventSourceMappingError): void => {
    if (error instanceof SqsOperationError) {
      stats.sqsErrors[error.operation]++;
      logger[error.retryable ? 'warn' : 'error']({ err: error, code: error.code }, error.message);
    } else if (error instanceof MalformedMessageError) {
      stats.malformedMessages++;
      logger.error({ err: error, messageId: error.messageId }, error.message);
    } else {
      logger.error({ err: error }, error.message);
    }
    callHook('onError', settings.onError, error);
  };

  const emitBatch = (report: BatchReport): void => {
    logger.debug(
      {
        awsRequestId: report.awsRequestId,
        outcome: report.outcome,
        records: report.messageIds.length,
        deleted: report.deletedMessageIds.length,
        failed: report.failedMessageIds.length,
        durationMs: report.durationMs,
      },
      'batch done',
    );
    callHook('onBatch', settings.onBatch, report);
  };

  async function prepare(): Promise<PollerEnvironment> {
    const description = await queue.describe();
    checkQueueCompatibility(settings, description, logger);
    const eventSourceARN = settings.queueArn ?? description.queueArn;
    if (eventSourceARN === undefined) {
      throw new InvalidEventSourceMappingOptionError(
        'queueArn',
        `queueArn must be given: ${settings.queueUrl} did not report its QueueArn`,
        undefined,
      );
    }
    const arn = parseQueueArn(eventSourceARN);
    const awsRegion = settings.region ?? arn.region;
    return {
      options: settings,
      queue,
      source: { eventSourceARN, awsRegion },
      identity: {
        functionName: settings.functionName,
        partition: arn.partition,
        region: awsRegion,
        accountId: settings.accountId ?? arn.accountId,
        memoryLimitInMB: settings.memoryLimitInMB,
      },
      stats,
      logger,
      emitBatch,
      emitError,
    };
  }

  const startPollers = async (): Promise<void> => {
    if (state === MAPPING_STATES.running) return;
    if (starting !== undefined) return starting;
    if (state === MAPPING_STATES.stopping) {
      throw new EventSourceMappingStateError(
        `start() called on ${settings.queueUrl} while stop() is in progress: await stop() first`,
      );
    }
    state = MAPPING_STATES.starting;
    starting = (async () => {
      try {
        const env = await prepare();
        controller = new AbortController();
        const { signal } = controller;
        pollers = Array.from({ length: settings.maximumConcurrency }, (_, index) =>
          runPoller(env, index, signal),
        );
        state = MAPPING_STATES.running;
        logger.info(
          {
            eventSourceARN: env.source.eventSourceARN,
            batchSize: settings.batchSize,
            maximumBatchingWindowInSeconds: settings.batchingWindowMs / 1000,
            maximumConcurrency: settings.maximumConcurrency,
            functionTimeoutMs: settings.functionTimeoutMs,
          },
          'event source mapping started',
        );
      } catch (error) {
        state = MAPPING_STATES.stopped;
        throw error;
      } finally {
        starting = undefined;
      }
    })();
    return starting;
  };

  const stopPollers = async (): Promise<void> => {
    if (stopping !== undefined) return stopping;
    if (starting !== undefined) await starting.catch(() => undefined);
    if (state !== MAPPING_STATES.running) return;
    state = MAPPING_STATES.stopping;
    stopping = (async () => {
      controller?.abort(new EventSourceMappingStateError('the event source mapping was stopped'));
      await Promise.all(pollers);
      pollers = [];
      controller = undefined;
      state = MAPPING_STATES.stopped;
      stopping = undefined;
      logger.info({ stats: snapshotStats(stats) }, 'event source mapping stopped');
    })();
    return stopping;
  };

  // The Lambda API's switch (`UpdateEventSourceMapping Enabled`): the mapping polls while both it
  // and `start()`/`stop()` say so. Disabling stops receiving and lets in-flight batches finish.
  settings.control?.connect(async (enabled) => {
    if (!enabled) return stopPollers();
    if (stopping !== undefined) await stopping;
    if (wanted) return startPollers();
  });

  const mapping: EventSourceMapping = {
    get state() {
      return state;
    },

    get stats() {
      return snapshotStats(stats);
    },

    async start() {
      wanted = true;
      if (settings.control && !settings.control.enabled()) {
        logger.info('disabled in the Lambda API: starts polling once it is enabled');
        return;
      }
      return startPollers();
    },

    async stop() {
      wanted = false;
      return stopPollers();
    },

    async waitForIdle(idleOptions: WaitForIdleOptions = {}) {
      if (state !== MAPPING_STATES.running || !controller) {
        throw new EventSourceMappingStateError(
          `waitForIdle() needs a running mapping; ${settings.queueUrl} is ${state}`,
        );
      }
      const signals = [controller.signal, ...(idleOptions.signal ? [idleOptions.signal] : [])];
      await waitForQueueIdle(queue, () => stats.inFlightBatches, emitError, {
        quietMs: idleOptions.quietMs ?? IDLE_DEFAULTS.quietMs,
        timeoutMs: idleOptions.timeoutMs ?? IDLE_DEFAULTS.timeoutMs,
        pollIntervalMs: idleOptions.pollIntervalMs ?? IDLE_DEFAULTS.pollIntervalMs,
        signal: AbortSignal.any(signals),
      });
    },
  };
  return mapping;
}
