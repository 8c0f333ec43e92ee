import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type FauxqsServer, startFauxqs } from 'fauxqs';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BATCH_FAILURE_REASONS,
  type BatchFailureReason,
  type BatchReport,
  createEventSourceMapping,
  type EventSourceMapping,
  type EventSourceMappingError,
  type EventSourceMappingOptions,
  EventSourceMappingStateError,
  InvalidEventSourceMappingOptionError,
  MalformedMessageError,
  SqsOperationError,
  WaitForIdleTimeoutError,
} from '../../src/local/event-source-mapping.js';

// --- A real SQS emulator in-process, one queue per test -----------------------------------------

let server: FauxqsServer;
let sqs: SQSClient;
const mappings: EventSourceMapping[] = [];
const clients: SQSClient[] = [];
let queueCounter = 0;

// fauxqs' queue URLs name the host sqs.us-east-1.localhost, which does not resolve here: send every
// request to the emulator's address; it finds the queue by the URL's path.
const createClient = (): SQSClient => {
  const client = new SQSClient({
    endpoint: server.address,
    useQueueUrlAsEndpoint: false,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  clients.push(client);
  return client;
};

beforeAll(async () => {
  server = await startFauxqs({ port: 0, logger: false });
  sqs = createClient();
});

afterEach(async () => {
  await Promise.all(mappings.splice(0).map((mapping) => mapping.stop()));
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await server.stop();
});

interface TestQueue {
  url: string;
  arn: string;
}

async function createQueue(
  label: string,
  attributes: Record<string, string> = {},
): Promise<TestQueue> {
  queueCounter += 1;
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: `esm-${queueCounter}-${label}`,
      Attributes: { VisibilityTimeout: '2', ...attributes },
    }),
  );
  if (!QueueUrl) throw new Error('CreateQueue returned no QueueUrl');
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl, arn: Attributes?.QueueArn ?? '' };
}

async function sendBodies(queue: TestQueue, bodies: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < bodies.length; i += 10) {
    const { Successful = [] } = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: bodies
          .slice(i, i + 10)
          .map((body, j) => ({ Id: String(i + j), MessageBody: body })),
      }),
    );
    ids.push(...Successful.map((entry) => entry.MessageId ?? ''));
  }
  return ids;
}

async function depth(queue: TestQueue) {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queue.url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes?.ApproximateNumberOfMessages),
    notVisible: Number(Attributes?.ApproximateNumberOfMessagesNotVisible),
  };
}

async function startMapping(
  options: Partial<EventSourceMappingOptions> &
    Pick<EventSourceMappingOptions, 'queueUrl' | 'handler'>,
): Promise<EventSourceMapping> {
  const mapping = createEventSourceMapping({
    sqs,
    waitTimeSeconds: 1,
    functionTimeoutMs: 1000,
    ...options,
  });
  mappings.push(mapping);
  await mapping.start();
  return mapping;
}

/** Collects onBatch reports; `next()` waits for the n-th. */
function batchRecorder() {
  const reports: BatchReport[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  return {
    reports,
    onBatch: (report: BatchReport) => {
      reports.push(report);
      for (const waiter of waiters.filter((w) => reports.length >= w.count)) waiter.resolve();
    },
    async waitFor(count: number, timeoutMs = 5000): Promise<BatchReport[]> {
      if (reports.length < count) {
        await Promise.race([
          new Promise<void>((resolve) => waiters.push({ count, resolve })),
          delay(timeoutMs, undefined, { ref: false }).then(() => {
            throw new Error(`only ${reports.length}/${count} batches after ${timeoutMs} ms`);
          }),
        ]);
      }
      return reports;
    },
  };
}

/** Receives (and leaves in flight) every message currently visible. */
async function receiveAll(queue: TestQueue): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
      }),
    );
    if (Messages.length === 0) return ids;
    ids.push(...Messages.map((m) => m.MessageId ?? ''));
  }
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000) {
  const giveUpAt = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > giveUpAt) throw new Error(`condition not met within ${timeoutMs} ms`);
    await delay(20);
  }
}

const succeed = async (): Promise<SQSBatchResponse> => ({ batchItemFailures: [] });
const md5 = (text: string) => createHash('md5').update(text).digest('hex');

// --- Options ------------------------------------------------------------------------------------

