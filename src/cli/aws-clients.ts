import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** How a command reaches AWS: `--region`, `--profile` (else the SDK's usual chain). */
export interface AwsConnection {
  region?: string;
  profile?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** A CLI call answers in seconds or not at all: no call may hang the operator's terminal. */
const REQUEST_TIMEOUT_MS = 15_000;

/**
 * The settings every CLI client shares: region and profile when given, a request timeout that
 * throws, and the endpoint from `AWS_ENDPOINT_URL_<SERVICE>` / `AWS_ENDPOINT_URL` read from the
 * CLI's environment (the SDK would read `process.env`; the CLI is given its env explicitly).
 */
const settings = (connection: AwsConnection, env: Env, endpointVariable: string) => {
  const endpoint = env[endpointVariable] ?? env.AWS_ENDPOINT_URL;
  return {
    ...(connection.region !== undefined && { region: connection.region }),
    ...(connection.profile !== undefined && { profile: connection.profile }),
    ...(endpoint !== undefined && endpoint !== '' && { endpoint }),
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 5000,
      requestTimeout: REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    }),
  };
};

/** Builds the clients of the console commands (status, trace, report, stage resolution). */
export interface AwsClientFactory {
  cloudFormation(connection: AwsConnection): CloudFormationClient;
  logs(connection: AwsConnection): CloudWatchLogsClient;
  cloudWatch(connection: AwsConnection): CloudWatchClient;
  dynamoDb(connection: AwsConnection): DynamoDBClient;
  lambda(connection: AwsConnection): LambdaClient;
}

/**
 * The real clients. Each is made by the command that needs it and destroyed when it ends.
 *
 * @example
 * const logs = awsClients(process.env).logs({ region: 'eu-west-1', profile: 'prod' });
 */
export const awsClients = (env: Env): AwsClientFactory => ({
  cloudFormation: (c) =>
    new CloudFormationClient(settings(c, env, 'AWS_ENDPOINT_URL_CLOUDFORMATION')),
  logs: (c) => new CloudWatchLogsClient(settings(c, env, 'AWS_ENDPOINT_URL_CLOUDWATCH_LOGS')),
  cloudWatch: (c) => new CloudWatchClient(settings(c, env, 'AWS_ENDPOINT_URL_CLOUDWATCH')),
  dynamoDb: (c) => new DynamoDBClient(settings(c, env, 'AWS_ENDPOINT_URL_DYNAMODB')),
  lambda: (c) => new LambdaClient(settings(c, env, 'AWS_ENDPOINT_URL_LAMBDA')),
});
