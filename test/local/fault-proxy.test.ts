/**
 * The fault proxies in front of dynalite and fauxqs, checked with the real SDK clients: each
 * injected fault must look to the SDK (and to the worker's classification) as it would from AWS,
 * and a lost answer must really have taken effect upstream.
 */
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { isThrottlingError, isTransientError } from '@smithy/core/retry';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { classifyAwsError, type SdkErrorShape } from '../../src/core/classify.js';
import { startFaultProxy } from '../../src/local/fault-proxy/index.js';
import {
  directSqsClientFor,
  dynamoDbClientFor,
  type LocalStack,
  localClientConfig,
  sqsClientFor,
  startLocalStack,
} from '../../src/local/stack.js';

/** What a call threw (the test fails if it did not throw). */
const failureOf = async (call: Promise<unknown>): Promise<SdkErrorShape & Error> => {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error as SdkErrorShape & Error,
  );
  if (outcome === undefined) throw new Error('expected the call to fail, it succeeded');
  return outcome;
};

/** The SDK's view (its retry strategy's own tests) and the worker's view of an error. */
const classified = (error: SdkErrorShape & Error) => ({
  name: error.name,
  status: error.$metadata?.httpStatusCode,
  fault: error.$fault,
  sdkThrottle: isThrottlingError(error as never),
  sdkTransient: isTransientError(error as never),
  worker: classifyAwsError(error).kind,
});

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ seed: 42 });
});

afterAll(async () => {
  await stack.stop();
});