describe('options', () => {
  it.each([
    [{ batchSize: 0 }, 'batchSize must be between 1 and 10000, 0 given'],
    [{ batchSize: 10_001 }, 'batchSize must be between 1 and 10000, 10001 given'],
    [{ batchSize: 2.5 }, 'batchSize must be an integer, 2.5 given'],
    [
      { batchSize: 11 },
      'maximumBatchingWindowInSeconds must be at least 1 when batchSize is greater than 10, 0 given',
    ],
    [
      { maximumBatchingWindowInSeconds: 301 },
      'maximumBatchingWindowInSeconds must be between 0 and 300, 301 given',
    ],
    [{ maximumConcurrency: 0 }, 'maximumConcurrency must be between 1 and 1000, 0 given'],
    [{ functionTimeoutMs: 0 }, 'functionTimeoutMs must be between 1 and 900000, 0 given'],
    [{ waitTimeSeconds: 21 }, 'waitTimeSeconds must be between 1 and 20, 21 given'],
    [
      { functionName: 'has space' },
      "functionName must be 1-64 letters, digits, hyphens or underscores, 'has space' given",
    ],
  ])(
    'rejects options Lambda would refuse, naming the option, the rule and the value: %j',
    (bad, message) => {
      // Act
      const create = () =>
        createEventSourceMapping({
          sqs,
          queueUrl: 'http://x/000000000000/q',
          handler: succeed,
          ...bad,
        });

      // Assess
      expect(create).toThrow(InvalidEventSourceMappingOptionError);
      expect(create).toThrow(message);
    },
  );

  it('refuses to start when the function timeout exceeds the queue visibility timeout, as Lambda does', async () => {
    // Prepare
    const queue = await createQueue('visibility', { VisibilityTimeout: '1' });
    const mapping = createEventSourceMapping({
      sqs,
      queueUrl: queue.url,
      handler: succeed,
      functionTimeoutMs: 1500,
    });

    // Act + Assess
    await expect(mapping.start()).rejects.toThrow(
      `functionTimeoutMs must not exceed the visibility timeout of ${queue.url} (1 s), 1500 given`,
    );
    expect(mapping.state).toBe('stopped');
  });

  it('refuses a batching window on a FIFO queue, as Lambda does', async () => {
    // Prepare
    const queue = await createQueue('ordered.fifo', { FifoQueue: 'true' });
    const mapping = createEventSourceMapping({
      sqs,
      queueUrl: queue.url,
      handler: succeed,
      functionTimeoutMs: 1000,
      maximumBatchingWindowInSeconds: 1,
    });

    // Act + Assess
    await expect(mapping.start()).rejects.toThrow(
      `maximumBatchingWindowInSeconds must be 0 for the FIFO queue ${queue.url}, 1 given`,
    );
  });

  it('refuses to start on a queue that does not exist, with the SQS error', async () => {
    // Prepare
    const mapping = createEventSourceMapping({
      sqs,
      queueUrl: `${server.address}/000000000000/no-such-queue`,
      handler: succeed,
    });

    // Act + Assess
    await expect(mapping.start()).rejects.toBeInstanceOf(SqsOperationError);
  });
});

// --- Deletion rules -----------------------------------------------------------------------------

