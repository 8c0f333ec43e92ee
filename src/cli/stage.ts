import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { StageError, toCliError, UsageError } from './errors.js';

/** The service name of serverless.yml: a stage's stack is `<service>-<stage>`. */
export const SERVICE_NAME = 'datashare-revoker';

/** The stack outputs the CLI reads (infra/outputs.yml declares them). */
export const StackOutput = {
  SourceQueueUrl: 'SourceQueueUrl',
  SourceQueueArn: 'SourceQueueArn',
  DeadLetterQueueUrl: 'DeadLetterQueueUrl',
  IdempotencyTableName: 'IdempotencyTableName',
  AuditEventBusName: 'AuditEventBusName',
  AuditEventSource: 'AuditEventSource',
  AuditLogGroupName: 'AuditLogGroupName',
  AlarmTopicArn: 'AlarmTopicArn',
  RevokerRoleArn: 'RevokerRoleArn',
  WorkerFunctionName: 'WorkerFunctionName',
  WorkerFunctionArn: 'WorkerFunctionArn',
} as const;
export type StackOutput = (typeof StackOutput)[keyof typeof StackOutput];

/** A stage resolved to its stack's outputs. */
export interface ResolvedStage {
  stage: string;
  stackName: string;
  outputs: Readonly<Record<string, string>>;
}

// Serverless stage names: letters, digits and hyphens (they end up in resource names).
const STAGE_NAME = /^[A-Za-z0-9-]{1,64}$/;

/** Checks a `--stage` / `REVOKER_STAGE` value. */
export const parseStage = (value: string, source = '--stage'): string => {
  if (!STAGE_NAME.test(value)) {
    throw new UsageError(
      `${source} must be 1 to 64 letters, digits or hyphens (a serverless stage), '${value}' given`,
    );
  }
  return value;
};

/** `datashare-revoker-<stage>`, as serverless names the stack. */
export const stackNameOf = (stage: string): string => `${SERVICE_NAME}-${stage}`;

/**
 * Reads a stage's stack outputs with CloudFormation `DescribeStacks`.
 *
 * @throws {StageError} exit 2 when the stack does not exist (or is being deleted).
 * @throws {CliError} for credentials, access or network failures.
 */
export const resolveStage = async (
  cloudFormation: CloudFormationClient,
  stage: string,
  region: string | undefined,
  signal?: AbortSignal,
): Promise<ResolvedStage> => {
  const stackName = stackNameOf(stage);
  const where = `in ${region ?? 'the default region'} (--stage ${stage})`;
  let stack: { Outputs?: { OutputKey?: string; OutputValue?: string }[]; StackStatus?: string };
  try {
    const output = await cloudFormation.send(
      new DescribeStacksCommand({ StackName: stackName }),
      signal ? { abortSignal: signal } : {},
    );
    const found = output.Stacks?.[0];
    if (!found) throw new StageError(`stack ${stackName} not found ${where}`, { stage, stackName });
    stack = found;
  } catch (error) {
    const e = error as { name?: string; message?: string };
    // CloudFormation answers an unknown stack with a 400 ValidationError "... does not exist".
    if (e.name === 'ValidationError' && /does not exist/.test(e.message ?? '')) {
      throw new StageError(
        `stack ${stackName} not found ${where}: check --stage, --region and --profile, or deploy it (docs/deploy.md)`,
        { stage, stackName },
        { cause: error },
      );
    }
    throw toCliError(error, 'DescribeStacks', stackName, 'CloudFormation');
  }
  if (stack.StackStatus === 'DELETE_COMPLETE' || stack.StackStatus === 'DELETE_IN_PROGRESS') {
    throw new StageError(`stack ${stackName} is ${stack.StackStatus} ${where}`, {
      stage,
      stackName,
    });
  }
  const outputs: Record<string, string> = {};
  for (const o of stack.Outputs ?? []) {
    if (o.OutputKey && o.OutputValue !== undefined) outputs[o.OutputKey] = o.OutputValue;
  }
  return { stage, stackName, outputs };
};

/**
 * An output a command cannot do without.
 *
 * @throws {StageError} exit 2, naming the output and the flag that could replace it.
 */
export const requireOutput = (
  resolved: ResolvedStage,
  output: StackOutput,
  flag: string,
): string => {
  const value = resolved.outputs[output];
  if (value === undefined || value === '') {
    throw new StageError(
      `stack ${resolved.stackName} has no output ${output} (needed for ${flag}): redeploy the stage with the current infra/outputs.yml, or give ${flag}`,
      { stage: resolved.stage, stackName: resolved.stackName },
    );
  }
  return value;
};