describe('fault proxy in front of DynamoDB (dynalite)', () => {
  let dynamo: DynamoDBClient;
  let direct: DynamoDBClient;
  let table: string;
  let n = 0;
  const put = (id: string) =>
    new PutItemCommand({ TableName: table, Item: { id: { S: id }, expiration: { N: '1' } } });
  const stored = async (id: string): Promise<boolean> => {
    const { Item } = await direct.send(
      new GetItemCommand({ TableName: table, Key: { id: { S: id } } }),
    );
    return Item !== undefined;
  };
  const nextId = () => `fault-proxy#${++n}`;

  beforeAll(() => {
    dynamo = dynamoDbClientFor(stack, { maxAttempts: 1 });
    direct = dynamoDbClientFor(stack, { endpoint: stack.endpoints.dynamoDbDirect });
    table = stack.idempotencyTable?.name ?? '';
  });

  afterEach(() => stack.dynamoDbProxy?.reset());

  afterAll(() => {
    dynamo.destroy();
    direct.destroy();
  });

  it('forwards calls untouched when no fault is set', async () => {
    // Prepare
    const id = nextId();

    // Act
    await dynamo.send(put(id));

    // Assess
    expect(await stored(id)).toBe(true);
    expect(stack.dynamoDbProxy?.stats().byOperation.PutItem).toMatchObject({
      calls: 1,
      forwarded: 1,
      injected: 0,
    });
  });

  it('answers a throttle as ThrottlingException (HTTP 400), which the SDK and the worker classify as throttling, and the item is not written', async () => {
    // Prepare
    const id = nextId();
    stack.dynamoDbProxy?.setFaults({ failNext: [{ kind: 'throttle' }] });

    // Act
    const error = await failureOf(dynamo.send(put(id)));

    // Assess
    expect(classified(error)).toMatchObject({
      name: 'ThrottlingException',
      status: 400,
      fault: 'client',
      sdkThrottle: true,
      worker: 'throttled',
    });
    expect(await stored(id)).toBe(false);
    expect(stack.dynamoDbProxy?.stats().all.byKind.throttle).toBe(1);
  });

  it('answers ProvisionedThroughputExceededException when a targeted throttle names that code', async () => {
    // Prepare
    stack.dynamoDbProxy?.setFaults({
      failNext: [{ kind: 'throttle', code: 'ProvisionedThroughputExceededException' }],
    });

    // Act
    const error = await failureOf(dynamo.send(put(nextId())));

    // Assess
    expect(classified(error)).toMatchObject({
      name: 'ProvisionedThroughputExceededException',
      sdkThrottle: true,
      worker: 'throttled',
    });
  });

  it('answers error and unavailable as 500 InternalServerError and 503 ServiceUnavailable, server faults the SDK would retry', async () => {
    // Prepare
    stack.dynamoDbProxy?.setFaults({
      failNext: [{ kind: 'error' }, { kind: 'unavailable' }],
    });

    // Act
    const internal = await failureOf(dynamo.send(put(nextId())));
    const unavailable = await failureOf(dynamo.send(put(nextId())));

    // Assess
    expect(classified(internal)).toMatchObject({
      name: 'InternalServerError',
      status: 500,
      fault: 'server',
      sdkThrottle: false,
      sdkTransient: true,
      worker: 'transient',
    });
    expect(classified(unavailable)).toMatchObject({
      name: 'ServiceUnavailable',
      status: 503,
      fault: 'server',
      sdkTransient: true,
      worker: 'transient',
    });
  });

  it('resets the connection: the SDK sees ECONNRESET, a transient network error', async () => {
    // Prepare
    stack.dynamoDbProxy?.setFaults({ failNext: [{ kind: 'reset' }] });

    // Act
    const error = await failureOf(dynamo.send(put(nextId())));

    // Assess
    expect((error as { code?: string }).code).toBe('ECONNRESET');
    expect(classified(error)).toMatchObject({ sdkTransient: true, worker: 'transient' });
  });

  it('hangs until the client gives up: the SDK times out, and the item is not written', async () => {
    // Prepare
    const id = nextId();
    const impatient = dynamoDbClientFor(stack, {
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ requestTimeout: 150, throwOnRequestTimeout: true }),
    });
    stack.dynamoDbProxy?.setFaults({ failNext: [{ kind: 'hang' }] });

    // Act
    const error = await failureOf(impatient.send(put(id)));
    impatient.destroy();

    // Assess
    expect(error.name).toBe('TimeoutError');
    expect(classified(error).worker).toBe('transient');
    expect(await stored(id)).toBe(false);
  });

  it('adds latencyMs before answering, only to the operations it names', async () => {
    // Prepare
    stack.dynamoDbProxy?.setFaults({ latencyMs: { ms: 150, operations: ['PutItem'] } });

    // Act
    const started = performance.now();
    await dynamo.send(put(nextId()));
    const slow = performance.now() - started;
    const again = performance.now();
    await dynamo.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'absent' } } }));
    const fast = performance.now() - again;

    // Assess
    expect(slow).toBeGreaterThanOrEqual(145);
    expect(fast).toBeLessThan(145);
    expect(stack.dynamoDbProxy?.stats().byOperation.PutItem?.delayed).toBe(1);
  });

  it('a lost PutItem answer (when: after) fails the call with a 500, yet the item is in the table', async () => {
    // Prepare
    const id = nextId();
    stack.dynamoDbProxy?.setFaults({
      failNext: [{ kind: 'error', when: 'after', operations: ['PutItem'] }],
    });

    // Act
    const error = await failureOf(dynamo.send(put(id)));

    // Assess
    expect(classified(error)).toMatchObject({ name: 'InternalServerError', status: 500 });
    expect(await stored(id)).toBe(true);
    expect(stack.dynamoDbProxy?.stats().byOperation.PutItem).toMatchObject({
      calls: 1,
      forwarded: 1,
      injected: 1,
      byKind: { lostAnswer: 1, error: 0 },
    });
  });

  it('a lost answer shown as a reset leaves the conditional put applied: the retry meets ConditionalCheckFailed', async () => {
    // Prepare
    const id = nextId();
    const conditional = new PutItemCommand({
      TableName: table,
      Item: { id: { S: id } },
      ConditionExpression: 'attribute_not_exists(id)',
    });
    stack.dynamoDbProxy?.setFaults({ failNext: [{ kind: 'reset', when: 'after' }] });

    // Act
    const lost = await failureOf(dynamo.send(conditional));
    const retry = await failureOf(dynamo.send(conditional));

    // Assess
    expect((lost as { code?: string }).code).toBe('ECONNRESET');
    expect(retry.name).toBe('ConditionalCheckFailedException');
  });

  it('lostAnswerRate applies a share of calls and loses their answers: every item is stored, each failure is counted', async () => {
    // Prepare
    stack.dynamoDbProxy?.setFaults({ lostAnswerRate: 0.5, lostAs: 'error' });
    const ids = Array.from({ length: 20 }, nextId);

    // Act
    const outcomes = [];
    for (const id of ids)
      outcomes.push(
        await dynamo.send(put(id)).then(
          () => 'ok',
          () => 'lost',
        ),
      );

    // Assess
    const lost = outcomes.filter((o) => o === 'lost').length;
    expect(lost).toBeGreaterThan(0);
    expect(lost).toBeLessThan(ids.length);
    for (const id of ids) expect(await stored(id)).toBe(true);
    expect(stack.dynamoDbProxy?.stats().all.byKind.lostAnswer).toBe(lost);
  });

  it('a rate scoped to operations leaves the other operations alone', async () => {
    // Prepare
    stack.dynamoDbProxy?.setFaults({ throttleRate: { rate: 1, operations: ['PutItem'] } });

    // Act
    const throttled = await failureOf(dynamo.send(put(nextId())));
    const read = await dynamo.send(
      new GetItemCommand({ TableName: table, Key: { id: { S: 'absent' } } }),
    );

    // Assess
    expect(throttled.name).toBe('ThrottlingException');
    expect(read.Item).toBeUndefined();
    expect(stack.dynamoDbProxy?.stats().byOperation.GetItem?.injected).toBe(0);
  });

  it('a targeted fault with operations fires only on those operations, count times', async () => {
    // Prepare
    stack.dynamoDbProxy?.setFaults({
      failNext: [{ kind: 'throttle', operations: ['PutItem'], count: 2 }],
    });

    // Act
    await dynamo.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'absent' } } }));
    const first = await failureOf(dynamo.send(put(nextId())));
    const second = await failureOf(dynamo.send(put(nextId())));
    await dynamo.send(put(nextId()));

    // Assess
    expect([first.name, second.name]).toEqual(['ThrottlingException', 'ThrottlingException']);
    expect(stack.dynamoDbProxy?.faults.failNext).toEqual([]);
  });

  it('lists each injected fault with the item its call named', async () => {
    // Prepare
    const [refused, lost] = [nextId(), nextId()];
    stack.dynamoDbProxy?.setFaults({
      failNext: [
        { kind: 'unavailable', operations: ['PutItem'] },
        { kind: 'error', when: 'after', operations: ['PutItem'] },
      ],
    });

    // Act
    await failureOf(dynamo.send(put(refused)));
    await failureOf(dynamo.send(put(lost)));

    // Assess
    expect(stack.dynamoDbProxy?.injections()).toMatchObject([
      { seq: 1, operation: 'PutItem', kind: 'unavailable', key: refused },
      { seq: 2, operation: 'PutItem', kind: 'lostAnswer', key: lost },
    ]);
  });

  it('faults TransactWriteItems by its operation name: refused before, nothing written; lost after, every item written; each item journaled', async () => {
    // Prepare
    const [a, b, c, d] = [nextId(), nextId(), nextId(), nextId()];
    const transaction = (ids: string[]) =>
      new TransactWriteItemsCommand({
        TransactItems: ids.map((id) => ({
          Update: {
            TableName: table,
            Key: { id: { S: id } },
            UpdateExpression: 'SET expiration = :exp',
            ConditionExpression: 'attribute_not_exists(id)',
            ExpressionAttributeValues: { ':exp': { N: '1' } },
          },
        })),
      });
    stack.dynamoDbProxy?.setFaults({
      failNext: [
        { kind: 'throttle', operations: ['TransactWriteItems'] },
        { kind: 'error', when: 'after', operations: ['TransactWriteItems'] },
      ],
    });

    // Act
    await dynamo.send(put(d));
    const refused = await failureOf(dynamo.send(transaction([a, b])));
    const lost = await failureOf(dynamo.send(transaction([b, c])));
    const retry = await failureOf(dynamo.send(transaction([b, c])));

    // Assess
    expect(classified(refused)).toMatchObject({ name: 'ThrottlingException', worker: 'throttled' });
    expect(classified(lost)).toMatchObject({ name: 'InternalServerError', status: 500 });
    expect(retry.name).toBe('TransactionCanceledException');
    expect([await stored(a), await stored(b), await stored(c), await stored(d)]).toEqual([
      false,
      true,
      true,
      true,
    ]);
    expect(stack.dynamoDbProxy?.injections()).toMatchObject([
      { operation: 'TransactWriteItems', kind: 'throttle', key: a },
      { operation: 'TransactWriteItems', kind: 'throttle', key: b },
      { operation: 'TransactWriteItems', kind: 'lostAnswer', key: b },
      { operation: 'TransactWriteItems', kind: 'lostAnswer', key: c },
    ]);
    expect(stack.dynamoDbProxy?.stats().byOperation.TransactWriteItems).toMatchObject({
      calls: 3,
      forwarded: 2,
      injected: 2,
    });
  });
});