describe('deletion', () => {
  it('deletes exactly the messages not reported as failures', async () => {
    // Prepare
    const queue = await createQueue('partial');
    const ids = await sendBodies(queue, ['ok-1', 'fail-1', 'ok-2', 'fail-2', 'ok-3']);
    const batches = batchRecorder();
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => ({
      batchItemFailures: event.Records.filter((r) => r.body.startsWith('fail')).map((r) => ({
        itemIdentifier: r.messageId,
      })),
    });

    // Act
    const mapping = await startMapping({ queueUrl: queue.url, handler, onBatch: batches.onBatch });
    await eventually(
      () => mapping.stats.recordsInvoked >= 5 && mapping.stats.inFlightBatches === 0,
    );
    await mapping.stop();

    // Assess
    const deleted = batches.reports.flatMap((r) => r.deletedMessageIds);
    const failed = batches.reports.flatMap((r) => r.failedMessageIds);
    expect(deleted.sort()).toEqual([ids[0], ids[2], ids[4]].sort());
    expect(failed.sort()).toEqual([ids[1], ids[3]].sort());
    expect(batches.reports.every((r) => r.outcome === 'partially-failed')).toBe(true);
    // The two failures stay in flight until their visibility timeout expires.
    expect(await depth(queue)).toEqual({ visible: 0, notVisible: 2 });
    expect(mapping.stats).toMatchObject({ messagesDeleted: 3, itemFailuresReported: 2 });
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['an empty object', {}],
    ['an empty batchItemFailures', { batchItemFailures: [] }],
    ['a null batchItemFailures', { batchItemFailures: null }],
  ])('treats %s as every record succeeded', async (_label, response) => {
    // Prepare
    const queue = await createQueue('success');
    await sendBodies(queue, ['a', 'b', 'c']);
    const batches = batchRecorder();

    // Act
    const mapping = await startMapping({
      queueUrl: queue.url,
      handler: async () => response as unknown as SQSBatchResponse,
      onBatch: batches.onBatch,
    });
    await eventually(() => mapping.stats.messagesDeleted === 3);

    // Assess
    expect(batches.reports.every((r) => r.outcome === 'succeeded')).toBe(true);
    expect(await depth(queue)).toEqual({ visible: 0, notVisible: 0 });
  });

  it('the handler gets a copy of the event: mutating it does not change what is deleted', async () => {
    // Prepare
    const queue = await createQueue('mutating');
    await sendBodies(queue, ['a', 'b']);
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      for (const record of event.Records) record.receiptHandle = 'scribbled';
      event.Records.length = 0;
      return { batchItemFailures: [] };
    };

    // Act
    const mapping = await startMapping({ queueUrl: queue.url, handler });
    await mapping.waitForIdle({ quietMs: 0 });

    // Assess
    expect(mapping.stats.messagesDeleted).toBe(2);
  });

  it('a reported failure comes back after the visibility timeout with ApproximateReceiveCount 2', async () => {
    // Prepare
    const queue = await createQueue('redelivery', { VisibilityTimeout: '1' });
    const [id] = await sendBodies(queue, ['retry-me']);
    const receives: Array<{ count: string; at: number }> = [];
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      const failures = [];
      for (const record of event.Records) {
        receives.push({ count: record.attributes.ApproximateReceiveCount, at: Date.now() });
        if (record.attributes.ApproximateReceiveCount === '1') {
          failures.push({ itemIdentifier: record.messageId });
        }
      }
      return { batchItemFailures: failures };
    };

    // Act
    const mapping = await startMapping({ queueUrl: queue.url, handler });
    await mapping.waitForIdle({ quietMs: 0, timeoutMs: 5000 });

    // Assess
    expect(receives.map((r) => r.count)).toEqual(['1', '2']);
    const [first, second] = receives;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(900);
    expect(mapping.stats).toMatchObject({ messagesDeleted: 1, itemFailuresReported: 1 });
    expect(id).toBeDefined();
  });

  it('after maxReceiveCount receives a failing message lands in the DLQ, by the queue redrive policy', async () => {
    // Prepare
    const dlq = await createQueue('dlq');
    const queue = await createQueue('redrive', {
      VisibilityTimeout: '1',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 }),
    });
    const [id] = await sendBodies(queue, ['poison']);
    const counts: string[] = [];
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      counts.push(...event.Records.map((r) => r.attributes.ApproximateReceiveCount));
      return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
    };

    // Act
    const mapping = await startMapping({ queueUrl: queue.url, handler });
    await mapping.waitForIdle({ quietMs: 0, timeoutMs: 6000 });

    // Assess
    expect(counts).toEqual(['1', '2']);
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlq.url, WaitTimeSeconds: 1 }),
    );
    expect(Messages.map((m) => [m.MessageId, m.Body])).toEqual([[id, 'poison']]);
    expect(mapping.stats.messagesDeleted).toBe(0);
  });
});

// --- Whole-batch failures -----------------------------------------------------------------------

type BadHandler = (event: SQSEvent) => Promise<unknown>;
const wholeBatchFailures: Array<[string, BatchFailureReason, BadHandler]> = [
  [
    'a throw',
    BATCH_FAILURE_REASONS.handlerError,
    async () => {
      throw new Error('downstream is down');
    },
  ],
  [
    'a rejected promise',
    BATCH_FAILURE_REASONS.handlerError,
    () => Promise.reject(new Error('nope')),
  ],
  [
    'an unknown itemIdentifier',
    BATCH_FAILURE_REASONS.invalidResponse,
    async () => ({ batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] }),
  ],
  [
    'an empty itemIdentifier',
    BATCH_FAILURE_REASONS.invalidResponse,
    async () => ({ batchItemFailures: [{ itemIdentifier: '' }] }),
  ],
  [
    'a missing itemIdentifier (wrong key name)',
    BATCH_FAILURE_REASONS.invalidResponse,
    async (event) => ({ batchItemFailures: [{ itemId: event.Records[0]?.messageId }] }),
  ],
  [
    'a batchItemFailures that is not an array',
    BATCH_FAILURE_REASONS.invalidResponse,
    async () => ({ batchItemFailures: 'all good' }),
  ],
  ['a response that is not an object', BATCH_FAILURE_REASONS.invalidResponse, async () => 'done'],
  [
    'a response that cannot be serialised to JSON',
    BATCH_FAILURE_REASONS.invalidResponse,
    async () => ({ batchItemFailures: [], count: 1n }),
  ],
  ['a timeout', BATCH_FAILURE_REASONS.timeout, () => delay(500).then(() => undefined)],
];

