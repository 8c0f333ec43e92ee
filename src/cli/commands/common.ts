import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import type { AwsClientFactory } from '../aws-clients.js';
import type { CommandContext, Confirm } from '../context.js';
import { UsageError } from '../errors.js';
import type { IdentityResolver } from '../identity.js';
import type { Output } from '../output.js';
import type { Sleep } from '../rate.js';
import type { ConnectionOptions } from '../sqs.js';
import {
  parseStage,
  type ResolvedStage,
  requireOutput,
  resolveStage,
  type StackOutput,
} from '../stage.js';

/** Flags every command has. */
export interface CommonFlags {
  stage?: string;
  region?: string;
  profile?: string;
  endpointUrl?: string;
  json?: boolean;
}

/** Adds `--stage`, `--region`, `--profile`, `--endpoint-url` and `--json` to a command. */
export const commonOptions = (command: Command): Command =>
  command
    .option(
      '--stage <name>',
      'find queues, function, table and log group from the stack datashare-revoker-<name> (default: REVOKER_STAGE)',
    )
    .option(
      '--region <region>',
      'AWS region (default: from the queue URL, then AWS_REGION/profile)',
    )
    .option('--profile <name>', 'AWS profile (default: AWS_PROFILE, else the default chain)')
    .option(
      '--endpoint-url <url>',
      'SQS endpoint, e.g. a local emulator (default: AWS_ENDPOINT_URL_SQS, else AWS)',
    )
    .option('--json', 'machine-readable output on stdout (progress stays on stderr)');

/** Parses a whole number ≥ 1 for a flag such as `--max`. */
export const parseCount = (flag: string, value: string, max = Number.MAX_SAFE_INTEGER): number => {
  const number = Number(value);
  if (!/^\d+$/.test(value.trim()) || number < 1 || number > max) {
    throw new UsageError(
      `${flag} must be a whole number from 1${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}, '${value}' given`,
    );
  }
  return number;
};

/** Parses a whole number ≥ 0 (e.g. `--max-replays 0` refuses every replayed message). */
export const parseNonNegative = (flag: string, value: string): number => {
  if (!/^\d+$/.test(value.trim())) {
    throw new UsageError(`${flag} must be a whole number from 0, '${value}' given`);
  }
  return Number(value);
};

/** A flag that names an AWS resource, which a stage's stack output can supply. */
export interface StageResource {
  /** The flag's key in commander's options (`dlqUrl` for `--dlq-url`). */
  key: string;
  /** The flag as the operator types it (`--dlq-url`). */
  flag: string;
  output: StackOutput;
  /** Without it (given or from the stage) the command cannot run. */
  required: boolean;
}

/**
 * Every resource flag of the CLI and the stack output that supplies it: a command that declares
 * the flag gets it from `--stage` when it is not given (an explicit flag always wins).
 */
export const STAGE_RESOURCES: Readonly<Record<string, StageResource>> = {
  '--queue-url': { key: 'queueUrl', flag: '--queue-url', output: 'SourceQueueUrl', required: true },
  '--dlq-url': { key: 'dlqUrl', flag: '--dlq-url', output: 'DeadLetterQueueUrl', required: true },
  '--to-queue-url': {
    key: 'toQueueUrl',
    flag: '--to-queue-url',
    output: 'SourceQueueUrl',
    required: false,
  },
  '--log-group': {
    key: 'logGroup',
    flag: '--log-group',
    output: 'AuditLogGroupName',
    required: true,
  },
  '--table-name': {
    key: 'tableName',
    flag: '--table-name',
    output: 'IdempotencyTableName',
    required: false,
  },
  '--function-name': {
    key: 'functionName',
    flag: '--function-name',
    output: 'WorkerFunctionName',
    required: false,
  },
  '--alarm-topic-arn': {
    key: 'alarmTopicArn',
    flag: '--alarm-topic-arn',
    output: 'AlarmTopicArn',
    required: false,
  },
  '--queue-arn': { key: 'queueArn', flag: '--queue-arn', output: 'SourceQueueArn', required: true },
  '--event-bus': {
    key: 'eventBus',
    flag: '--event-bus',
    output: 'AuditEventBusName',
    required: true,
  },
  '--event-source': {
    key: 'eventSource',
    flag: '--event-source',
    output: 'AuditEventSource',
    required: false,
  },
};

const REQUIRED_HERE = new WeakMap<Command, ReadonlySet<string>>();

/**
 * Makes resource flags required for one command that the others may go without (`pause` cannot
 * run without `--function-name`; `status` shows what it can).
 */
export const requireResources = (command: Command, ...flags: string[]): Command => {
  REQUIRED_HERE.set(command, new Set([...(REQUIRED_HERE.get(command) ?? []), ...flags]));
  return command;
};

/** The resource flags a command declares. */
const resourcesOf = (command: Command): StageResource[] =>
  command.options.flatMap((option) => {
    const resource = option.long ? STAGE_RESOURCES[option.long] : undefined;
    if (!resource) return [];
    const required = resource.required || REQUIRED_HERE.get(command)?.has(resource.flag) === true;
    return [{ ...resource, required }];
  });

/** `(default: the stage's <Output>)`: the help text's note on a resource flag. */
export const fromStage = (flag: keyof typeof STAGE_RESOURCES): string =>
  `(default: the stage's ${STAGE_RESOURCES[flag]?.output})`;