describe('fault proxy in front of SQS (fauxqs)', () => {
  let sqs: SQSClient;
  let direct: SQSClient;
  let queueUrl: string;

  const depth = async () => {
    const { Attributes = {} } = await direct.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(Attributes.ApproximateNumberOfMessages) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible)
    );
  };
  beforeAll(() => {
    sqs = sqsClientFor(stack, { maxAttempts: 1 });
    direct = directSqsClientFor(stack);
  });

  // A fresh queue per test: a message one test leaves in flight cannot blur the next one's count.
  let queues = 0;
  beforeEach(() => {
    const created = stack.fauxqs.createQueue(`fault-proxy-${++queues}`);
    queueUrl = `${stack.endpoints.sqsDirect}${new URL(created.queueUrl).pathname}`;
  });

  afterEach(() => stack.sqsProxy.reset());

  afterAll(() => {
    sqs.destroy();
    direct.destroy();
  });

  it('answers a throttle as RequestThrottled, which the SDK and the worker classify as throttling, and sends nothing', async () => {
    // Prepare
    stack.sqsProxy.setFaults({ throttleRate: 1 });

    // Act
    const error = await failureOf(
      sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'throttled' })),
    );

    // Assess
    expect(classified(error)).toMatchObject({
      name: 'RequestThrottled',
      fault: 'client',
      sdkThrottle: true,
      worker: 'throttled',
    });
    expect(await depth()).toBe(0);
  });

  it('answers error and unavailable as 500 InternalError and 503 ServiceUnavailable server faults', async () => {
    // Prepare
    stack.sqsProxy.setFaults({ failNext: [{ kind: 'error' }, { kind: 'unavailable' }] });
    const send = () => sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x' }));

    // Act
    const internal = await failureOf(send());
    const unavailable = await failureOf(send());

    // Assess
    expect(classified(internal)).toMatchObject({
      name: 'InternalError',
      status: 500,
      fault: 'server',
      sdkTransient: true,
      worker: 'transient',
    });
    expect(classified(unavailable)).toMatchObject({
      name: 'ServiceUnavailable',
      status: 503,
      fault: 'server',
      worker: 'transient',
    });
  });

  it('a lost SendMessage answer fails the call, yet the message is in the queue', async () => {
    // Prepare
    stack.sqsProxy.setFaults({
      failNext: [{ kind: 'error', when: 'after', operations: ['SendMessage'] }],
    });

    // Act
    const error = await failureOf(
      sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'sent-but-lost' })),
    );

    // Assess
    expect(error.name).toBe('InternalError');
    const { Messages = [] } = await direct.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }));
    expect(Messages.map((m) => m.Body)).toEqual(['sent-but-lost']);
    expect(stack.sqsProxy.stats().byOperation.SendMessage?.byKind.lostAnswer).toBe(1);
  });

  it('a lost SendMessageBatch answer shown as a reset leaves every entry in the queue', async () => {
    // Prepare
    stack.sqsProxy.setFaults({ failNext: [{ kind: 'reset', when: 'after' }] });

    // Act
    const error = await failureOf(
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: [
            { Id: 'a', MessageBody: 'a' },
            { Id: 'b', MessageBody: 'b' },
          ],
        }),
      ),
    );

    // Assess
    expect((error as { code?: string }).code).toBe('ECONNRESET');
    expect(await depth()).toBe(2);
  });

  it('a lost DeleteMessage answer fails the call, yet the message is gone', async () => {
    // Prepare
    await direct.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'to-delete' }));
    const { Messages = [] } = await direct.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }));
    stack.sqsProxy.setFaults({ failNext: [{ kind: 'error', when: 'after' }] });

    // Act
    const error = await failureOf(
      sqs.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: Messages[0]?.ReceiptHandle }),
      ),
    );

    // Assess
    expect(error.name).toBe('InternalError');
    expect(await depth()).toBe(0);
  });

  it('identifies an awsQuery form request by its Action and answers its fault in XML', async () => {
    // Prepare: fauxqs answers STS GetCallerIdentity in awsQuery
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const body = 'Action=GetCallerIdentity&Version=2011-06-15';
    stack.sqsProxy.setFaults({
      failNext: [{ kind: 'throttle', operations: ['GetCallerIdentity'] }],
    });

    // Act
    const throttled = await fetch(stack.endpoints.sqs, { method: 'POST', headers: form, body });
    const forwarded = await fetch(stack.endpoints.sqs, { method: 'POST', headers: form, body });

    // Assess
    expect(throttled.status).toBe(403);
    expect(await throttled.text()).toMatch(
      /<ErrorResponse><Error><Type>Sender<\/Type><Code>RequestThrottled<\/Code>/,
    );
    expect(forwarded.status).toBe(200);
    expect(await forwarded.text()).toContain('GetCallerIdentity');
    expect(stack.sqsProxy.stats().byOperation.GetCallerIdentity).toMatchObject({
      calls: 2,
      forwarded: 1,
      injected: 1,
    });
  });
});

