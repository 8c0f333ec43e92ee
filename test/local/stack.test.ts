import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DescribeDataSharesForConsumerCommand,
  DisassociateDataShareConsumerCommand,
  RedshiftClient,
} from '@aws-sdk/client-redshift';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import {
  dynamoDbClientFor,
  type LocalStack,
  localClientConfig,
  sqsClientFor,
  startLocalStack,
} from '../../src/local/stack.js';

const EXAMPLES = new URL('../../examples/datashares.json', import.meta.url).pathname;
const SALES_DAILY =
  'arn:aws:redshift:us-east-1:444455556666:datashare:8a6b2c1e-3f4d-4e5a-9b7c-0d1e2f3a4b5c/sales_daily';
const PROVISIONED_NS =
  'arn:aws:redshift:us-east-1:111122223333:namespace:2f9c6e7a-1b3d-4c5e-8f9a-0b1c2d3e4f5a';

/** Network handles (servers, sockets) open right now. */
const networkHandles = () =>
  process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap' || r === 'TCPSocketWrap')
    .length;

// Runs first, while no other stack holds sockets that could close in the middle of a count.
describe('local stack lifecycle', () => {
  it('stop() closes every server and socket it opened', async () => {
    // Prepare
    const before = networkHandles();
    const other = await startLocalStack({ datashares: EXAMPLES });
    const client = sqsClientFor(other);
    await client.send(new GetQueueAttributesCommand({ QueueUrl: other.queues.source.url }));
    const running = networkHandles();
    client.destroy();

    // Act
    await other.stop();
    await new Promise((resolve) => setTimeout(resolve, 20));

    // Assess: four servers (fauxqs, dynalite, two emulators) while running, nothing after
    expect(running).toBeGreaterThanOrEqual(before + 4);
    expect(networkHandles()).toBe(before);
  });

  it('startLocalStack without Dynamo leaves the idempotency variables out', async () => {
    // Act
    const lean = await startLocalStack({ withDynamo: false });
    await lean.stop();

    // Assess
    expect(lean.env.IDEMPOTENCY_TABLE_NAME).toBeUndefined();
    expect(lean.env.AWS_ENDPOINT_URL_DYNAMODB).toBeUndefined();
    expect(lean.idempotencyTable).toBeUndefined();
    expect(() => dynamoDbClientFor(lean)).toThrow(/withDynamo/);
  });
});