describe('whole-batch failures', () => {
  it.each(wholeBatchFailures)(
    '%s fails the whole batch: nothing is deleted',
    async (_label, reason, bad) => {
      // Prepare
      const queue = await createQueue('whole');
      const ids = await sendBodies(queue, ['m1', 'm2', 'm3']);
      const batches = batchRecorder();
      // One valid identifier alongside the bad one: Lambda still fails everything.
      const handler = async (event: SQSEvent) => (await bad(event)) as SQSBatchResponse;

      // Act
      const mapping = await startMapping({
        queueUrl: queue.url,
        handler,
        functionTimeoutMs: 200,
        onBatch: batches.onBatch,
      });
      const [report] = await batches.waitFor(1);
      await mapping.stop();

      // Assess
      expect(report?.outcome).toBe('failed');
      expect(report?.failure?.reason).toBe(reason);
      expect(report?.deletedMessageIds).toEqual([]);
      expect([...(report?.failedMessageIds ?? [])].sort()).toEqual([...ids].sort());
      expect(mapping.stats.batchFailures[reason]).toBe(1);
      expect(mapping.stats.messagesDeleted).toBe(0);
      expect(await depth(queue)).toEqual({ visible: 0, notVisible: 3 });
    },
  );

  it('a failure reported next to an invalid one still fails the whole batch', async () => {
    // Prepare
    const queue = await createQueue('mixed');
    await sendBodies(queue, ['m1', 'm2']);
    const batches = batchRecorder();
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => ({
      batchItemFailures: [
        { itemIdentifier: event.Records[0]?.messageId ?? '' },
        { itemIdentifier: '' },
      ],
    });

    // Act
    const mapping = await startMapping({ queueUrl: queue.url, handler, onBatch: batches.onBatch });
    const [report] = await batches.waitFor(1);
    await mapping.stop();

    // Assess
    expect(report?.failure?.message).toContain(
      'batchItemFailures[1].itemIdentifier must be a non-empty string',
    );
    expect(await depth(queue)).toEqual({ visible: 0, notVisible: 2 });
  });

  it('a timed-out handler keeps running after its batch is failed, and is counted until it settles', async () => {
    // Prepare
    const queue = await createQueue('runaway');
    await sendBodies(queue, ['slow']);
    let finished = false;
    const handler = async (): Promise<SQSBatchResponse> => {
      await delay(400);
      finished = true;
      return { batchItemFailures: [] };
    };
    const batches = batchRecorder();

    // Act
    const mapping = await startMapping({
      queueUrl: queue.url,
      handler,
      functionTimeoutMs: 100,
      onBatch: batches.onBatch,
    });
    await batches.waitFor(1);
    const during = mapping.stats.runawayInvocations;
    await mapping.stop();
    await eventually(() => finished);

    // Assess
    expect(during).toBe(1);
    expect(mapping.stats.runawayInvocations).toBe(0);
    expect(await depth(queue)).toEqual({ visible: 0, notVisible: 1 });
  });
});

// --- Event and context shape --------------------------------------------------------------------

