import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** What the Lambda runtime knows about the function it runs. */
export interface FunctionIdentity {
  functionName: string;
  partition: string;
  region: string;
  accountId: string;
  memoryLimitInMB: number;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * One log stream per execution environment, named as Lambda names them:
 * `2024/05/01/[$LATEST]0123456789abcdef0123456789abcdef`. Each poller plays one environment.
 */
export function createLogStreamName(now: Date = new Date()): string {
  const day = `${now.getUTCFullYear()}/${pad(now.getUTCMonth() + 1)}/${pad(now.getUTCDate())}`;
  return `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
}

const deprecated = (name: string) => (): never => {
  // The Node.js runtimes for async handlers ignore these; failing loudly finds the misuse here
  // rather than in AWS, where the callback-era API no longer exists from nodejs24.x on.
  throw new TypeError(
    `context.${name}() is not supported by the local event source mapping: return (or throw) from the async handler instead`,
  );
};

/**
 * The `Context` of one invocation. `getRemainingTimeInMillis()` counts down to `deadline`
 * (invocation start + function timeout), never below 0.
 *
 * @example
 * const context = createLambdaContext(identity, logStreamName, Date.now() + 30_000);
 */
export function createLambdaContext(
  identity: FunctionIdentity,
  logStreamName: string,
  deadline: number,
  awsRequestId: string = randomUUID(),
): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: identity.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:${identity.partition}:lambda:${identity.region}:${identity.accountId}:function:${identity.functionName}`,
    memoryLimitInMB: String(identity.memoryLimitInMB),
    awsRequestId,
    logGroupName: `/aws/lambda/${identity.functionName}`,
    logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: deprecated('done'),
    fail: deprecated('fail'),
    succeed: deprecated('succeed'),
  };
}
