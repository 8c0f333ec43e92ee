import { GetQueueAttributesCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { StackHost } from './stack-host/index.js';

/**
 * Dummy credentials, as the local stack's (`LOCAL_CREDENTIALS`; not imported from there because
 * that module loads fauxqs, and with it node:sqlite, into this thread).
 */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** An SQS client for the host's fauxqs (sent to its address, whatever the queue URL's host). */
export const sqsClientFor = (host: Pick<StackHost, 'region' | 'env'>): SQSClient =>
  new SQSClient({
    region: host.region,
    credentials: LOCAL_CREDENTIALS,
    endpoint: host.env.AWS_ENDPOINT_URL_SQS,
    useQueueUrlAsEndpoint: false,
  });

/** SendMessageBatch's limit. */
const ENTRIES_PER_CALL = 10;

/**
 * Sends every body, 10 per `SendMessageBatch`, `concurrency` calls at a time, in order.
 *
 * @throws {Error} naming the entries SQS refused.
 */
export const sendAll = async (
  sqs: SQSClient,
  queueUrl: string,
  bodies: readonly string[],
  options: { concurrency: number; onSent?: (count: number) => void },
): Promise<void> => {
  let next = 0;
  const sender = async () => {
    while (next < bodies.length) {
      const first = next;
      next += ENTRIES_PER_CALL;
      const entries = bodies
        .slice(first, first + ENTRIES_PER_CALL)
        .map((body, i) => ({ Id: String(i), MessageBody: body }));
      const { Failed } = await sqs.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
      );
      if (Failed && Failed.length > 0) {
        throw new Error(
          `SendMessageBatch refused ${Failed.length} entries: ${Failed.map((f) => `${f.Code}: ${f.Message}`).join('; ')}`,
        );
      }
      options.onSent?.(entries.length);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, sender));
};

export interface QueueDepth {
  visible: number;
  inFlight: number;
  delayed: number;
}

export const queueDepth = async (sqs: SQSClient, queueUrl: string): Promise<QueueDepth> => {
  const { Attributes: a = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return {
    visible: Number(a.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
  };
};

export const isEmpty = (depth: QueueDepth): boolean =>
  depth.visible === 0 && depth.inFlight === 0 && depth.delayed === 0;

/**
 * Sets the host's worker environment on `process.env` for as long as a scenario runs: the SDK
 * reads `AWS_ENDPOINT_URL_<SERVICE>` and the credentials from there. Returns the undo.
 */
export const useEnvironment = (env: Record<string, string>): (() => void) => {
  const previous = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  return () => {
    for (const [key, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
};