describe('event and context', () => {
  it("records have Lambda's shape (attributes, messageAttributes, md5s, eventSourceARN, awsRegion)", async () => {
    // Prepare
    const queue = await createQueue('shape');
    const messageAttributes: Record<string, MessageAttributeValue> = {
      kind: { DataType: 'String', StringValue: 'revocation' },
      priority: { DataType: 'Number.int', StringValue: '5' },
      blob: { DataType: 'Binary', BinaryValue: Buffer.from('xyz') },
    };
    const sentAt = Date.now();
    const withAttributes = await sqs.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: '{"a":1}',
        MessageAttributes: messageAttributes,
      }),
    );
    const plain = await sqs.send(
      new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'plain' }),
    );
    const seen: SQSRecord[] = [];
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      seen.push(...event.Records);
      return { batchItemFailures: [] };
    };

    // Act
    const mapping = await startMapping({
      queueUrl: queue.url,
      handler,
      batchSize: 2,
      maximumBatchingWindowInSeconds: 1,
    });
    await mapping.waitForIdle({ quietMs: 0 });

    // Assess
    const attributesShape = {
      ApproximateReceiveCount: '1',
      SentTimestamp: expect.stringMatching(/^\d{13}$/),
      SenderId: expect.any(String),
      ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
    };
    const rich = seen.find((r) => r.messageId === withAttributes.MessageId);
    expect(rich).toStrictEqual({
      messageId: withAttributes.MessageId,
      receiptHandle: expect.any(String),
      body: '{"a":1}',
      attributes: attributesShape,
      messageAttributes: {
        kind: {
          stringValue: 'revocation',
          stringListValues: [],
          binaryListValues: [],
          dataType: 'String',
        },
        priority: {
          stringValue: '5',
          stringListValues: [],
          binaryListValues: [],
          dataType: 'Number.int',
        },
        blob: {
          binaryValue: Buffer.from('xyz').toString('base64'),
          stringListValues: [],
          binaryListValues: [],
          dataType: 'Binary',
        },
      },
      md5OfBody: md5('{"a":1}'),
      md5OfMessageAttributes: withAttributes.MD5OfMessageAttributes,
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: 'us-east-1',
    });
    expect(Number(rich?.attributes.SentTimestamp)).toBeGreaterThanOrEqual(sentAt - 1000);
    // No message attributes: an empty map and no md5OfMessageAttributes key at all.
    expect(seen.find((r) => r.messageId === plain.MessageId)).toStrictEqual({
      messageId: plain.MessageId,
      receiptHandle: expect.any(String),
      body: 'plain',
      attributes: attributesShape,
      messageAttributes: {},
      md5OfBody: md5('plain'),
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: 'us-east-1',
    });
  });

  it("invokes with Lambda's Context; getRemainingTimeInMillis counts down from the function timeout", async () => {
    // Prepare
    const queue = await createQueue('context');
    await sendBodies(queue, ['x']);
    let captured: Context | undefined;
    const remaining: number[] = [];
    let succeedError: unknown;
    const handler = async (_event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
      captured = context;
      remaining.push(context.getRemainingTimeInMillis());
      await delay(100);
      remaining.push(context.getRemainingTimeInMillis());
      try {
        context.succeed('legacy');
      } catch (error) {
        succeedError = error;
      }
      return { batchItemFailures: [] };
    };

    // Act
    const mapping = await startMapping({
      queueUrl: queue.url,
      handler,
      functionName: 'revoker-test',
      functionTimeoutMs: 2000,
      queueArn: queue.arn,
      region: 'us-east-1',
      memoryLimitInMB: 512,
    });
    await mapping.waitForIdle({ quietMs: 0 });

    // Assess
    expect(captured).toMatchObject({
      functionName: 'revoker-test',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:revoker-test',
      memoryLimitInMB: '512',
      awsRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      logGroupName: '/aws/lambda/revoker-test',
      logStreamName: expect.stringMatching(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/),
      callbackWaitsForEmptyEventLoop: true,
    });
    const [atStart = 0, later = 0] = remaining;
    expect(atStart).toBeLessThanOrEqual(2000);
    expect(atStart).toBeGreaterThan(1800);
    expect(atStart - later).toBeGreaterThanOrEqual(90);
    expect(succeedError).toBeInstanceOf(TypeError);
  });
});

// --- Batching and concurrency -------------------------------------------------------------------

