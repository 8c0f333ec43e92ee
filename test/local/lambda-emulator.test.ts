import { setTimeout as delay } from 'node:timers/promises';
import {
  GetEventSourceMappingCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  EventSourceMappingNotFoundError,
  LambdaEventSourceSwitch,
} from '../../src/adapters/lambda-mapping.js';
import { AwsCallError } from '../../src/core/errors.js';
import { createEventSourceMapping } from '../../src/local/event-source-mapping.js';
import {
  functionNameMatches,
  type LambdaEmulator,
  MappingState,
  startLambdaEmulator,
} from '../../src/local/lambda-emulator/index.js';
import {
  directSqsClientFor,
  LOCAL_CREDENTIALS,
  type LocalStack,
  startLocalStack,
} from '../../src/local/stack.js';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:111122223333:function:revoker-test';
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:111122223333:revocations';
const OTHER_QUEUE_ARN = 'arn:aws:sqs:us-east-1:111122223333:other';

const clientOf = (endpoint: string) =>
  new LambdaClient({
    endpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });

describe('Lambda emulator: the event source mapping calls over REST-JSON', () => {
  let lambda: LambdaEmulator;
  let client: LambdaClient;

  beforeAll(async () => {
    lambda = await startLambdaEmulator({
      mappings: [
        { functionArn: FUNCTION_ARN, eventSourceArn: QUEUE_ARN, uuid: 'mapping-1' },
        { functionArn: FUNCTION_ARN, eventSourceArn: OTHER_QUEUE_ARN, uuid: 'mapping-2' },
        {
          functionArn: 'arn:aws:lambda:us-east-1:111122223333:function:someone-else',
          eventSourceArn: QUEUE_ARN,
          uuid: 'mapping-3',
        },
      ],
    });
    client = clientOf(lambda.endpoint);
  });
  afterEach(() => lambda.setFaults({ failNext: [], transitionMs: 0 }));
  afterAll(async () => {
    client.destroy();
    await lambda.stop();
  });

  it('lists the mappings of one function on one queue (FunctionName and EventSourceArn)', async () => {
    // Act
    const own = await client.send(
      new ListEventSourceMappingsCommand({
        FunctionName: 'revoker-test',
        EventSourceArn: QUEUE_ARN,
      }),
    );
    const byArn = await client.send(
      new ListEventSourceMappingsCommand({ FunctionName: FUNCTION_ARN }),
    );
    const page = await client.send(
      new ListEventSourceMappingsCommand({ FunctionName: 'revoker-test', MaxItems: 1 }),
    );
    const next = await client.send(
      new ListEventSourceMappingsCommand({
        FunctionName: 'revoker-test',
        MaxItems: 1,
        Marker: page.NextMarker,
      }),
    );

    // Assess
    expect(own.EventSourceMappings?.map((m) => m.UUID)).toEqual(['mapping-1']);
    expect(own.EventSourceMappings?.[0]).toMatchObject({
      FunctionArn: FUNCTION_ARN,
      EventSourceArn: QUEUE_ARN,
      State: 'Enabled',
      BatchSize: 10,
    });
    expect(own.EventSourceMappings?.[0]?.LastModified).toBeInstanceOf(Date);
    expect(byArn.EventSourceMappings?.map((m) => m.UUID)).toEqual(['mapping-1', 'mapping-2']);
    expect(page.EventSourceMappings?.map((m) => m.UUID)).toEqual(['mapping-1']);
    expect(page.NextMarker).toBeDefined();
    expect(next.EventSourceMappings?.map((m) => m.UUID)).toEqual(['mapping-2']);
    expect(next.NextMarker).toBeUndefined();
  });

  it('matches FunctionName as a name, an ARN, a partial ARN, with or without a qualifier', () => {
    expect(functionNameMatches('revoker-test', FUNCTION_ARN)).toBe(true);
    expect(functionNameMatches('revoker-test:live', FUNCTION_ARN)).toBe(true);
    expect(functionNameMatches(FUNCTION_ARN, FUNCTION_ARN)).toBe(true);
    expect(functionNameMatches(`${FUNCTION_ARN}:7`, FUNCTION_ARN)).toBe(true);
    expect(functionNameMatches('111122223333:function:revoker-test', FUNCTION_ARN)).toBe(true);
    expect(functionNameMatches('444455556666:function:revoker-test', FUNCTION_ARN)).toBe(false);
    expect(functionNameMatches('revoker', FUNCTION_ARN)).toBe(false);
  });

  it('disables a mapping: 202 Disabling at once, Disabled once settled; enabling reverses it', async () => {
    // Prepare
    lambda.setFaults({ transitionMs: 100 });

    // Act
    const answer = await client.send(
      new UpdateEventSourceMappingCommand({ UUID: 'mapping-2', Enabled: false }),
    );
    const refused = await client
      .send(new UpdateEventSourceMappingCommand({ UUID: 'mapping-2', Enabled: true }))
      .catch((error: unknown) => error);
    await lambda.waitForState('mapping-2', MappingState.Disabled, 5_000);
    const after = await client.send(new GetEventSourceMappingCommand({ UUID: 'mapping-2' }));
    await client.send(new UpdateEventSourceMappingCommand({ UUID: 'mapping-2', Enabled: true }));
    await lambda.waitForState('mapping-2', MappingState.Enabled, 5_000);

    // Assess
    expect(answer.$metadata.httpStatusCode).toBe(202);
    expect(answer.State).toBe('Disabling');
    expect(refused).toBeInstanceOf(ResourceInUseException);
    expect(after.State).toBe('Disabled');
    expect(after.StateTransitionReason).toBe('USER_INITIATED');
    expect(lambda.calls('UpdateEventSourceMapping').map((c) => c.input.Enabled)).toEqual([
      false,
      true,
      true,
    ]);
  });

  it('answers an unknown mapping ResourceNotFoundException and a bad Enabled a 400 naming it', async () => {
    const missing = await client
      .send(new GetEventSourceMappingCommand({ UUID: 'nope' }))
      .catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    const response = await fetch(`${lambda.endpoint}/2015-03-31/event-source-mappings/mapping-1`, {
      method: 'PUT',
      body: JSON.stringify({ Enabled: 'no' }),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('InvalidParameterValueException');
    expect(((await response.json()) as { Message: string }).Message).toBe(
      'Enabled must be a boolean; given "no"',
    );
  });

  it('injects faults: a throttle, and a lost answer whose update took effect', async () => {
    // Prepare
    lambda.setFaults({
      failNext: [
        { kind: 'throttle', operation: 'GetEventSourceMapping' },
        { kind: 'lostAnswer', operation: 'UpdateEventSourceMapping' },
      ],
    });

    // Act
    const throttled = (await client
      .send(new GetEventSourceMappingCommand({ UUID: 'mapping-3' }))
      .then(
        () => new Error('answered'),
        (error: unknown) => error,
      )) as Error;
    const lost = (await client
      .send(new UpdateEventSourceMappingCommand({ UUID: 'mapping-3', Enabled: false }))
      .then(
        () => new Error('answered'),
        (error: unknown) => error,
      )) as Error & { code?: string };
    await lambda.waitForState('mapping-3', MappingState.Disabled, 5_000);

    // Assess
    expect(throttled.name).toBe('TooManyRequestsException');
    expect(lost.code ?? lost.name).toMatch(/ECONNRESET|socket hang up|TimeoutError/);
    expect(lambda.mapping('mapping-3')?.state).toBe('Disabled');
  });
});

describe('the local event source mapping honours the Lambda API switch', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ withDynamo: false, visibilityTimeoutSeconds: 5 });
  });
  afterAll(() => stack.stop());

  it('disabled: stops receiving, the in-flight batch finishes; enabled: receives again', async () => {
    // Prepare
    const sqs = directSqsClientFor(stack);
    const client = clientOf(stack.endpoints.lambda);
    const received: string[] = [];
    let releaseFirst: () => void = () => undefined;
    const firstHeld = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    let firstStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => {
      firstStarted = resolve;
    });
    const mapping = createEventSourceMapping({
      sqs,
      queueUrl: stack.queues.source.url,
      queueArn: stack.queues.source.arn,
      accountId: stack.accountId,
      batchSize: 1,
      waitTimeSeconds: 1,
      functionTimeoutMs: 4_000,
      control: stack.lambda.controlOf(stack.workerMapping.uuid),
      handler: async (event) => {
        for (const record of event.Records) received.push(record.body);
        if (received.length === 1) {
          firstStarted();
          await firstHeld;
        }
        return { batchItemFailures: [] };
      },
    });
    const send = (bodies: string[]) =>
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: stack.queues.source.url,
          Entries: bodies.map((body, i) => ({ Id: `m${i}`, MessageBody: body })),
        }),
      );
    await mapping.start();
    await send(['first']);
    await started;

    // Act: disable while the first batch is in flight
    const UUID = stack.workerMapping.uuid;
    const listed = await client.send(
      new ListEventSourceMappingsCommand({
        FunctionName: stack.workerMapping.functionName,
        EventSourceArn: stack.queues.source.arn,
      }),
    );
    const answer = await client.send(new UpdateEventSourceMappingCommand({ UUID, Enabled: false }));
    const stateWhileInFlight = stack.lambda.mapping(UUID)?.state;
    releaseFirst();
    await stack.lambda.waitForState(UUID, MappingState.Disabled, 10_000);
    await delay(1_200); // let the aborted long poll end on fauxqs' side
    await send(['second', 'third']);
    await delay(2_500);
    const whileDisabled = [...received];
    await client.send(new UpdateEventSourceMappingCommand({ UUID, Enabled: true }));
    await stack.lambda.waitForState(UUID, MappingState.Enabled, 10_000);
    for (let i = 0; i < 50 && received.length < 3; i++) await delay(100);
    await mapping.stop();
    client.destroy();

    // Assess
    expect(listed.EventSourceMappings?.map((m) => m.UUID)).toEqual([UUID]);
    expect(answer.State).toBe('Disabling');
    expect(stateWhileInFlight).toBe('Disabling');
    expect(whileDisabled).toEqual(['first']);
    expect(mapping.stats.messagesDeleted).toBe(3);
    expect(received.sort()).toEqual(['first', 'second', 'third']);
  });
});

