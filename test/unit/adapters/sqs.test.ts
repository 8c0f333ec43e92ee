import {
  ChangeMessageVisibilityBatchCommand,
  SendMessageBatchCommand,
  SQSClient,
  SQSServiceException,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  SEND_MESSAGE_BATCH_MAX_BYTES,
  SqsMessageQueue,
  toSqsAttribute,
} from '../../../src/adapters/sqs.js';
import type { DeadLetterCopy, VisibilityChange } from '../../../src/worker/ports.js';

const sqs = mockClient(SQSClient);

const DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/revocations-dlq';
const QUEUE_A = 'https://sqs.us-east-1.amazonaws.com/123456789012/revocations';
const QUEUE_B = 'https://sqs.us-east-1.amazonaws.com/123456789012/revocations-priority';

const queue = () =>
  new SqsMessageQueue({
    clientConfig: { region: 'us-east-1' },
    deadLetterQueueUrl: DLQ_URL,
  });

const copy = (n: number): DeadLetterCopy => ({
  id: `msg-${n}`,
  body: `{"eventId":"evt-${n}"}`,
  attributes: { 'revoker.outcome': { dataType: 'String', stringValue: 'FAILED' } },
});

const change = (n: number, queueUrl = QUEUE_A): VisibilityChange => ({
  id: `msg-${n}`,
  queueUrl,
  receiptHandle: `rh-${n}`,
  visibilityTimeoutSeconds: 30 + n,
});

const signal = new AbortController().signal;

/** Every entry of a batch call succeeds. */
const allSucceed = (input: { Entries?: { Id?: string }[] }) => ({
  Successful: (input.Entries ?? []).map(({ Id }) => ({ Id })),
  Failed: [],
});

describe('toSqsAttribute', () => {
  it('turns a Lambda string attribute into the SDK shape', () => {
    expect(toSqsAttribute({ dataType: 'String', stringValue: 'acme' })).toEqual({
      DataType: 'String',
      StringValue: 'acme',
    });
  });

  it('decodes a base64 binary attribute into bytes', () => {
    const value = toSqsAttribute({ dataType: 'Binary', binaryValue: 'AAEC/w==' });
    expect(value.DataType).toBe('Binary');
    expect(value.BinaryValue).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(value).not.toHaveProperty('StringValue');
  });
});

