/**
 * What `revoker pause` and `revoker resume` share: the flags naming the worker's mapping, its bus
 * and its table; the Lambda, EventBridge and DynamoDB clients behind them; and publishing the
 * operator's event on the audit bus.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Command } from 'commander';
import { closeBreakerRecord, readBreakerState } from '../adapters/breaker-record.js';
import {
  EventSourceMappingNotFoundError,
  LambdaEventSourceSwitch,
} from '../adapters/lambda-mapping.js';
import type { BreakerOpening, BreakerState } from '../core/breaker.js';
import { AwsCallError } from '../core/errors.js';
import type { Caller, SwitchDetailType } from '../core/switch-events.js';
import type { EventSourceSwitch, MappingTarget, SwitchOutcome } from '../worker/ports.js';
import { fromStage, requireResources } from './commands/common.js';
import { AwsCallFailedError, CliError, ExitCode, toCliError, UsageError } from './errors.js';

/** The flags of both commands (`--stage` fills them from the stack's outputs). */
export interface SwitchFlags {
  functionName: string;
  queueArn: string;
  eventBus: string;
  /** Default: the stage's AuditEventSource, else the worker's default source. */
  eventSource?: string;
  tableName?: string;
  region?: string;
}

/** The outside world of both commands; tests pass clients pointed at the emulators. */
export interface SwitchDependencies {
  mappings: EventSourceSwitch;
  /** One `PutEvents` entry on the audit bus. @throws {CliError} when it was not accepted. */
  publish(detailType: SwitchDetailType, detail: string, resources: string[]): Promise<void>;
  /** Present with `--table-name`. */
  breaker?: {
    read(signal: AbortSignal): Promise<BreakerState>;
    close(signal: AbortSignal): Promise<BreakerOpening | undefined>;
  };
  /** Releases the clients. */
  destroy(): void;
}

const QUEUE_ARN = /^arn:aws[a-z-]*:sqs:([a-z0-9-]+):(\d{12}):[\w-]{1,80}(\.fifo)?$/;

/** The worker's default `AUDIT_EVENT_SOURCE` (src/config.ts). */
const DEFAULT_EVENT_SOURCE = 'governance.datashare-revoker';

/**
 * Adds the flags that name the worker's mapping, bus and table; `--stage` fills those not given
 * from the stack's outputs (WorkerFunctionName, SourceQueueArn, AuditEventBusName,
 * AuditEventSource, IdempotencyTableName).
 */
export const switchOptions = (command: Command): Command =>
  requireResources(
    command
      .option(
        '--function-name <name>',
        `the worker's Lambda function, name or ARN ${fromStage('--function-name')}`,
      )
      .option(
        '--queue-arn <arn>',
        `the worker's source queue ARN, its event source ${fromStage('--queue-arn')}`,
      )
      .option('--event-bus <name>', `the audit event bus, name or ARN ${fromStage('--event-bus')}`)
      .option(
        '--event-source <source>',
        `the audit events' Source (default: the stage's AuditEventSource, else ${DEFAULT_EVENT_SOURCE})`,
      )
      .option(
        '--table-name <name>',
        `the idempotency table, where the breaker is kept ${fromStage('--table-name')}`,
      ),
    '--function-name',
  );

/** @throws {UsageError} naming the flag, the value given and what is expected. */
export const checkSwitchFlags = (flags: SwitchFlags): void => {
  if (!QUEUE_ARN.test(flags.queueArn))
    throw new UsageError(
      `--queue-arn must be an SQS queue ARN, arn:<partition>:sqs:<region>:<account>:<name>; '${flags.queueArn}' given`,
    );
};

/** The caller as the event records it: the identity resolver's ARN (STS) or OS user. */
export const callerOf = (identity: string): Caller => {
  const account = /^arn:aws[a-z-]*:(?:sts|iam)::(\d{12}):/.exec(identity)?.[1] ?? null;
  return { arn: identity, account, userId: null };
};

/** The mapping target of the flags. */
export const mappingTarget = (flags: SwitchFlags): MappingTarget => ({
  functionName: flags.functionName,
  queueArn: flags.queueArn,
});

/** Lambda refuses to change a mapping between states: wait for it to settle, up to this long. */
const SETTLE_WAIT_MS = 60_000;

/**
 * Sets the mapping, waiting (up to a minute) while it is between states, and turns failures
 * into one-line CLI errors.
 */
export const switchMapping = async (
  deps: SwitchDependencies,
  enabled: boolean,
  flags: SwitchFlags,
  context: { sleep: (ms: number, signal?: AbortSignal) => Promise<void>; now: () => number },
): Promise<SwitchOutcome> => {
  const giveUpAt = context.now() + SETTLE_WAIT_MS;
  for (;;) {
    try {
      return await deps.mappings.setEnabled(
        enabled,
        mappingTarget(flags),
        AbortSignal.timeout(15_000),
      );
    } catch (error) {
      if (error instanceof EventSourceMappingNotFoundError)
        throw new CliError(
          `${error.message}: check --function-name and --queue-arn (and --region)`,
          ExitCode.Unusable,
          { cause: error },
        );
      if (error instanceof AwsCallError && error.code === 'ResourceInUseException') {
        if (context.now() < giveUpAt) {
          await context.sleep(1000);
          continue;
        }
      }
      const operation =
        error instanceof AwsCallError && typeof error.context.operation === 'string'
          ? error.context.operation
          : 'UpdateEventSourceMapping';
      throw toCliError(error instanceof AwsCallError ? (error.cause ?? error) : error, operation);
    }
  }
};

/** The real clients, in the region of `--region`, else the queue ARN's. */
export const createSwitchDependencies = (flags: SwitchFlags): SwitchDependencies => {
  const region = flags.region ?? QUEUE_ARN.exec(flags.queueArn)?.[1] ?? 'us-east-1';
  const events = new EventBridgeClient({ region });
  const dynamo = flags.tableName === undefined ? undefined : new DynamoDBClient({ region });
  const table =
    dynamo && flags.tableName ? { client: dynamo, tableName: flags.tableName } : undefined;
  const storeFailure = (operation: string) => (error: unknown) => {
    throw toCliError(error instanceof AwsCallError ? (error.cause ?? error) : error, operation);
  };
  return {
    mappings: new LambdaEventSourceSwitch({ region }),
    async publish(detailType, detail, resources) {
      const output = await events
        .send(
          new PutEventsCommand({
            Entries: [
              {
                EventBusName: flags.eventBus,
                Source: flags.eventSource ?? DEFAULT_EVENT_SOURCE,
                DetailType: detailType,
                Detail: detail,
                Resources: resources,
              },
            ],
          }),
        )
        .catch((error: unknown) => {
          throw toCliError(error, 'PutEvents');
        });
      const entry = output.Entries?.[0];
      if (!entry?.EventId)
        throw new AwsCallFailedError(
          `PutEvents did not accept the ${detailType} event: ${entry?.ErrorCode ?? 'no result'}: ${entry?.ErrorMessage ?? ''}`,
          { code: entry?.ErrorCode ?? 'Missing', operation: 'PutEvents' },
        );
    },
    ...(table && {
      breaker: {
        read: (signal) => readBreakerState(table, signal).catch(storeFailure('GetItem')),
        close: (signal) => closeBreakerRecord(table, signal).catch(storeFailure('PutItem')),
      },
    }),
    destroy() {
      events.destroy();
      dynamo?.destroy();
    },
  };
};
