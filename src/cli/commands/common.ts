import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import type { CommandContext, Confirm } from '../context.js';
import { UsageError } from '../errors.js';
import type { IdentityResolver } from '../identity.js';
import type { Output } from '../output.js';
import type { Sleep } from '../rate.js';
import type { ConnectionOptions } from '../sqs.js';

/** Flags every command has. */
export interface CommonFlags {
  region?: string;
  endpointUrl?: string;
  json?: boolean;
}

/** Adds `--region`, `--endpoint-url` and `--json` to a command. */
export const commonOptions = (command: Command): Command =>
  command
    .option(
      '--region <region>',
      'AWS region (default: from the queue URL, then AWS_REGION/profile)',
    )
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

/** What the runner needs from the process; index.ts passes the real one, tests their own. */
export interface RunnerEnvironment {
  env: Readonly<Record<string, string | undefined>>;
  output: (json: boolean) => Output;
  confirm: Confirm;
  identity: IdentityResolver;
  createSqs: (options: ConnectionOptions & { queueUrl?: string }) => SQSClient;
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
    const sqs = environment.createSqs({
      ...(flags.region !== undefined && { region: flags.region }),
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