/**
 * Fills the resource flags not given from the stage's stack outputs (the stage: `--stage`, else
 * `REVOKER_STAGE`). The stack is read only when a flag is missing.
 *
 * @throws {UsageError} a required flag is missing and no stage is set.
 * @throws {StageError} the stack or a required output does not exist.
 */
export const resolveResources = async (
  resources: readonly StageResource[],
  flags: Record<string, unknown>,
  environment: Pick<RunnerEnvironment, 'env' | 'aws' | 'signal'>,
): Promise<ResolvedStage | undefined> => {
  const stage =
    typeof flags.stage === 'string'
      ? parseStage(flags.stage)
      : environment.env.REVOKER_STAGE
        ? parseStage(environment.env.REVOKER_STAGE, 'REVOKER_STAGE')
        : undefined;
  const missing = resources.filter((r) => flags[r.key] === undefined);
  if (missing.length === 0) return undefined;
  if (stage === undefined) {
    const required = missing.filter((r) => r.required);
    if (required.length === 0) return undefined;
    const names = required.map((r) => r.flag).join(' and ');
    throw new UsageError(
      `${names} ${required.length > 1 ? 'are' : 'is'} required: give ${required.length > 1 ? 'them' : 'it'}, or --stage NAME (or REVOKER_STAGE) to read ${required.map((r) => r.output).join(' and ')} from the stack`,
    );
  }
  const region = typeof flags.region === 'string' ? flags.region : undefined;
  const profile = typeof flags.profile === 'string' ? flags.profile : undefined;
  const cloudFormation = environment.aws.cloudFormation({
    ...(region !== undefined && { region }),
    ...(profile !== undefined && { profile }),
  });
  try {
    const resolved = await resolveStage(cloudFormation, stage, region, environment.signal);
    for (const r of missing) {
      const value = resolved.outputs[r.output];
      if (value !== undefined && value !== '') flags[r.key] = value;
      else if (r.required) requireOutput(resolved, r.output, r.flag);
    }
    return resolved;
  } finally {
    cloudFormation.destroy();
  }
};

/** What the runner needs from the process; index.ts passes the real one, tests their own. */
export interface RunnerEnvironment {
  env: Readonly<Record<string, string | undefined>>;
  output: (json: boolean) => Output;
  confirm: Confirm;
  identity: IdentityResolver;
  createSqs: (options: ConnectionOptions & { queueUrl?: string }) => SQSClient;
  /** The other AWS clients (CloudFormation, CloudWatch Logs, CloudWatch, DynamoDB). */
  aws: AwsClientFactory;
  now: () => number;
  sleep: Sleep;
  signal: AbortSignal;
  setExitCode: (code: number) => void;
}

export type CommandAction<F> = (
  context: CommandContext,
  flags: F,
  positional: string[],
) => Promise<number>;

/** Wraps a command's logic as a commander action: builds its context, runs it, sets the exit code. */
export type CommandRunner = <F>(action: CommandAction<F>) => (...args: unknown[]) => Promise<void>;
// biome-ignore lint/suspicious/noExplicitAny: commander hands flags over untyped; each action declares its own.
type AnyFlags = any;

export const createRunner =
  (environment: RunnerEnvironment): CommandRunner =>
  (action: CommandAction<AnyFlags>) =>
  async (...args) => {
    // commander calls an action with the positional arguments, then the options, then the command.
    const command = args.at(-1) as Command;
    const flags = command.opts() as CommonFlags & { dlqUrl?: string; queueUrl?: string };
    const positional = args.slice(0, -2).filter((arg): arg is string => typeof arg === 'string');
    const stage = await resolveResources(
      resourcesOf(command),
      flags as Record<string, unknown>,
      environment,
    );
    const connection = {
      ...(flags.region !== undefined && { region: flags.region }),
      ...(flags.profile !== undefined && { profile: flags.profile }),
    };
    const sqs = environment.createSqs({
      ...connection,
      ...(flags.endpointUrl !== undefined && { endpointUrl: flags.endpointUrl }),
      ...((flags.dlqUrl ?? flags.queueUrl) !== undefined && {
        queueUrl: flags.dlqUrl ?? flags.queueUrl,
      }),
    });
    try {
      const exitCode = await action(
        {
          sqs,
          output: environment.output(flags.json === true),
          now: environment.now,
          sleep: environment.sleep,
          confirm: environment.confirm,
          identity: environment.identity,
          signal: environment.signal,
          aws: environment.aws,
          connection,
          env: environment.env,
          ...(stage !== undefined && { stage }),
        },
        flags,
        positional,
      );
      environment.setExitCode(exitCode);
    } finally {
      sqs.destroy();
    }
  };

/** `--error`, `--datashare` and `--event-id`: the filters of replay and purge. */
export const filterOptions = (command: Command): Command =>
  command
    .option('--error <code>', 'only messages whose revoker.errorCode is CODE')
    .option('--datashare <arn-or-prefix>', 'only messages whose dataShareArn starts with this')
    .option('--event-id <id>', 'only the message(s) with this eventId');

/** `--reason` is stored on every replayed message: keep it short. */
export const MAX_REASON_CHARS = 512;

export const parseReason = (value: string): string => {
  if (value.trim() === '' || value.length > MAX_REASON_CHARS) {
    throw new UsageError(
      `--reason must be 1 to ${MAX_REASON_CHARS} characters, ${value.length} given`,
    );
  }
  return value;
};