describe('SqsMessageQueue.sendToDeadLetterQueue', () => {
  beforeEach(() => {
    sqs.reset();
  });

  it('sends the copies to the dead-letter queue in batches of at most 10', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).callsFake(allSucceed);
    const copies = Array.from({ length: 23 }, (_, n) => copy(n));
    // Act
    const results = await queue().sendToDeadLetterQueue(copies, signal);
    // Assess
    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([10, 10, 3]);
    expect(calls.every((c) => c.args[0].input.QueueUrl === DLQ_URL)).toBe(true);
    expect(calls.map((c) => c.args[0].input.Entries?.[0]?.MessageBody)).toEqual([
      '{"eventId":"evt-0"}',
      '{"eventId":"evt-10"}',
      '{"eventId":"evt-20"}',
    ]);
    expect(results).toHaveLength(23);
    expect(results.every((result) => result.ok)).toBe(true);
  });

  it('splits copies whose total passes the batch payload limit into several calls, results in input order', async () => {
    // Prepare: copies of about 100 KB each; two fit under 256 KiB, with the attributes
    sqs
      .on(SendMessageBatchCommand)
      .callsFakeOnce(allSucceed)
      .callsFakeOnce(() => ({
        Successful: [{ Id: 'm1' }],
        Failed: [{ Id: 'm0', Code: 'InternalError', Message: 'try again', SenderFault: false }],
      }))
      .callsFake(allSucceed);
    const big = (n: number): DeadLetterCopy => ({
      ...copy(n),
      body: `{"pad":"${'x'.repeat(100_000)}","n":${n}}`,
    });
    const copies = Array.from({ length: 5 }, (_, n) => big(n));
    // Act
    const results = await queue().sendToDeadLetterQueue(copies, signal);
    // Assess
    const calls = sqs.commandCalls(SendMessageBatchCommand);
    const sizes = calls.map((c) =>
      (c.args[0].input.Entries ?? []).reduce(
        (total, e) =>
          total +
          Buffer.byteLength(e.MessageBody ?? '') +
          Object.entries(e.MessageAttributes ?? {}).reduce(
            (sum, [name, value]) =>
              sum +
              Buffer.byteLength(name) +
              Buffer.byteLength(value.DataType ?? '') +
              Buffer.byteLength(value.StringValue ?? ''),
            0,
          ),
        0,
      ),
    );
    expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([2, 2, 1]);
    expect(sizes.every((size) => size <= SEND_MESSAGE_BATCH_MAX_BYTES)).toBe(true);
    expect(calls.flatMap((c) => c.args[0].input.Entries?.map((e) => e.MessageBody))).toEqual(
      copies.map((c) => c.body),
    );
    expect(results).toEqual([
      { ok: true },
      { ok: true },
      { ok: false, code: 'InternalError', message: 'try again' },
      { ok: true },
      { ok: true },
    ]);
  });

  it('sends a copy that alone passes the batch payload limit by itself, and its neighbours apart', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(allSucceed);
    const huge: DeadLetterCopy = { ...copy(1), body: 'x'.repeat(SEND_MESSAGE_BATCH_MAX_BYTES + 1) };
    const results = await queue().sendToDeadLetterQueue([copy(0), huge, copy(2)], signal);
    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([1, 1, 1]);
    expect(results).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
  });

  it('converts the attributes of each copy, binary values to bytes', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).callsFake(allSucceed);
    const withBinary: DeadLetterCopy = {
      id: 'msg-b',
      body: '{}',
      attributes: {
        tenant: { dataType: 'String', stringValue: 'acme' },
        signature: {
          dataType: 'Binary.sha256',
          binaryValue: Buffer.from('sig').toString('base64'),
        },
        'revoker.receiveCount': { dataType: 'Number', stringValue: '6' },
      },
    };
    // Act
    await queue().sendToDeadLetterQueue([withBinary], signal);
    // Assess
    const entry = sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry).toEqual({
      Id: 'm0',
      MessageBody: '{}',
      MessageAttributes: {
        tenant: { DataType: 'String', StringValue: 'acme' },
        signature: { DataType: 'Binary.sha256', BinaryValue: Buffer.from('sig') },
        'revoker.receiveCount': { DataType: 'Number', StringValue: '6' },
      },
    });
  });

  it('maps Failed entries back to the right copy, in input order, across batches', async () => {
    // Prepare: in the second batch (copies 10–11), the SDK lists the failure before the success
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: Array.from({ length: 10 }, (_, n) => ({ Id: `m${n}` })).filter(
          ({ Id }) => Id !== 'm3',
        ) as never,
        Failed: [
          { Id: 'm3', Code: 'InvalidParameterValue', Message: 'bad attribute', SenderFault: true },
        ],
      })
      .resolvesOnce({
        Failed: [{ Id: 'm1', Code: 'InternalError', Message: 'try again', SenderFault: false }],
        Successful: [{ Id: 'm0' } as never],
      });
    const copies = Array.from({ length: 12 }, (_, n) => copy(n));
    // Act
    const results = await queue().sendToDeadLetterQueue(copies, signal);
    // Assess
    expect(results[3]).toEqual({
      ok: false,
      code: 'InvalidParameterValue',
      message: 'bad attribute',
    });
    expect(results[11]).toEqual({ ok: false, code: 'InternalError', message: 'try again' });
    expect(results.filter((result) => !result.ok)).toHaveLength(2);
  });

  it('reports an entry SQS gave no result for as Missing', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: 'm0' } as never], Failed: [] });
    const results = await queue().sendToDeadLetterQueue([copy(0), copy(1)], signal);
    expect(results[0]).toEqual({ ok: true });
    expect(results[1]).toMatchObject({ ok: false, code: 'Missing' });
  });

  it('reports every entry as Missing when SQS returns neither Successful nor Failed', async () => {
    sqs.on(SendMessageBatchCommand).resolves({} as never);
    const results = await queue().sendToDeadLetterQueue([copy(0)], signal);
    expect(results).toEqual([
      { ok: false, code: 'Missing', message: 'SendMessageBatch returned no result for the entry' },
    ]);
  });

  it('sends nothing for no copies', async () => {
    expect(await queue().sendToDeadLetterQueue([], signal)).toEqual([]);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it("reports a failed call's entries as failed with the service's code, never throwing", async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).rejects(
      new SQSServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        message: 'Access to the resource is denied.',
        $metadata: { httpStatusCode: 403, requestId: 'req-sqs' },
      }),
    );
    // Act
    const results = await queue().sendToDeadLetterQueue([copy(0), copy(1)], signal);
    // Assess
    expect(results).toEqual([
      {
        ok: false,
        code: 'AccessDenied',
        message: 'SendMessageBatch failed: Access to the resource is denied.',
      },
      {
        ok: false,
        code: 'AccessDenied',
        message: 'SendMessageBatch failed: Access to the resource is denied.',
      },
    ]);
  });

  it('when one group of 10 fails, reports only its entries as failed, so the sent copies are not sent twice', async () => {
    // Prepare
    let call = 0;
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => {
      call += 1;
      if (call === 2) {
        throw new SQSServiceException({
          name: 'RequestThrottled',
          $fault: 'client',
          message: 'slow down',
          $metadata: { httpStatusCode: 400 },
        });
      }
      return { Successful: input.Entries.map((entry) => ({ Id: entry.Id })), Failed: [] };
    });
    // Act
    const results = await queue().sendToDeadLetterQueue(
      Array.from({ length: 15 }, (_, n) => copy(n)),
      signal,
    );
    // Assess
    expect(results.filter((result) => result.ok)).toHaveLength(10);
    expect(results.slice(10)).toEqual(
      Array.from({ length: 5 }, () => ({
        ok: false,
        code: 'RequestThrottled',
        message: 'SendMessageBatch failed: slow down',
      })),
    );
  });

  it('passes the abort signal to every call', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(allSucceed);
    await queue().sendToDeadLetterQueue([copy(0)], signal);
    // The mock types `args` as the command alone; the SDK passes the options second.
    const args = sqs.commandCalls(SendMessageBatchCommand)[0]?.args as unknown[] | undefined;
    expect(args?.[1]).toEqual({ abortSignal: signal });
  });
});