describe('batching and concurrency', () => {
  it('a batching window assembles batches larger than one receive (up to batchSize)', async () => {
    // Prepare
    const queue = await createQueue('window');
    await sendBodies(
      queue,
      Array.from({ length: 25 }, (_, i) => `m${i}`),
    );
    const batches = batchRecorder();

    // Act
    const mapping = await startMapping({
      queueUrl: queue.url,
      handler: succeed,
      batchSize: 25,
      maximumBatchingWindowInSeconds: 1,
      onBatch: batches.onBatch,
    });
    await mapping.waitForIdle({ quietMs: 0 });

    // Assess
    expect(batches.reports.map((r) => r.messageIds.length)).toEqual([25]);
  });

  it('a batching window waits for more messages, then invokes with what it has when the window ends', async () => {
    // Prepare
    const queue = await createQueue('window-wait');
    const batches = batchRecorder();
    const mapping = await startMapping({
      queueUrl: queue.url,
      handler: succeed,
      batchSize: 100,
      maximumBatchingWindowInSeconds: 1,
      onBatch: batches.onBatch,
    });

    // Act
    const firstSentAt = Date.now();
    await sendBodies(queue, ['early']);
    await delay(300);
    await sendBodies(queue, ['late-1', 'late-2']);
    const [report] = await batches.waitFor(1);
    const invokedAfter = Date.now() - firstSentAt;

    // Assess
    expect(report?.messageIds).toHaveLength(3);
    expect(invokedAfter).toBeGreaterThanOrEqual(900);
    expect(invokedAfter).toBeLessThan(2500);
    await mapping.stop();
  });

  it('without a batching window each receive is invoked at once, never more than 10 records', async () => {
    // Prepare
    const queue = await createQueue('no-window');
    await sendBodies(
      queue,
      Array.from({ length: 25 }, (_, i) => `m${i}`),
    );
    const batches = batchRecorder();

    // Act
    const mapping = await startMapping({
      queueUrl: queue.url,
      handler: succeed,
      onBatch: batches.onBatch,
    });
    await mapping.waitForIdle({ quietMs: 0 });

    // Assess
    const sizes = batches.reports.map((r) => r.messageIds.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(25);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
  });

  it('maximumConcurrency N runs N batches at once, never more', async () => {
    // Prepare
    const queue = await createQueue('concurrency');
    await sendBodies(
      queue,
      Array.from({ length: 9 }, (_, i) => `m${i}`),
    );
    let active = 0;
    let maxActive = 0;
    const handler = async (): Promise<SQSBatchResponse> => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      await delay(200);
      active -= 1;
      return { batchItemFailures: [] };
    };

    // Act
    const mapping = await startMapping({
      queueUrl: queue.url,
      handler,
      batchSize: 1,
      maximumConcurrency: 3,
    });
    await mapping.waitForIdle({ quietMs: 0 });

    // Assess
    expect(maxActive).toBe(3);
    expect(mapping.stats).toMatchObject({ batchesInvoked: 9, messagesDeleted: 9 });
  });
});

// --- Lifecycle ----------------------------------------------------------------------------------