describe('LambdaEventSourceSwitch (the worker’s and the CLI’s adapter) against the emulator', () => {
  let lambda: LambdaEmulator;
  const target = { functionName: 'revoker-test', queueArn: QUEUE_ARN };
  const signal = () => AbortSignal.timeout(5_000);
  const switchFor = (endpoint: string) =>
    new LambdaEventSourceSwitch({
      endpoint,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });

  beforeAll(async () => {
    lambda = await startLambdaEmulator({
      mappings: [{ functionArn: FUNCTION_ARN, eventSourceArn: QUEUE_ARN, uuid: 'own' }],
    });
  });
  afterAll(() => lambda.stop());

  it('disables once: a second call (or a retry after a lost answer) changes nothing', async () => {
    // Prepare: the first update applies but its answer is lost
    const mappings = switchFor(lambda.endpoint);
    lambda.setFaults({ failNext: [{ kind: 'lostAnswer', operation: 'UpdateEventSourceMapping' }] });
    // Act
    const lost = await mappings.setEnabled(false, target, signal()).catch((e: unknown) => e);
    await lambda.waitForState('own', MappingState.Disabled, 5_000);
    const retried = await mappings.setEnabled(false, target, signal());
    // Assess
    expect(lost).toBeInstanceOf(AwsCallError);
    expect((lost as AwsCallError).kind).toBe('transient');
    expect(retried).toEqual({ mappings: [{ uuid: 'own', state: 'Disabled', changed: false }] });
    expect(lambda.calls('UpdateEventSourceMapping')).toHaveLength(1);
    await mappings.setEnabled(true, target, signal());
  });

  it('names the function and the queue when it has no mapping there', async () => {
    const error = await switchFor(lambda.endpoint)
      .setEnabled(false, { ...target, functionName: 'other' }, signal())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventSourceMappingNotFoundError);
    expect((error as Error).message).toBe(
      `No event source mapping of function other on ${QUEUE_ARN} (ListEventSourceMappings found none)`,
    );
  });

  it('classifies a throttle of the list as throttled (the caller retries later)', async () => {
    lambda.setFaults({ failNext: [{ kind: 'throttle', operation: 'ListEventSourceMappings' }] });
    const error = await switchFor(lambda.endpoint)
      .setEnabled(false, target, signal())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsCallError);
    expect((error as AwsCallError).code).toBe('TooManyRequestsException');
  });
});
