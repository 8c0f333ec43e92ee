import {
  GetQueueAttributesCommand,
  type QueueAttributeName,
  SQSClient,
  type SQSClientConfig,
} from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { toCliError } from './errors.js';

/** What every command accepts to reach SQS. */
export interface ConnectionOptions {
  region?: string;
  profile?: string;
  endpointUrl?: string;
}

/** Long polls last up to 20 s: a request may take that long before it is late. */
const REQUEST_TIMEOUT_MS = 30_000;

// sqs.<region>.amazonaws.com, sqs.<region>.amazonaws.com.cn, <region>.queue.amazonaws.com (legacy),
// and fauxqs' sqs.<region>.localhost.
const QUEUE_URL_REGION = /^(?:sqs\.([a-z0-9-]+)\.[^/]+|([a-z0-9-]+)\.queue\.amazonaws\.com)$/;

/** The region a queue URL names, if it names one. */
export const regionOfQueueUrl = (queueUrl: string): string | undefined => {
  let host: string;
  try {
    host = new URL(queueUrl).hostname;
  } catch {
    return undefined;
  }
  const match = QUEUE_URL_REGION.exec(host);
  return match?.[1] ?? match?.[2];
};

/**
 * Builds the SQS client for a command. The endpoint is `--endpoint-url`, else the SDK's own
 * `AWS_ENDPOINT_URL_SQS` (or `AWS_ENDPOINT_URL`). Whenever an endpoint is set the client is built
 * with `useQueueUrlAsEndpoint: false`: by default the SDK sends each call to the host of the queue
 * URL and ignores the endpoint, and an emulator's queue URL host may not even resolve (fauxqs:
 * `sqs.us-east-1.localhost`). Without `--region` the region comes from the queue URL, then from the
 * SDK's usual chain (AWS_REGION, the profile).
 */
export const createSqsClient = (
  options: ConnectionOptions & { queueUrl?: string },
  env: Readonly<Record<string, string | undefined>>,
  overrides: SQSClientConfig = {},
): SQSClient => {
  const endpoint = options.endpointUrl ?? env.AWS_ENDPOINT_URL_SQS ?? env.AWS_ENDPOINT_URL;
  const region =
    options.region ?? (options.queueUrl ? regionOfQueueUrl(options.queueUrl) : undefined);
  return new SQSClient({
    ...(region && { region }),
    ...(options.profile !== undefined && { profile: options.profile }),
    // Given explicitly even when it comes from the environment: the flag below depends on it.
    ...(endpoint && { endpoint, useQueueUrlAsEndpoint: false }),
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 5000,
      requestTimeout: REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    }),
    ...overrides,
  });
};

/**
 * Runs one SQS call; whatever it throws becomes a one-line CLI error naming the operation and queue.
 */
export const sqsCall = async <T>(
  operation: string,
  queueUrl: string,
  call: () => Promise<T>,
): Promise<T> => {
  try {
    return await call();
  } catch (error) {
    throw toCliError(error, operation, queueUrl);
  }
};

/** Reads queue attributes (QueueArn, ApproximateNumberOfMessages, ...). */
export const getQueueAttributes = async (
  sqs: SQSClient,
  queueUrl: string,
  names: QueueAttributeName[],
): Promise<Partial<Record<string, string>>> => {
  const output = await sqsCall('GetQueueAttributes', queueUrl, () =>
    sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: names })),
  );
  return output.Attributes ?? {};
};