describe('fault proxy admin routes and lifecycle', () => {
  it('POST /__proxy/faults sets faults at runtime and GET /__proxy/stats reports what was injected', async () => {
    // Prepare
    const sqs = sqsClientFor(stack, { maxAttempts: 1 });

    // Act
    const set = await fetch(`${stack.endpoints.sqs}/__proxy/faults`, {
      method: 'POST',
      body: JSON.stringify({
        failNext: [{ kind: 'unavailable', operations: ['GetQueueAttributes'] }],
      }),
    });
    const error = await failureOf(
      sqs.send(new GetQueueAttributesCommand({ QueueUrl: stack.queues.source.url })),
    );
    const stats = (await (await fetch(`${stack.endpoints.sqs}/__proxy/stats`)).json()) as {
      stats: { byOperation: Record<string, { byKind: Record<string, number> }> };
    };
    sqs.destroy();
    stack.sqsProxy.reset();

    // Assess
    expect(set.status).toBe(200);
    expect(error.name).toBe('ServiceUnavailable');
    expect(stats.stats.byOperation.GetQueueAttributes?.byKind.unavailable).toBe(1);
  });

  it('refuses an invalid faults patch with 400 naming the field, and keeps the faults it had', async () => {
    // Act
    const answer = await fetch(`${stack.endpoints.dynamoDb}/__proxy/faults`, {
      method: 'POST',
      body: JSON.stringify({ throttleRate: 2 }),
    });

    // Assess
    expect(answer.status).toBe(400);
    expect(((await answer.json()) as { error: string }).error).toMatch(/throttleRate/);
    expect(stack.dynamoDbProxy?.faults.throttleRate).toBe(0);
  });

  it('refuses rates that add up to more than 1', () => {
    expect(() => stack.sqsProxy.setFaults({ throttleRate: 0.6, lostAnswerRate: 0.6 })).toThrow(
      /must be <= 1, 1\.2 given/,
    );
  });

  it('stop() ends a hung call at once and refuses new ones', async () => {
    // Prepare
    const proxy = await startFaultProxy({
      service: 'dynamodb',
      upstream: stack.endpoints.dynamoDbDirect ?? '',
      faults: { hangRate: 1 },
    });
    const client = new DynamoDBClient({
      ...localClientConfig(stack),
      endpoint: proxy.endpoint,
      maxAttempts: 1,
    });
    const hung = failureOf(
      client.send(
        new GetItemCommand({ TableName: 'revoker-idempotency', Key: { id: { S: 'x' } } }),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));

    // Act
    const started = performance.now();
    await proxy.stop();
    const error = await hung;
    client.destroy();

    // Assess
    expect(performance.now() - started).toBeLessThan(1000);
    expect(classified(error).worker).toBe('transient');
    expect(proxy.stats().all.byKind.hang).toBe(1);
  });

  it('points the worker environment at the proxies and keeps the direct endpoints apart', () => {
    expect(stack.env.AWS_ENDPOINT_URL_SQS).toBe(stack.sqsProxy.endpoint);
    expect(stack.env.AWS_ENDPOINT_URL_DYNAMODB).toBe(stack.dynamoDbProxy?.endpoint);
    expect(stack.endpoints.sqsDirect).toBe(stack.fauxqs.address);
    expect(stack.sqsProxy.upstream).toBe(stack.endpoints.sqsDirect);
    expect(stack.dynamoDbProxy?.upstream).toBe(stack.endpoints.dynamoDbDirect);
  });
});