describe('lifecycle', () => {
  it('stop() is graceful: in-flight batches finish and are deleted, nothing is lost', async () => {
    // Prepare
    const queue = await createQueue('graceful', { VisibilityTimeout: '1' });
    const ids = await sendBodies(
      queue,
      Array.from({ length: 10 }, (_, i) => `m${i}`),
    );
    let started = 0;
    let completed = 0;
    let firstStarted: () => void = () => undefined;
    const firstStart = new Promise<void>((resolve) => {
      firstStarted = resolve;
    });
    const handler = async (): Promise<SQSBatchResponse> => {
      started += 1;
      firstStarted();
      await delay(300);
      completed += 1;
      return { batchItemFailures: [] };
    };
    const batches = batchRecorder();
    const mapping = await startMapping({
      queueUrl: queue.url,
      handler,
      batchSize: 2,
      maximumConcurrency: 2,
      onBatch: batches.onBatch,
    });

    // Act
    await firstStart;
    await mapping.stop();

    // Assess
    expect(completed).toBe(started);
    expect(mapping.stats.inFlightBatches).toBe(0);
    const deleted = batches.reports.flatMap((r) => r.deletedMessageIds);
    expect(deleted.length).toBe(started * 2);
    // Whatever was not processed is still in the queue. A receive cut short by the stop may hold
    // some in flight: once the visibility timeout expires, every one of them can be received.
    await delay(1100);
    const remaining = await receiveAll(queue);
    expect([...deleted, ...remaining].sort()).toEqual([...ids].sort());
  });

  it('stop() does not wait for an open long poll', async () => {
    // Prepare
    const queue = await createQueue('long-poll');
    const mapping = await startMapping({
      queueUrl: queue.url,
      handler: succeed,
      waitTimeSeconds: 20,
    });
    await delay(100);

    // Act
    const stopStartedAt = Date.now();
    await mapping.stop();

    // Assess
    expect(Date.now() - stopStartedAt).toBeLessThan(500);
    expect(mapping.state).toBe('stopped');
  });

  it('can be started again after stop(), and refuses start() while a stop is in progress', async () => {
    // Prepare
    const queue = await createQueue('restart');
    const mapping = await startMapping({ queueUrl: queue.url, handler: succeed });

    // Act
    const stopped = mapping.stop();
    const startDuringStop = mapping.start().catch((error: unknown) => error);
    await stopped;
    await sendBodies(queue, ['after-restart']);
    await mapping.start();
    await mapping.waitForIdle({ quietMs: 0 });

    // Assess
    expect(await startDuringStop).toBeInstanceOf(EventSourceMappingStateError);
    expect(mapping.state).toBe('running');
    expect(mapping.stats.messagesDeleted).toBe(1);
  });

  it('waitForIdle refuses to wait on a mapping that is not running', async () => {
    // Prepare
    const queue = await createQueue('not-running');
    const mapping = createEventSourceMapping({ sqs, queueUrl: queue.url, handler: succeed });

    // Act + Assess
    await expect(mapping.waitForIdle()).rejects.toThrow('waitForIdle() needs a running mapping');
  });

  it('waitForIdle resolves once the queue is drained and no batch is in flight', async () => {
    // Prepare
    const queue = await createQueue('idle');
    await sendBodies(
      queue,
      Array.from({ length: 20 }, (_, i) => `m${i}`),
    );
    const handler = async (): Promise<SQSBatchResponse> => {
      await delay(20);
      return { batchItemFailures: [] };
    };

    // Act
    const mapping = await startMapping({
      queueUrl: queue.url,
      handler,
      batchSize: 5,
      maximumConcurrency: 2,
    });
    await mapping.waitForIdle({ quietMs: 100, timeoutMs: 5000 });

    // Assess
    expect(mapping.stats).toMatchObject({ messagesDeleted: 20, inFlightBatches: 0 });
    expect(await depth(queue)).toEqual({ visible: 0, notVisible: 0 });
  });

  it('waitForIdle rejects with the last depth when a message keeps failing past its timeout', async () => {
    // Prepare
    const queue = await createQueue('never-idle', { VisibilityTimeout: '1' });
    await sendBodies(queue, ['stuck']);
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => ({
      batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })),
    });
    const mapping = await startMapping({ queueUrl: queue.url, handler });

    // Act
    const wait = mapping.waitForIdle({ quietMs: 0, timeoutMs: 800 });

    // Assess
    await expect(wait).rejects.toBeInstanceOf(WaitForIdleTimeoutError);
    await expect(wait).rejects.toThrow(/was not idle after 800 ms \(visible=\d+ notVisible=\d+/);
  });
});

// --- SQS failures -------------------------------------------------------------------------------