describe('local stack', () => {
  let stack: LocalStack;
  let sqs: SQSClient;

  beforeAll(async () => {
    stack = await startLocalStack({ maxReceiveCount: 2, datashares: EXAMPLES, seed: 5 });
    sqs = sqsClientFor(stack);
  });

  afterAll(async () => {
    sqs.destroy();
    await stack.stop();
  });

  it('gives the worker an environment that src/config.ts accepts', () => {
    // Act
    const config = loadConfig(stack.env);

    // Assess
    expect(config).toMatchObject({
      region: 'us-east-1',
      auditEventBusName: 'revoker-audit',
      deadLetterQueueUrl: stack.queues.deadLetter.url,
      idempotencyTableName: 'revoker-idempotency',
      maxReceiveCount: 2,
    });
    expect(stack.env.AWS_ENDPOINT_URL_REDSHIFT).toBe(stack.redshift.endpoint);
    expect(stack.env.AWS_ENDPOINT_URL_EVENTBRIDGE).toBe(stack.eventBridge.endpoint);
    expect(stack.env.AWS_ENDPOINT_URL_DYNAMODB).toBe(stack.endpoints.dynamoDb);
  });

  it('moves a message received more than maxReceiveCount times to the DLQ', async () => {
    // Prepare
    await sqs.send(
      new SendMessageCommand({ QueueUrl: stack.queues.source.url, MessageBody: '{"n":1}' }),
    );

    // Act: receive and "fail" (visibility 0 puts it straight back) until it is gone
    const receiveCounts: string[] = [];
    for (let i = 0; i < stack.maxReceiveCount + 2; i++) {
      const { Messages } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: stack.queues.source.url,
          VisibilityTimeout: 0,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      const count = Messages?.[0]?.Attributes?.ApproximateReceiveCount;
      if (count) receiveCounts.push(count);
    }
    const { Messages: dead } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack.queues.deadLetter.url }),
    );

    // Assess
    expect(receiveCounts).toEqual(['1', '2']);
    expect(dead?.map((m) => m.Body)).toEqual(['{"n":1}']);
  });

  it('sets the RedrivePolicy of the source queue to the DLQ ARN', async () => {
    // Act
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.queues.source.url,
        AttributeNames: ['RedrivePolicy', 'VisibilityTimeout'],
      }),
    );

    // Assess
    const policy = JSON.parse(Attributes?.RedrivePolicy ?? '{}') as Record<string, unknown>;
    expect(policy.deadLetterTargetArn).toBe(stack.queues.deadLetter.arn);
    expect(Number(policy.maxReceiveCount)).toBe(2);
    expect(Attributes?.VisibilityTimeout).toBe('30');
  });

  it('queue URLs resolve even for an SQS client that sends to the queue URL host', async () => {
    // Prepare
    const plain = new SQSClient({
      ...localClientConfig(stack),
      logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    });

    // Act
    const { Attributes } = await plain.send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.queues.source.url,
        AttributeNames: ['QueueArn'],
      }),
    );
    plain.destroy();

    // Assess
    expect(Attributes?.QueueArn).toBe(stack.queues.source.arn);
  });

  it('the idempotency table accepts a conditional put once and refuses the duplicate', async () => {
    // Prepare
    const dynamo = dynamoDbClientFor(stack);
    const put = new PutItemCommand({
      TableName: stack.idempotencyTable?.name,
      Item: { id: { S: 'revocation#1' }, expiration: { N: '4102444800' } },
      ConditionExpression: 'attribute_not_exists(id)',
    });

    // Act
    await dynamo.send(put);
    const duplicate = await dynamo.send(put).catch((error: unknown) => error);
    dynamo.destroy();

    // Assess
    expect(duplicate).toBeInstanceOf(ConditionalCheckFailedException);
  });

  it('the idempotency table takes a TransactWriteItems through the fault proxy: all its claims, then none of a conflicting one', async () => {
    // Prepare
    const dynamo = dynamoDbClientFor(stack);
    const TableName = stack.idempotencyTable?.name;
    const claims = (ids: string[]) =>
      new TransactWriteItemsCommand({
        TransactItems: ids.map((id) => ({
          Update: {
            TableName,
            Key: { id: { S: id } },
            UpdateExpression: 'SET #owner = :owner',
            ConditionExpression: 'attribute_not_exists(id)',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':owner': { S: ids.join('+') } },
          },
        })),
      });
    const owner = async (id: string) =>
      (await dynamo.send(new GetItemCommand({ TableName, Key: { id: { S: id } } }))).Item?.owner?.S;

    // Act
    await dynamo.send(claims(['tx#1', 'tx#2']));
    const conflicting = await dynamo
      .send(claims(['tx#3', 'tx#2']))
      .catch((error: unknown) => error);
    const owners = [await owner('tx#1'), await owner('tx#2'), await owner('tx#3')];
    dynamo.destroy();

    // Assess
    expect(conflicting).toBeInstanceOf(TransactionCanceledException);
    expect(owners).toEqual(['tx#1+tx#2', 'tx#1+tx#2', undefined]);
    expect(stack.dynamoDbProxy?.stats().byOperation.TransactWriteItems?.forwarded).toBe(2);
  });

  it('serves the seeded Redshift datashares and the audit bus to SDK clients from env endpoints', async () => {
    // Prepare
    const redshift = new RedshiftClient({
      ...localClientConfig(stack),
      endpoint: stack.env.AWS_ENDPOINT_URL_REDSHIFT,
    });
    const events = new EventBridgeClient({
      ...localClientConfig(stack),
      endpoint: stack.env.AWS_ENDPOINT_URL_EVENTBRIDGE,
    });

    // Act
    await redshift.send(
      new DisassociateDataShareConsumerCommand({
        DataShareArn: SALES_DAILY,
        ConsumerArn: PROVISIONED_NS,
      }),
    );
    const consumer = await redshift.send(
      new DescribeDataSharesForConsumerCommand({ ConsumerArn: PROVISIONED_NS, Status: 'ACTIVE' }),
    );
    const out = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: stack.env.AUDIT_EVENT_BUS_NAME,
            Source: 'governance.datashare-revoker',
            DetailType: 'DatashareConsumerRevoked',
            Detail: JSON.stringify({ dataShareArn: SALES_DAILY }),
          },
        ],
      }),
    );
    redshift.destroy();
    events.destroy();

    // Assess
    expect(consumer.DataShares?.map((s) => s.DataShareArn)).not.toContain(SALES_DAILY);
    expect(out.FailedEntryCount).toBe(0);
    expect(stack.eventBridge.eventsOn('revoker-audit')).toHaveLength(1);
  });
});

