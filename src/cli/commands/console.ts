import type { AwsClientFactory } from '../aws-clients.js';
import type { CommandContext } from '../context.js';
import { CliError, ExitCode } from '../errors.js';

/**
 * The client factory of the console commands (status, trace, report). The runner always sets
 * it; only a hand-built context can lack it.
 *
 * @throws {CliError} when the context has no client factory.
 */
export const requireAws = (context: CommandContext): AwsClientFactory => {
  if (!context.aws) {
    throw new CliError(
      'this command needs AWS clients beyond SQS (context.aws)',
      ExitCode.Unusable,
    );
  }
  return context.aws;
};