describe('SQS failures', () => {
  it('retries a transient ReceiveMessage failure with backoff; the poll loop survives', async () => {
    // Prepare: a client whose first two receives fail as an SQS 503 would.
    const queue = await createQueue('flaky-receive');
    await sendBodies(queue, ['survivor']);
    const client = createClient();
    let failuresLeft = 2;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ReceiveMessageCommand' && failuresLeft > 0) {
          failuresLeft -= 1;
          throw Object.assign(new Error('Service Unavailable'), {
            name: 'ServiceUnavailable',
            $fault: 'server',
            $metadata: { httpStatusCode: 503 },
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'injectReceiveFailures' },
    );
    const errors: EventSourceMappingError[] = [];

    // Act
    const mapping = await startMapping({
      sqs: client,
      queueUrl: queue.url,
      handler: succeed,
      retry: { baseDelayMs: 10, maxDelayMs: 50 },
      onError: (error) => errors.push(error),
    });
    await mapping.waitForIdle({ quietMs: 0 });

    // Assess
    expect(mapping.stats.sqsErrors.ReceiveMessage).toBe(2);
    expect(mapping.stats.messagesDeleted).toBe(1);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toBeInstanceOf(SqsOperationError);
    expect(errors[0]).toMatchObject({
      operation: 'ReceiveMessage',
      code: 'ServiceUnavailable',
      statusCode: 503,
      retryable: true,
    });
  });

  it('logs and counts a delete SQS refuses; that message stays in the queue', async () => {
    // Prepare: a client that reports the first entry of each DeleteMessageBatch as Failed.
    const queue = await createQueue('refused-delete');
    const ids = await sendBodies(queue, ['a', 'b']);
    const client = createClient();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'DeleteMessageBatchCommand') return next(args);
        const input = args.input as { Entries: Array<{ Id: string }> };
        const [refused, ...rest] = input.Entries;
        const result = await next({ ...args, input: { ...input, Entries: rest } } as typeof args);
        const output = result.output as { Failed?: unknown[] };
        output.Failed = [
          {
            Id: refused?.Id,
            Code: 'ReceiptHandleIsInvalid',
            SenderFault: true,
            Message: 'expired',
          },
        ];
        return result;
      },
      { step: 'initialize', name: 'refuseFirstDelete' },
    );
    const lines: Array<{ level: number; msg: string; code?: string }> = [];
    const logger = pino(
      { level: 'warn' },
      { write: (line: string) => lines.push(JSON.parse(line)) },
    );
    const batches = batchRecorder();

    // Act
    const mapping = await startMapping({
      sqs: client,
      queueUrl: queue.url,
      handler: succeed,
      logger,
      onBatch: batches.onBatch,
    });
    const [report] = await batches.waitFor(1);
    await mapping.stop();

    // Assess
    expect(report?.deleteFailures).toHaveLength(1);
    expect(report?.deleteFailures[0]).toMatchObject({
      code: 'ReceiptHandleIsInvalid',
      retryable: false,
    });
    const refusedId = report?.deleteFailures[0]?.messageIds[0];
    expect(ids).toContain(refusedId);
    expect(report?.deletedMessageIds).toEqual(ids.filter((id) => id !== refusedId));
    expect(mapping.stats).toMatchObject({ deleteFailures: 1, messagesDeleted: 1 });
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 50,
        code: 'ReceiptHandleIsInvalid',
        msg: expect.stringContaining(refusedId ?? '?'),
      }),
    );
    expect(await depth(queue)).toEqual({ visible: 0, notVisible: 1 });
  });

  it('retries a transient DeleteMessageBatch failure; the messages are still deleted', async () => {
    // Prepare: the first delete fails as a throttled call would.
    const queue = await createQueue('flaky-delete');
    await sendBodies(queue, ['a', 'b', 'c']);
    const client = createClient();
    let failuresLeft = 1;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'DeleteMessageBatchCommand' && failuresLeft > 0) {
          failuresLeft -= 1;
          throw Object.assign(new Error('Rate exceeded'), {
            name: 'ThrottlingException',
            $metadata: { httpStatusCode: 400 },
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'throttleFirstDelete' },
    );
    const batches = batchRecorder();

    // Act
    const mapping = await startMapping({
      sqs: client,
      queueUrl: queue.url,
      handler: succeed,
      retry: { baseDelayMs: 10 },
      onBatch: batches.onBatch,
    });
    await mapping.waitForIdle({ quietMs: 0 });

    // Assess
    expect(failuresLeft).toBe(0);
    expect(batches.reports.flatMap((r) => r.deleteFailures)).toEqual([]);
    expect(mapping.stats).toMatchObject({ messagesDeleted: 3, deleteFailures: 0 });
    expect(await depth(queue)).toEqual({ visible: 0, notVisible: 0 });
  });

  it('reports a message SQS returns without a required attribute and leaves it in the queue', async () => {
    // Prepare: strip SenderId from the first received message.
    const queue = await createQueue('malformed');
    const [brokenId] = await sendBodies(queue, ['broken']);
    const client = createClient();
    let stripped = false;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === 'ReceiveMessageCommand' && !stripped) {
          const output = result.output as {
            Messages?: Array<{ Attributes?: Record<string, string> }>;
          };
          const attributes = output.Messages?.[0]?.Attributes;
          if (attributes) {
            delete attributes.SenderId;
            stripped = true;
          }
        }
        return result;
      },
      { step: 'initialize', name: 'stripSenderId' },
    );
    const errors: EventSourceMappingError[] = [];
    const invoked: string[] = [];
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      invoked.push(...event.Records.map((r) => r.messageId));
      return { batchItemFailures: [] };
    };

    // Act
    const mapping = await startMapping({
      sqs: client,
      queueUrl: queue.url,
      handler,
      onError: (error) => errors.push(error),
    });
    await eventually(() => errors.length > 0);
    await mapping.stop();

    // Assess
    expect(errors[0]).toBeInstanceOf(MalformedMessageError);
    expect(errors[0]).toMatchObject({ messageId: brokenId, missing: ['Attributes.SenderId'] });
    expect(invoked).toEqual([]);
    expect(mapping.stats.malformedMessages).toBe(1);
    expect(await depth(queue)).toEqual({ visible: 0, notVisible: 1 });
  });
});