describe('SqsMessageQueue.changeVisibility', () => {
  beforeEach(() => {
    sqs.reset();
  });

  it('groups the changes per queue, one batch call per queue, each entry with its receipt handle and timeout', async () => {
    // Prepare
    sqs.on(ChangeMessageVisibilityBatchCommand).callsFake(allSucceed);
    const changes = [change(0, QUEUE_A), change(1, QUEUE_B), change(2, QUEUE_A)];
    // Act
    const results = await queue().changeVisibility(changes, signal);
    // Assess
    expect(results).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    const inputs = sqs
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .map((c) => c.args[0].input);
    expect(inputs).toEqual([
      {
        QueueUrl: QUEUE_A,
        Entries: [
          { Id: 'm0', ReceiptHandle: 'rh-0', VisibilityTimeout: 30 },
          { Id: 'm1', ReceiptHandle: 'rh-2', VisibilityTimeout: 32 },
        ],
      },
      {
        QueueUrl: QUEUE_B,
        Entries: [{ Id: 'm0', ReceiptHandle: 'rh-1', VisibilityTimeout: 31 }],
      },
    ]);
  });

  it('splits more than 10 changes for one queue into batches of 10', async () => {
    sqs.on(ChangeMessageVisibilityBatchCommand).callsFake(allSucceed);
    const results = await queue().changeVisibility(
      Array.from({ length: 15 }, (_, n) => change(n)),
      signal,
    );
    const sizes = sqs
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .map((c) => c.args[0].input.Entries?.length);
    expect(sizes).toEqual([10, 5]);
    expect(results).toHaveLength(15);
  });

  it('maps Failed entries back to their change, in input order, across queues', async () => {
    // Prepare
    sqs
      .on(ChangeMessageVisibilityBatchCommand, { QueueUrl: QUEUE_A })
      .resolves({
        Successful: [{ Id: 'm0' }],
        Failed: [
          { Id: 'm1', Code: 'ReceiptHandleIsInvalid', Message: 'expired', SenderFault: true },
        ],
      })
      .on(ChangeMessageVisibilityBatchCommand, { QueueUrl: QUEUE_B })
      .resolves({ Successful: [{ Id: 'm0' }], Failed: [] });
    // Act
    const results = await queue().changeVisibility(
      [change(0, QUEUE_A), change(1, QUEUE_B), change(2, QUEUE_A)],
      signal,
    );
    // Assess
    expect(results).toEqual([
      { ok: true },
      { ok: true },
      { ok: false, code: 'ReceiptHandleIsInvalid', message: 'expired' },
    ]);
  });

  it('reports every change of a queue whose whole call failed as failed, and still changes the other queues', async () => {
    // Prepare
    sqs
      .on(ChangeMessageVisibilityBatchCommand, { QueueUrl: QUEUE_A })
      .rejects(
        new SQSServiceException({
          name: 'QueueDoesNotExist',
          $fault: 'client',
          message: 'The specified queue does not exist.',
          $metadata: { httpStatusCode: 400 },
        }),
      )
      .on(ChangeMessageVisibilityBatchCommand, { QueueUrl: QUEUE_B })
      .callsFake(allSucceed);
    // Act
    const results = await queue().changeVisibility(
      [change(0, QUEUE_A), change(1, QUEUE_B), change(2, QUEUE_A)],
      signal,
    );
    // Assess
    expect(results[1]).toEqual({ ok: true });
    for (const failed of [results[0], results[2]]) {
      expect(failed).toEqual({
        ok: false,
        code: 'Error',
        message: 'ChangeMessageVisibilityBatch failed: The specified queue does not exist.',
      });
    }
  });

  it('reports a change SQS gave no result for as Missing', async () => {
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({} as never);
    const [result] = await queue().changeVisibility([change(0)], signal);
    expect(result).toMatchObject({ ok: false, code: 'Missing' });
  });

  it('changes nothing for no changes', async () => {
    expect(await queue().changeVisibility([], signal)).toEqual([]);
    expect(sqs.commandCalls(ChangeMessageVisibilityBatchCommand)).toHaveLength(0);
  });
});