describe('local stack with accounts', () => {
  const ACCOUNTS = new URL('../../examples/accounts.json', import.meta.url).pathname;
  const SPOKE_ROLE = 'arn:aws:iam::222233334444:role/datashare-revoker-spoke';
  const SPOKE_NS =
    'arn:aws:redshift:us-east-1:222233334444:namespace:5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d';
  let multi: LocalStack;

  beforeAll(async () => {
    multi = await startLocalStack({
      withDynamo: false,
      accounts: ACCOUNTS,
      datashares: new URL('../../examples/datashares-multi-account.json', import.meta.url).pathname,
    });
  });

  afterAll(async () => {
    await multi.stop();
  });

  it('an SDK client configured only by AWS_ENDPOINT_URL_STS assumes a spoke role, and Redshift acts in that account', async () => {
    // Prepare: the STS client gets its endpoint from the environment alone
    const saved = process.env.AWS_ENDPOINT_URL_STS;
    process.env.AWS_ENDPOINT_URL_STS = multi.env.AWS_ENDPOINT_URL_STS;
    const stsClient = new STSClient({ ...localClientConfig(multi), maxAttempts: 1 });

    // Act
    let credentials: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string };
    try {
      const out = await stsClient.send(
        new AssumeRoleCommand({
          RoleArn: SPOKE_ROLE,
          RoleSessionName: 'stack-test',
          ExternalId: 'datashare-revoker',
        }),
      );
      credentials = out.Credentials ?? {};
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_STS;
      else process.env.AWS_ENDPOINT_URL_STS = saved;
      stsClient.destroy();
    }
    const redshift = new RedshiftClient({
      region: multi.region,
      endpoint: multi.env.AWS_ENDPOINT_URL_REDSHIFT,
      credentials: {
        accessKeyId: credentials.AccessKeyId ?? '',
        secretAccessKey: credentials.SecretAccessKey ?? '',
        sessionToken: credentials.SessionToken ?? '',
      },
      maxAttempts: 1,
    });
    await redshift.send(
      new DisassociateDataShareConsumerCommand({
        DataShareArn: SALES_DAILY,
        ConsumerArn: SPOKE_NS,
      }),
    );
    redshift.destroy();

    // Assess
    expect(multi.endpoints.sts).toBe(multi.sts.endpoint);
    expect(multi.redshift.visibility).toBe('caller');
    expect(multi.sts.assumeRoleCount(SPOKE_ROLE)).toBe(1);
    expect(multi.redshift.calls[0]).toMatchObject({
      callerAccountId: '222233334444',
      roleArn: SPOKE_ROLE,
      outcome: 'ok',
    });
  });

  it('without accounts the stack knows only the worker account, with no roles, and the single-account view', async () => {
    // Act
    const lean = await startLocalStack({ withDynamo: false });
    await lean.stop();

    // Assess
    expect(lean.sts.roles()).toEqual([]);
    expect(lean.sts.hubAccountId).toBe('111122223333');
    expect(lean.redshift.visibility).toBe('all');
    expect(lean.env.AWS_ENDPOINT_URL_STS).toBe(lean.sts.endpoint);
  });
});
